// One IP network written as a CIDR (`10.0.0.0/8`, `fd00::/8`, or a bare address = /32 or /128, as
// Linkerd's IpNet parse accepts): the parser every layer that reads networks uses, and the
// comma-separated form of MESHLET_* settings.
import { ValueError, isIpv4, isIpv6 } from "./values.ts";

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

/** An IP network as a setting holds it; `text` is canonical for IPv4 (host bits cleared), as iptables prints it. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly text: string;
}

/** Comma-separated CIDRs (10.0.0.0/8, fd00::/8) for a MESHLET_* setting; a bare address is an error here. */
export function parseCidrs(text: string): readonly Cidr[] {
  const cidrs: Cidr[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const parsed = item.includes("/") ? parseCidr(item) : "no prefix length";
    if (typeof parsed === "string") throw new ValueError(`CIDRs like 10.0.0.0/8 or fd00::/8, comma-separated (got ${JSON.stringify(item)})`);
    if (parsed.family === "ipv6") {
      cidrs.push({ family: 6, text: `${parsed.address.toLowerCase()}/${parsed.prefix}` });
      continue;
    }
    const value = parsed.address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
    const network = parsed.prefix === 0 ? 0 : value - (value % 2 ** (32 - parsed.prefix));
    const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
    cidrs.push({ family: 4, text: `${octets.join(".")}/${parsed.prefix}` });
  }
  return cidrs;
}
