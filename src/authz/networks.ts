// Client-network matching for authorizations: a list of `{cidr, except}` (NetworkAuthentication,
// ServerAuthorization networks, the cluster networks), matched against a client IP with node's BlockList.
// IPv4-mapped IPv6 clients (::ffff:a.b.c.d) match IPv4 networks.
import { BlockList } from "node:net";
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
