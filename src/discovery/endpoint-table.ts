// The endpoint table of one configuration generation: authority `<service>.<ns>.svc.<cluster-domain>`
// and port → endpoints, every slice of a service merged; outbound takes the ready ones round-robin
// instead of DNS, and the later load balancer and mTLS origination read the same table.
import type { EndpointSliceSpec, Endpoint, ServiceSpec } from "./model.ts";
import { slicePortFor } from "./port-mapping.ts";

/** The endpoints of one authority and port. */
export interface PortEndpoints {
  /** `host:port` as requested. */
  readonly authority: string;
  /** Every endpoint the slices list for this port, ready or not, each address:port once. */
  readonly endpoints: readonly Endpoint[];
  /** The ones traffic may go to (conditions.ready not false). */
  readonly ready: readonly Endpoint[];
  /** Why `ready` is empty, for the 503's `l5d-proxy-error` and the log; undefined when it is not. */
  readonly whyNone: string | undefined;
}

/** What `choose` answers for an authority in the table. */
export type EndpointChoice = { readonly endpoint: Endpoint; readonly none?: undefined } | { readonly endpoint?: undefined; readonly none: string };

/** One service with slices: what the table knows of it. */
export interface ServiceEntry {
  /** `<service>.<ns>.svc.<cluster-domain>`, lowercase. */
  readonly host: string;
  readonly namespace: string;
  readonly name: string;
  readonly slices: readonly EndpointSliceSpec[];
  /** The Service document of the same name and namespace, when the directory holds one. */
  readonly service: ServiceSpec | undefined;
}

/** Port entries remembered per service (each holds its round-robin cursor); more are computed per request. */
const MAX_CACHED_PORTS_PER_SERVICE = 1024;

class CachedPort implements PortEndpoints {
  /** Round-robin position among `ready`. */
  next = 0;
  constructor(
    readonly authority: string,
    readonly endpoints: readonly Endpoint[],
    readonly ready: readonly Endpoint[],
    readonly whyNone: string | undefined,
  ) {}
}

interface ServiceRecord extends ServiceEntry {
  readonly byPort: Map<number, CachedPort>;
  /** Cursor for ports beyond the cache. */
  next: number;
}

/** `<service>.<ns>.svc.<cluster-domain>`: the name Kubernetes DNS gives a Service. */
export function serviceHost(name: string, namespace: string, clusterDomain: string): string {
  return `${name}.${namespace}.svc.${clusterDomain}`.toLowerCase();
}

export class EndpointTable {
  private readonly byHost = new Map<string, ServiceRecord>();

  constructor(slices: readonly EndpointSliceSpec[], services: readonly ServiceSpec[], readonly clusterDomain: string) {
    const serviceByKey = new Map(services.map((s) => [`${s.namespace}/${s.name}`, s] as const));
    for (const slice of slices) {
      if (slice.serviceName === undefined) continue;
      const host = serviceHost(slice.serviceName, slice.namespace, clusterDomain);
      let record = this.byHost.get(host);
      if (record === undefined) {
        const service = serviceByKey.get(`${slice.namespace}/${slice.serviceName}`);
        record = { host, namespace: slice.namespace, name: slice.serviceName, slices: [], service, byPort: new Map(), next: 0 };
        this.byHost.set(host, record);
      }
      (record.slices as EndpointSliceSpec[]).push(slice);
    }
  }

  /** Authorities in the table. */
  get size(): number {
    return this.byHost.size;
  }

  /** Every service in the table, in load order. */
  services(): readonly ServiceEntry[] {
    return [...this.byHost.values()];
  }

  /** True when `host` (lowercase, no trailing dot, as parseAuthority gives it) is a service of the table. */
  has(host: string): boolean {
    return this.byHost.has(host);
  }

  /** The endpoints for `host:port`; undefined when the host is not in the table (DNS decides then). */
  endpointsFor(host: string, port: number): PortEndpoints | undefined {
    const record = this.byHost.get(host);
    return record === undefined ? undefined : this.portOf(record, port);
  }

  /**
   * The next ready endpoint for `host:port`, round-robin (real load balancing is a later issue), with
   * its identity for the TLS side; `{ none }` with the reason when the service has no ready endpoint
   * there; undefined when the host is not in the table.
   */
  choose(host: string, port: number): EndpointChoice | undefined {
    const record = this.byHost.get(host);
    if (record === undefined) return undefined;
    const entry = this.portOf(record, port);
    const n = entry.ready.length;
    if (n === 0) return { none: entry.whyNone ?? "no ready endpoint" };
    let i: number;
    if (record.byPort.get(port) === entry) {
      i = entry.next;
      entry.next = (i + 1) % n;
    } else {
      i = record.next % n;
      record.next = (record.next + 1) % 0x40000000;
    }
    return { endpoint: entry.ready[i]! };
  }

  private portOf(record: ServiceRecord, port: number): CachedPort {
    const cached = record.byPort.get(port);
    if (cached !== undefined) return cached;
    const entry = buildPort(record, port);
    if (record.byPort.size < MAX_CACHED_PORTS_PER_SERVICE) record.byPort.set(port, entry);
    return entry;
  }
}

function buildPort(record: ServiceRecord, port: number): CachedPort {
  const endpoints: Endpoint[] = [];
  const seen = new Set<string>();
  const reasons = new Set<string>();
  for (const slice of record.slices) {
    const mapping = slicePortFor(slice.ports, port, record.service);
    if ("none" in mapping) {
      reasons.add(`${slice.namespace}/${slice.name}: ${mapping.none}`);
      continue;
    }
    const sliceName = `${slice.namespace}/${slice.name}`;
    for (const e of slice.endpoints) {
      for (const address of e.addresses) {
        // The first slice that lists an address:port wins (slices overlap briefly while Kubernetes moves endpoints).
        const key = `${address}\u0000${mapping.port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const target = Object.freeze({ host: address, port: mapping.port, identity: slice.identity });
        endpoints.push(Object.freeze({ address, port: mapping.port, identity: slice.identity, ready: e.ready, slice: sliceName, target }));
      }
    }
  }
  const ready = endpoints.filter((e) => e.ready);
  let whyNone: string | undefined;
  if (ready.length === 0) {
    if (endpoints.length > 0) whyNone = `none of its ${endpoints.length} endpoint${endpoints.length === 1 ? " is" : "s is"} ready`;
    else if (reasons.size > 0) whyNone = [...reasons].join("; ");
    else whyNone = "its EndpointSlices list no endpoint";
  }
  return new CachedPort(`${record.host}:${port}`, endpoints, ready, whyNone);
}
