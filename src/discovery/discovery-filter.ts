// Endpoint discovery on the outbound request pipeline: a request whose authority is a service of the
// endpoint table goes to the next ready endpoint of that service (round-robin) instead of through DNS
// or the connection's original destination; with no ready endpoint it fails with 503 and the reason.
import { NoEndpointError } from "../http/proxy-errors.ts";
import { DEFAULT_HTTP_PORT, parseAuthority } from "../http/authority.ts";
import type { HttpFilter } from "../http/filter.ts";
import type { EndpointTable } from "./endpoint-table.ts";

/**
 * The filter for one generation's table. Its selectUpstream answers only for authorities in the table
 * (anything else passes to the default route). The port is the authority's, else the connection's
 * destination port, else 80 — the port the request would have reached without discovery.
 */
export function discoveryFilter(table: EndpointTable): HttpFilter<undefined> {
  return {
    name: "discovery",
    selectUpstream(ctx) {
      const authority = ctx.authority;
      if (authority === undefined) return undefined;
      const parsed = parseAuthority(authority);
      if (parsed === undefined) return undefined;
      const port = parsed.port ?? ctx.conn.dst?.port ?? DEFAULT_HTTP_PORT;
      const choice = table.choose(parsed.host, port);
      if (choice === undefined) return undefined; // not a service of the table
      if (choice.none !== undefined) return new NoEndpointError(`${parsed.host}:${port}`, { reason: choice.none });
      const target = choice.endpoint.target;
      // CONNECT to a service: the proxy opens the tunnel itself, as the default route does for any authority.
      return ctx.method === "CONNECT" ? { ...target, terminateConnect: true } : target;
    },
  };
}
