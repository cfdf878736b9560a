// Which resource kinds the config directory may hold. Kinds meshlet already implements have a
// decoder (see config-dir.ts); Linkerd kinds that later issues will implement are kept aside unchanged;
// anything else is reported as a warning and ignored.

export interface ApiVersion {
  /** "" for the core group (`apiVersion: v1`). */
  readonly group: string;
  readonly version: string;
}

export function parseApiVersion(apiVersion: string): ApiVersion {
  const slash = apiVersion.lastIndexOf("/");
  if (slash < 0) return { group: "", version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

export const kindKey = (group: string, kind: string): string => `${group}/${kind}`;

/**
 * Kinds of Linkerd's CRDs (and the Gateway API kinds Linkerd reads) that meshlet recognises even
 * before it implements them: such documents are kept for the issues that need them, not rejected.
 * Their versions are checked by the issue that implements each kind.
 */
export const KNOWN_KINDS: ReadonlySet<string> = new Set([
  kindKey("linkerd.io", "ServiceProfile"),
  kindKey("policy.linkerd.io", "Server"),
  kindKey("policy.linkerd.io", "ServerAuthorization"),
  kindKey("policy.linkerd.io", "AuthorizationPolicy"),
  kindKey("policy.linkerd.io", "MeshTLSAuthentication"),
  kindKey("policy.linkerd.io", "NetworkAuthentication"),
  kindKey("policy.linkerd.io", "HTTPRoute"),
  kindKey("policy.linkerd.io", "HTTPLocalRateLimitPolicy"),
  kindKey("policy.linkerd.io", "EgressNetwork"),
  kindKey("gateway.networking.k8s.io", "HTTPRoute"),
  kindKey("gateway.networking.k8s.io", "GRPCRoute"),
  kindKey("gateway.networking.k8s.io", "TCPRoute"),
  kindKey("gateway.networking.k8s.io", "TLSRoute"),
  kindKey("workload.linkerd.io", "ExternalWorkload"),
  kindKey("multicluster.linkerd.io", "Link"),
  kindKey("split.smi-spec.io", "TrafficSplit"),
]);

/** `kubectl get ... -o yaml` wraps several objects in `apiVersion: v1, kind: List, items: [...]`. */
export const isListKind = (group: string, kind: string): boolean => group === "" && kind === "List";
