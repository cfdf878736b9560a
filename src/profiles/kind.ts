// ServiceProfile as a resource kind: decoded by decode.ts, checked against the settings that decide
// which profiles can apply, and built into the ProfileSet that `snapshot.profiles` holds.
import type { ResourceKind } from "../resources/kind.ts";
import { type Clock, monotonicClock } from "../rt/clock.ts";
import { decodeServiceProfile } from "./decode.ts";
import { DEFAULT_CLUSTER_DOMAIN, isClusterName } from "./lookup.ts";
import type { ProfileSet, ProfileSpec } from "./model.ts";
import { profileScope, serviceNamespaceOf } from "./precedence.ts";
import { buildProfileSet } from "./set.ts";

declare module "../resources/kind.ts" {
  interface Indexes {
    /** The ServiceProfiles in force (src/profiles/kind.ts). */
    readonly profiles: ProfileSet;
  }
}

/** The settings that decide which profiles apply (all from MESHLET_*; defaults as in SETTINGS). */
export interface ProfileKindSettings {
  /** Monotonic clock for retry budgets; default the process's. */
  readonly clock?: Clock;
  /** MESHLET_NAMESPACE; default "default". */
  readonly namespace?: string;
  /** MESHLET_CLUSTER_DOMAIN; default "cluster.local". */
  readonly clusterDomain?: string;
  /** MESHLET_EXTERNAL_PROFILES; default false. */
  readonly externalProfiles?: boolean;
  /** MESHLET_INBOUND_PROFILE; default "" (none). */
  readonly inboundProfileName?: string;
}

export const SERVICE_PROFILE_GROUP = "linkerd.io";
export const SERVICE_PROFILE_KIND = "ServiceProfile";

export function serviceProfileKind(settings: ProfileKindSettings = {}): ResourceKind<ProfileSpec, "profiles"> {
  const clock = settings.clock ?? monotonicClock;
  const namespaces = { namespace: settings.namespace ?? "default", clusterDomain: settings.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN };
  const domain = namespaces.clusterDomain;
  const inbound = settings.inboundProfileName ?? "";
  return {
    group: SERVICE_PROFILE_GROUP,
    kind: SERVICE_PROFILE_KIND,
    versions: ["v1alpha2", "v1alpha1"],
    index: "profiles",
    decode: decodeServiceProfile,
    // Linkerd keys profiles by namespace and name; one name may exist in several namespaces.
    uniqueKey: (spec) => `${spec.namespace}/${spec.name}`,

    // Warnings (never errors: the directory itself is fine) about profiles these settings make useless.
    check(own, _set, report) {
      for (const { value, resource } of own) {
        const at = ["metadata", "name"];
        const host = value.name.replace(/:[0-9]+$/, "");
        if (settings.externalProfiles !== true && value.name !== inbound && !isClusterName(host, domain)) {
          report.warn(resource, at, `profile ${value.name} is outside svc.${domain} and applies only with MESHLET_EXTERNAL_PROFILES=true`);
        }
        if (profileScope(value.name, value.namespace, namespaces) === undefined) {
          const service = serviceNamespaceOf(value.name, domain);
          const applies = service === undefined ? `namespace ${namespaces.namespace}` : `namespace ${namespaces.namespace} or ${service}`;
          report.warn(
            resource,
            ["metadata", "namespace"],
            `profile ${value.name} in namespace ${value.namespace} is ignored: only profiles in ${applies} apply ` +
              `(MESHLET_NAMESPACE is ${namespaces.namespace}${service === undefined ? "" : `, the service's namespace is ${service}`})`,
          );
        }
      }
      if (inbound !== "" && !own.some((p) => p.value.name === inbound)) {
        report.warnSet(`MESHLET_INBOUND_PROFILE is ${JSON.stringify(inbound)}, but no ServiceProfile has that name: inbound requests get no profile`);
      }
    },

    build: (own, previous) => buildProfileSet(own.map((d) => d.value), { clock, previous, namespaces }),
  };
}
