// The inbound request pipeline (traffic to the local app): strip client-sent l5d-client-id, then
// ServiceProfile routes for classification and route metrics. Compiled once per configuration generation.
import type { Config } from "../config/env.ts";
import { FilterChain, type FilterChainSource, chainPerGeneration } from "../http/filter.ts";
import { clientIdFilter } from "../l5d/client-id-filter.ts";
import type { ProfileSet } from "../profiles/model.ts";
import { profileFilter } from "../profiles/profile-filter.ts";
import type { Clock } from "../rt/clock.ts";

export function inboundChain(
  config: Pick<Config, "inboundProfile" | "externalProfiles" | "clusterDomain">,
  generations: { get(): { readonly profiles: ProfileSet } },
  clock: Clock,
): FilterChainSource {
  return chainPerGeneration(generations, ({ profiles }) => {
    const filters = [clientIdFilter];
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
