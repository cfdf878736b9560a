// The `dst` label of route metrics: Linkerd's logical name `name:port` (§5.1), here the request's
// authority — lowercased, without a trailing dot — with the port the request goes to if it names none.
import { formatHostPort } from "../config/values.ts";
import { DEFAULT_HTTP_PORT, parseAuthority } from "../http/authority.ts";

/**
 * `host:port` (`[v6]:port`) for the dst label. `authority` is the request's, or the profile's name when
 * MESHLET_INBOUND_PROFILE chose the profile. The port is the authority's, else the connection's
 * destination port (the original destination or forward target, which the request really reaches),
 * else 80. Without a usable authority, the connection's destination; "" when there is neither.
 */
export function logicalDst(
  authority: string | undefined,
  connDst: { readonly host: string; readonly port: number } | null,
): string {
  const parsed = authority === undefined ? undefined : parseAuthority(authority);
  if (parsed !== undefined) return formatHostPort({ host: parsed.host, port: parsed.port ?? connDst?.port ?? DEFAULT_HTTP_PORT });
  if (connDst !== null) return formatHostPort({ host: connDst.host.toLowerCase(), port: connDst.port });
  return "";
}
