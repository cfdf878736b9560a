// The outbound request pipeline (traffic from the local app): peer proxies' error headers handled,
// then ServiceProfile routes (route, classify, timeout, l5d-dst-canonical) and their retries.
// Compiled once per configuration generation.
import type { Config } from "../config/env.ts";
import { FilterChain, type FilterChainSource, chainPerGeneration } from "../http/filter.ts";
import { peerErrorFilter } from "../l5d/peer-error-filter.ts";
import type { Logger } from "../log/logger.ts";
import type { ProfileSet } from "../profiles/model.ts";
import { profileFilter } from "../profiles/profile-filter.ts";
import { retryFilter } from "../profiles/retry-filter.ts";
import type { Clock } from "../rt/clock.ts";

export function outboundChain(
  config: Pick<Config, "externalProfiles" | "clusterDomain">,
  generations: { get(): { readonly profiles: ProfileSet } },
  clock: Clock,
  logger: Logger,
): FilterChainSource {
  const peerErrors = peerErrorFilter(logger);
  return chainPerGeneration(generations, ({ profiles }) => {
    if (profiles.byName.size === 0) return new FilterChain([peerErrors]);
    const profile = profileFilter({
      direction: "outbound",
      profiles,
      externalProfiles: config.externalProfiles,
      clusterDomain: config.clusterDomain,
      clock,
    });
    return new FilterChain([peerErrors, profile, retryFilter("outbound", profile)]);
  });
}
