// The names of Linkerd's default inbound policies: the values of MESHLET_DEFAULT_INBOUND_POLICY
// (LINKERD2_PROXY_INBOUND_DEFAULT_POLICY) and of a Server's accessPolicy.
export const DEFAULT_POLICIES = [
  "all-unauthenticated",
  "all-authenticated",
  "cluster-authenticated",
  "cluster-unauthenticated",
  "deny",
  "audit",
] as const;

export type DefaultPolicyName = (typeof DEFAULT_POLICIES)[number];
