// The authority of an HTTP request (`host[:port]`, `[v6][:port]`): the one parser the router, the
// profile lookup and the route metrics share (formatHostPort in src/config/values.ts spells it back).

/** The port of an `http://` authority without one (RFC 9110 §4.2.1). */
export const DEFAULT_HTTP_PORT = 80;

export interface Authority {
  /** Lowercase, without a trailing dot; IPv6 without brackets. */
  readonly host: string;
  /** 0-65535 as written; undefined when the authority names no port. */
  readonly port: number | undefined;
}

/** Splits `host[:port]` / `[v6][:port]`; undefined when it is not a valid authority (a bare IPv6 is not). */
export function parseAuthority(authority: string): Authority | undefined {
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith("[")) {
    const close = authority.indexOf("]");
    if (close < 0) return undefined;
    host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) return undefined;
    portText = rest === "" ? undefined : rest.slice(1);
  } else {
    const colon = authority.lastIndexOf(":");
    if (colon >= 0 && authority.indexOf(":") !== colon) return undefined;
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
    if (port > 65535) return undefined;
  }
  host = host.toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host === "" || /[\s/@?#]/.test(host)) return undefined;
  return { host, port };
}
