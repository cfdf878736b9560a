// A workload identity name as it appears in a certificate's DNS SAN (§7.4), e.g.
// `web.default.serviceaccount.identity.linkerd.cluster.local`: a DNS name, never an IP address.
import { ValueError, isIp, parseDnsName } from "../config/values.ts";

export const IDENTITY_NAME_EXAMPLE = "web.default.serviceaccount.identity.linkerd.cluster.local";

/** The name lowercased without a trailing dot, or a ValueError saying what was expected. */
export function parseIdentityName(text: string): string {
  const expected = `a DNS name such as ${IDENTITY_NAME_EXAMPLE}`;
  if (isIp(text.trim())) throw new ValueError(`${expected}, not an IP address`);
  try {
    return parseDnsName(text);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new ValueError(expected);
  }
}
