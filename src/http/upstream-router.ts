// Chooses the upstream for a request: the connection's fixed destination (original destination or
// forward target), else the request's authority — Host or absolute-form URI — as an http_proxy would.
import type { ProxyError } from "../errors/proxy-error.ts";
import { MalformedRequestError, NoEndpointError } from "./proxy-errors.ts";
import type { ConnInfo, RequestCtx, UpstreamTarget } from "./request-ctx.ts";

/** Splits "host[:port]" / "[v6]:port" into host (brackets removed) and port; null when invalid. */
export function parseAuthority(authority: string, defaultPort: number): { host: string; port: number } | null {
  let host: string;
  let portText = "";
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) return null;
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return null;
      portText = rest.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(":");
    if (colon >= 0) {
      host = authority.slice(0, colon);
      portText = authority.slice(colon + 1);
    } else host = authority;
  }
  if (host === "") return null;
  let port = defaultPort;
  if (portText !== "") {
    if (!/^[0-9]{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 65535) return null;
  }
  return { host, port };
}

/** The router of last resort, after every filter's selectUpstream passed. */
export function defaultRoute(ctx: RequestCtx, conn: ConnInfo): UpstreamTarget | ProxyError {
  if (conn.dst !== null) return conn.dst;
  const authority = ctx.authority;
  if (authority === undefined || authority === "") return new NoEndpointError("a request without authority");
  const target = parseAuthority(authority, 80);
  if (target === null) return new MalformedRequestError(`invalid authority ${JSON.stringify(authority)}`);
  return ctx.method === "CONNECT" ? { host: target.host, port: target.port, terminateConnect: true } : target;
}
