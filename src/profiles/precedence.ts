// Which ServiceProfile applies when several carry one name. Linkerd keys profiles by namespace and
// name: the profile in the client's own namespace (MESHLET_NAMESPACE, Linkerd's context token)
// overrides the one in the service's namespace (`<svc>.<ns>.svc.<cluster domain>`); any other is ignored.
import { isClusterName } from "./lookup.ts";

export interface NamespaceContext {
  /** MESHLET_NAMESPACE: the namespace of the workload meshlet serves. */
  readonly namespace: string;
  /** MESHLET_CLUSTER_DOMAIN, e.g. "cluster.local". */
  readonly clusterDomain: string;
}

/**
 * The namespace of the service a profile name designates: `ns` for `<svc>.<ns>.svc.<domain>` (or a pod
 * name under it, `<pod>.<svc>.<ns>.svc.<domain>`), with or without `:port`. Undefined for any other
 * name (`localhost`, an external host): such a profile can only come from the client's namespace.
 */
export function serviceNamespaceOf(profileName: string, clusterDomain: string): string | undefined {
  const host = profileName.replace(/:[0-9]+$/, "");
  if (!isClusterName(host, clusterDomain)) return undefined;
  const domain = clusterDomain.toLowerCase().replace(/^\.+|\.+$/g, "");
  const labels = host.slice(0, host.length - `.svc.${domain}`.length).split(".");
  return labels.length >= 2 ? labels[labels.length - 1] : undefined;
}

/** Why a profile in `namespace` named `name` applies: the client's override, the service's own, or not at all. */
export function profileScope(name: string, namespace: string, ctx: NamespaceContext): "client" | "service" | undefined {
  if (namespace === ctx.namespace) return "client";
  if (namespace === serviceNamespaceOf(name, ctx.clusterDomain)) return "service";
  return undefined;
}

export interface Selection<T> {
  /** The profile in force for each name. */
  readonly byName: Map<string, T>;
  /** Profiles that apply to nobody here (another namespace), or that a client-namespace profile overrides. */
  readonly ignored: readonly { readonly profile: T; readonly reason: "other-namespace" | "overridden" }[];
}

/** Picks, for every name, the client-namespace profile, else the service-namespace one. */
export function selectProfiles<T extends { readonly name: string; readonly namespace: string }>(
  profiles: readonly T[],
  ctx: NamespaceContext,
): Selection<T> {
  const byName = new Map<string, T>();
  const ignored: { profile: T; reason: "other-namespace" | "overridden" }[] = [];
  for (const p of profiles) {
    const scope = profileScope(p.name, p.namespace, ctx);
    if (scope === undefined) {
      ignored.push({ profile: p, reason: "other-namespace" });
      continue;
    }
    const other = byName.get(p.name);
    if (other === undefined) byName.set(p.name, p);
    else if (scope === "client") {
      byName.set(p.name, p);
      ignored.push({ profile: other, reason: "overridden" });
    } else ignored.push({ profile: p, reason: "overridden" });
  }
  return { byName, ignored };
}
