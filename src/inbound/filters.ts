// The inbound request pipeline (traffic to the local app): the access log when on (outermost, as
// Linkerd's, so denied and unrouted requests are logged too), strip client-sent l5d-client-id, authorize
// the request against the inbound policy (src/authz/), tap (only while somebody listens, after
// authorize as in Linkerd), then ServiceProfile routes for classification and route metrics. Compiled
// once per configuration generation, and again when the tap's first subscriber arrives or its last leaves.
import { authorizeFilter } from "../authz/authorize-filter.ts";
import type { PolicyObjects } from "../authz/compile.ts";
import { inboundPolicyOf, type PolicyConfig, policySettingsOf } from "../authz/generation-policy.ts";
import { inboundHttpAuthz } from "../authz/http-authz-metrics.ts";
import type { Config } from "../config/env.ts";
import { FilterChain, type FilterChainSource, chainPerGeneration, type SomeHttpFilter } from "../http/filter.ts";
import { clientIdFilter } from "../l5d/client-id-filter.ts";
import type { ProfileSet } from "../profiles/model.ts";
import { profileFilter } from "../profiles/profile-filter.ts";
import type { Clock } from "../rt/clock.ts";
import type { TapHub } from "../tap/hub.ts";
import { tapFilter } from "../tap/tap-filter.ts";

export function inboundChain(
  config: Pick<Config, "inboundProfile" | "externalProfiles" | "clusterDomain"> & PolicyConfig,
  generations: { get(): PolicyObjects & { readonly profiles: ProfileSet } },
  clock: Clock,
  optional: {
    /** The access-log filter (MESHLET_ACCESS_LOG), absent when off. */
    readonly accessLog?: SomeHttpFilter | undefined;
    /** The tap's subscribers, absent when MESHLET_TAP_LISTEN is off. */
    readonly tap?: TapHub | undefined;
  } = {},
): FilterChainSource {
  const policySettings = policySettingsOf(config);
  const { accessLog, tap } = optional;
  return chainPerGeneration(generations, (generation) => {
    const { profiles } = generation;
    const filters: SomeHttpFilter[] = accessLog !== undefined ? [accessLog] : [];
    filters.push(clientIdFilter, authorizeFilter(inboundPolicyOf(generation, policySettings), inboundHttpAuthz));
    if (tap?.listening) filters.push(tapFilter({ direction: "inbound", hub: tap, responsesMayBeRetried: false }));
    if (profiles.byName.size === 0) return new FilterChain(filters);
    const profile = profileFilter({
      direction: "inbound",
      profiles,
      inboundProfileName: config.inboundProfile,
      externalProfiles: config.externalProfiles,
      clusterDomain: config.clusterDomain,
      clock,
    });
    return new FilterChain([...filters, profile]);
  }, tap);
}
