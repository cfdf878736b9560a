// The meshed endpoints of an endpoint table: every IP address and numbered port of a slice annotated
// with `meshlet.io/identity`, with that identity — what the front door's native table holds (outbound TCP
// to one of them is handed off for mTLS origination) and what the origination checks the peer against.
import { isIp } from "../config/values.ts";
import type { EndpointTable } from "./endpoint-table.ts";

export interface MeshedEndpoint {
  readonly ip: string;
  readonly port: number;
  readonly identity: string;
}

export class MeshedEndpoints {
  private readonly byKey = new Map<string, MeshedEndpoint>();

  /**
   * FQDN slices (no IP to match a connection's destination against) and slice ports without a number
   * (Kubernetes' "all ports") are left out; the first slice that lists an address:port wins, as in the table.
   */
  constructor(table: EndpointTable) {
    for (const service of table.services()) {
      for (const slice of service.slices) {
        if (slice.identity === undefined || slice.addressType === "FQDN") continue;
        for (const { port } of slice.ports) {
          if (port === undefined) continue;
          for (const endpoint of slice.endpoints) {
            for (const ip of endpoint.addresses) {
              const key = keyOf(ip, port);
              if (isIp(ip) && !this.byKey.has(key)) this.byKey.set(key, Object.freeze({ ip, port, identity: slice.identity }));
            }
          }
        }
      }
    }
  }

  /** The identity the endpoint `ip:port` must prove; undefined when it is not meshed. */
  identityOf(ip: string, port: number): string | undefined {
    return this.byKey.get(keyOf(ip, port))?.identity;
  }

  list(): MeshedEndpoint[] {
    return [...this.byKey.values()];
  }
}

/** IPv6 in the canonical text the front door reports (inet_ntop: lower case, zeros compressed). */
function keyOf(ip: string, port: number): string {
  const canonical = ip.includes(":") ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
  return `${canonical}|${port}`;
}

const built = new WeakMap<EndpointTable, MeshedEndpoints>();

/** The meshed endpoints of `table`, built once per table (a configuration generation). */
export function meshedEndpointsOf(table: EndpointTable): MeshedEndpoints {
  let meshed = built.get(table);
  if (meshed === undefined) {
    meshed = new MeshedEndpoints(table);
    built.set(table, meshed);
  }
  return meshed;
}
