// Chooses the upstream for a request: the connection's fixed destination (original destination or
// forward target), else the request's authority — Host or absolute-form URI — as an http_proxy would.
import type { ProxyError } from "../errors/proxy-error.ts";
import { DEFAULT_HTTP_PORT, parseAuthority } from "./authority.ts";
import { MalformedRequestError, NoEndpointError } from "./proxy-errors.ts";
import type { ConnInfo, RequestCtx, UpstreamTarget } from "./request-ctx.ts";

/** The router of last resort, after every filter's selectUpstream passed. */
export function defaultRoute(ctx: RequestCtx, conn: ConnInfo): UpstreamTarget | ProxyError {
  if (conn.dst !== null) return conn.dst;
  const authority = ctx.authority;
  if (authority === undefined || authority === "") return new NoEndpointError("a request without authority");
  const parsed = parseAuthority(authority);
  if (parsed === undefined || parsed.port === 0) return new MalformedRequestError(`invalid authority ${JSON.stringify(authority)}`);
  const port = parsed.port ?? DEFAULT_HTTP_PORT;
  return ctx.method === "CONNECT" ? { host: parsed.host, port, terminateConnect: true } : { host: parsed.host, port };
}
