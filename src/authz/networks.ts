// Client-network matching for authorizations: a list of `{cidr, except}` (NetworkAuthentication,
// ServerAuthorization networks, the cluster networks), matched against a client IP with node's BlockList.
// IPv4-mapped IPv6 clients (::ffff:a.b.c.d) match IPv4 networks.
import { BlockList } from "node:net";
import { isIpv4, isIpv6 } from "../config/values.ts";

export interface NetworkSpec {
  readonly cidr: string;
  readonly except: readonly string[];
}

export interface ParsedCidr {
  readonly family: "ipv4" | "ipv6";
  readonly address: string;
  readonly prefix: number;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128, as Linkerd's IpNet parse accepts). */
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

/** Every IPv4 and IPv6 address: what an authorization without networks allows. */
export const ALL_NETWORKS: readonly NetworkSpec[] = [
  { cidr: "0.0.0.0/0", except: [] },
  { cidr: "::/0", except: [] },
];

/** A compiled network list: `includes(ip)` is true when some network holds ip and none of its excepts do. */
export class NetworkMatcher {
  private readonly nets: ReadonlyArray<{ readonly inside: BlockList; readonly except: BlockList | undefined }>;

  constructor(readonly specs: readonly NetworkSpec[]) {
    this.nets = specs.map((spec) => ({
      inside: blockListOf([spec.cidr]),
      except: spec.except.length === 0 ? undefined : blockListOf(spec.except),
    }));
  }

  includes(ip: string): boolean {
    const family = isIpv4(ip) ? "ipv4" : "ipv6";
    for (const net of this.nets) {
      if (net.inside.check(ip, family) && (net.except === undefined || !net.except.check(ip, family))) return true;
    }
    return false;
  }
}

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (typeof cidr === "string") throw new Error(cidr); // decoders validate every network first
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return list;
}
