// Outbound listener targets (MESHLET_OUTBOUND_UPSTREAMS `LISTEN=DEST`) that name a service of the
// endpoint table resolve to one of its ready endpoints instead of through DNS — like a DNS answer, one
// address per resolution (at listen and at each 5 s refresh), taken round-robin.
import type { HostPort } from "../config/values.ts";
import type { EndpointTable } from "./endpoint-table.ts";

/** For the front door's resolveTargetNamesWith: an endpoint, an Error (the service has none ready), or undefined (not a service). */
export function listenerTargetResolver(tables: { get(): EndpointTable }): (host: string, port: number) => HostPort | Error | undefined {
  return (host, port) => {
    const name = host.toLowerCase().replace(/\.$/, "");
    const choice = tables.get().choose(name, port);
    if (choice === undefined) return undefined;
    if (choice.none !== undefined) return new Error(`no endpoint for ${name}:${port}: ${choice.none}`);
    return choice.endpoint.target;
  };
}
