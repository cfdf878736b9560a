// The inbound request pipeline (traffic to the local app): strip client-sent l5d-client-id, authorize
// the request against the inbound policy (src/authz/), the access log when on, then ServiceProfile
// routes for classification and route metrics. Compiled once per configuration generation.
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

export function inboundChain(
  config: Pick<Config, "inboundProfile" | "externalProfiles" | "clusterDomain"> & PolicyConfig,
  generations: { get(): PolicyObjects & { readonly profiles: ProfileSet } },
  clock: Clock,
  /** The access-log filter (MESHLET_ACCESS_LOG), absent when off. */
  accessLog?: SomeHttpFilter,
): FilterChainSource {
  const policySettings = policySettingsOf(config);
  return chainPerGeneration(generations, (generation) => {
    const { profiles } = generation;
    const filters: SomeHttpFilter[] = [
      clientIdFilter,
      authorizeFilter(inboundPolicyOf(generation, policySettings), inboundHttpAuthz),
      ...(accessLog ? [accessLog] : []),
    ];
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
  });
}
