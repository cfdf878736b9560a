// One IP network written as a CIDR (`10.0.0.0/8`, `fd00::/8`, or a bare address = /32 or /128, as
// Linkerd's IpNet parse accepts): the parser every layer that reads networks uses.
import { isIpv4, isIpv6 } from "./values.ts";

export interface ParsedCidr {
  readonly family: "ipv4" | "ipv6";
  readonly address: string;
  readonly prefix: number;
}

/** The network, or a message saying what is wrong with `text`. */
export function parseCidr(text: string): ParsedCidr | string {
  const slash = text.indexOf("/");
  const address = (slash < 0 ? text : text.slice(0, slash)).trim();
  const family = isIpv4(address) ? "ipv4" : isIpv6(address) ? "ipv6" : undefined;
  if (family === undefined) return `${JSON.stringify(text)} is not an IP network (like 10.0.0.0/8 or fd00::/8)`;
  const max = family === "ipv4" ? 32 : 128;
  if (slash < 0) return { family, address, prefix: max };
  const prefixText = text.slice(slash + 1).trim();
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > max) return `${JSON.stringify(text)}: prefix length must be 0-${max}`;
  return { family, address, prefix };
}
