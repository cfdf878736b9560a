// Client-network matching for authorizations: a list of `{cidr, except}` (NetworkAuthentication,
// ServerAuthorization networks, the cluster networks), matched against a client IP with node's BlockList.
// IPv4-mapped IPv6 clients (::ffff:a.b.c.d) match IPv4 networks.
import type { BlockList } from "node:net";
import { parseCidr } from "../config/cidr.ts";
import { isIpv4 } from "../config/values.ts";
import type { NetworkSpec } from "../policy/model.ts";

export type { NetworkSpec } from "../policy/model.ts";

/** Every IPv4 and IPv6 address: what an authorization without networks allows. */
export const ALL_NETWORKS: readonly NetworkSpec[] = [
  { cidr: "0.0.0.0/0", except: [] },
  { cidr: "::/0", except: [] },
];

/** A compiled network list: `includes(ip)` is true when some network holds ip and none of its excepts do. */
export class NetworkMatcher {
  /**
   * Built on the first `includes` (the cluster networks are compiled at start, but matched only once an
   * authorization uses them); `inside` is the family name for a whole family (0.0.0.0/0, ::/0).
   */
  private nets: ReadonlyArray<{ readonly inside: BlockList | "ipv4" | "ipv6"; readonly except: BlockList | undefined }> | undefined;

  constructor(readonly specs: readonly NetworkSpec[]) {}

  includes(ip: string): boolean {
    const family = isIpv4(ip) ? "ipv4" : "ipv6";
    this.nets ??= this.specs.map((spec) => ({
      inside: wholeFamilyOf(spec.cidr) ?? blockListOf([spec.cidr]),
      except: spec.except.length === 0 ? undefined : blockListOf(spec.except),
    }));
    for (const net of this.nets) {
      const inside = typeof net.inside === "string" ? net.inside === family : net.inside.check(ip, family);
      if (inside && (net.except === undefined || !net.except.check(ip, family))) return true;
    }
    return false;
  }
}

/** The family a /0 network covers whole, or undefined for a narrower one. */
function wholeFamilyOf(text: string): "ipv4" | "ipv6" | undefined {
  const cidr = parseCidr(text);
  return typeof cidr !== "string" && cidr.prefix === 0 ? cidr.family : undefined;
}

function blockListOf(cidrs: readonly string[]): BlockList {
  // node:net (~5 MB of Bun's node layer) loads with the first network narrower than a whole family.
  const { BlockList } = require("node:net") as typeof import("node:net");
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (typeof cidr === "string") throw new Error(cidr); // decoders validate every network first
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  }
  return list;
}
