// GET /endpoints.json on the admin port: the endpoint table in force — each service authority, its
// slices, and per service port the endpoints with address, port, identity and readiness.
import type { EndpointTable, PortEndpoints } from "./endpoint-table.ts";

export interface EndpointView {
  readonly address: string;
  /** null: the requested port (a slice port with a null number means "all ports"). */
  readonly port: number | null;
  /** null: not meshed (plaintext). */
  readonly identity: string | null;
  readonly ready: boolean;
  readonly slice: string;
}

export interface ServicePortView {
  /** The service port, or "*" when the service's slices serve every port (no Service document). */
  readonly port: number | "*";
  readonly name?: string;
  readonly endpoints: readonly EndpointView[];
  /** Why no endpoint is ready (requests get 503 with this); absent when one is. */
  readonly noReadyEndpoint?: string;
}

export interface EndpointsView {
  readonly clusterDomain: string;
  readonly services: readonly {
    readonly authority: string;
    readonly service: string;
    /** Whether a Service document maps its ports (else a single-port slice serves every port). */
    readonly serviceDocument: boolean;
    readonly slices: readonly string[];
    readonly ports: readonly ServicePortView[];
  }[];
}

export function endpointsView(table: EndpointTable): EndpointsView {
  return {
    clusterDomain: table.clusterDomain,
    services: table.services().map((s) => {
      const portView = (port: number | "*", name: string | undefined): ServicePortView => {
        // Port 0 stands for "any port": the endpoints' ports do not depend on it without a Service.
        const entry = table.endpointsFor(s.host, port === "*" ? 0 : port) as PortEndpoints;
        return {
          port,
          ...(name !== undefined && name !== "" ? { name } : {}),
          endpoints: entry.endpoints.map((e) => ({ address: e.address, port: e.port === 0 ? null : e.port, identity: e.identity ?? null, ready: e.ready, slice: e.slice })),
          ...(entry.whyNone !== undefined ? { noReadyEndpoint: entry.whyNone } : {}),
        };
      };
      return {
        authority: s.host,
        service: `${s.namespace}/${s.name}`,
        serviceDocument: s.service !== undefined,
        slices: s.slices.map((slice) => `${slice.namespace}/${slice.name}`),
        ports: s.service !== undefined ? s.service.ports.map((p) => portView(p.port, p.name)) : [portView("*", undefined)],
      };
    }),
  };
}
