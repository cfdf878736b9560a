// Linkerd's default policies (linkerd-behavior §7.1) as authorizations: for ports no Server selects
// (MESHLET_DEFAULT_INBOUND_POLICY) and for a Server's accessPolicy.
import type { DefaultPolicyName } from "../policy/model.ts";
import type { Authorization } from "./authorization.ts";
import { ALL_NETWORKS, NetworkMatcher } from "./networks.ts";

/** The authorizations a default policy grants; `deny` and `audit` grant none (audit allows by its flag). */
export function defaultAuthorizations(policy: DefaultPolicyName, clusterNetworks: NetworkMatcher): Authorization[] {
  const meta = { group: "", kind: "default", name: policy };
  const all = new NetworkMatcher(ALL_NETWORKS);
  const anyIdentity = { kind: "tls-authenticated", any: true, exact: new Set<string>(), suffixes: [] } as const;
  switch (policy) {
    case "all-unauthenticated":
      return [{ meta, networks: all, authn: { kind: "unauthenticated" } }];
    case "all-authenticated":
      return [{ meta, networks: all, authn: anyIdentity }];
    case "cluster-unauthenticated":
      return [{ meta, networks: clusterNetworks, authn: { kind: "unauthenticated" } }];
    case "cluster-authenticated":
      return [{ meta, networks: clusterNetworks, authn: anyIdentity }];
    case "deny":
    case "audit":
      return [];
  }
}
