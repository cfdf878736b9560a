// The resource kinds meshlet loads from the config directory — the one list of them. Implemented kinds
// come from their feature's module; Linkerd kinds whose feature is still to come are recognised (their
// documents load without effect, with one warning per kind) until that feature registers them here.
import type { Config } from "../config/env.ts";
import { discoveryKinds } from "../discovery/kinds.ts";
import { policyKinds } from "../policy/kinds.ts";
import { serviceProfileKind } from "../profiles/kind.ts";
import type { KindRegistration, RecognisedKind } from "../resources/kind.ts";
import type { Clock } from "../rt/clock.ts";

const ROUTES = "only HTTPRoute (and ServiceProfile) routes are implemented";

/** Linkerd's CRDs (and the Gateway API and Kubernetes kinds Linkerd reads) that meshlet does not enforce yet. */
export const RECOGNISED_KINDS: readonly RecognisedKind[] = [
  { group: "policy.linkerd.io", kind: "HTTPLocalRateLimitPolicy", notEnforced: "rate limiting is not implemented" },
  { group: "policy.linkerd.io", kind: "EgressNetwork", notEnforced: "egress policy is not implemented" },
  { group: "gateway.networking.k8s.io", kind: "GRPCRoute", notEnforced: ROUTES },
  { group: "gateway.networking.k8s.io", kind: "TCPRoute", notEnforced: ROUTES },
  { group: "gateway.networking.k8s.io", kind: "TLSRoute", notEnforced: ROUTES },
  { group: "workload.linkerd.io", kind: "ExternalWorkload", notEnforced: "external workloads are not implemented" },
  { group: "multicluster.linkerd.io", kind: "Link", notEnforced: "multicluster is not implemented" },
  { group: "split.smi-spec.io", kind: "TrafficSplit", notEnforced: "SMI traffic splits are not implemented" },
];

/** The settings the kinds read. */
export type KindSettings = Pick<Config, "namespace" | "clusterDomain" | "externalProfiles" | "inboundProfile" | "podLabels">;

/** Every kind, configured from the environment. `clock` is the monotonic clock (retry budgets). */
export function resourceKinds(config: KindSettings, clock: Clock): readonly KindRegistration[] {
  return [
    serviceProfileKind({
      clock,
      namespace: config.namespace,
      clusterDomain: config.clusterDomain,
      externalProfiles: config.externalProfiles,
      inboundProfileName: config.inboundProfile,
    }),
    ...Object.values(policyKinds({ namespace: config.namespace, podLabels: config.podLabels })),
    ...Object.values(discoveryKinds({ clusterDomain: config.clusterDomain })),
    ...RECOGNISED_KINDS,
  ];
}
