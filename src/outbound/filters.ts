// The outbound request pipeline (traffic from the local app): tap (only while somebody listens), peer
// proxies' error headers handled, then ServiceProfile routes (route, classify, timeout,
// l5d-dst-canonical) and their retries, and last endpoint discovery (EndpointSlice authorities) under
// the `l5d-require-id` check. Compiled once per configuration generation, and again when the tap's
// first subscriber arrives or its last leaves.
import type { Config } from "../config/env.ts";
import { discoveryFilter } from "../discovery/discovery-filter.ts";
import { type DiscoveryObjects, endpointTableOf } from "../discovery/generation-table.ts";
import { FilterChain, type FilterChainSource, chainPerGeneration, type SomeHttpFilter } from "../http/filter.ts";
import { peerErrorFilter } from "../l5d/peer-error-filter.ts";
import { requireIdFilter } from "../l5d/require-id-filter.ts";
import type { Logger } from "../log/logger.ts";
import type { ProfileSet } from "../profiles/model.ts";
import { profileFilter } from "../profiles/profile-filter.ts";
import { retryFilter } from "../profiles/retry-filter.ts";
import type { Clock } from "../rt/clock.ts";
import type { TapHub } from "../tap/hub.ts";
import { tapFilter } from "../tap/tap-filter.ts";

export function outboundChain(
  config: Pick<Config, "externalProfiles" | "clusterDomain" | "identityCertPath">,
  generations: { get(): { readonly profiles: ProfileSet } & DiscoveryObjects },
  clock: Clock,
  logger: Logger,
  tap?: TapHub,
): FilterChainSource {
  const peerErrors = peerErrorFilter(logger);
  const localIdentity = config.identityCertPath !== ""; // env.ts: the three MESHLET_IDENTITY_* files or none
  return chainPerGeneration(generations, (generation) => {
    const profiles = generation.profiles;
    // With profiles, the retry filter may discard a response: tap then holds it until the request completes.
    const first: SomeHttpFilter[] = tap?.listening ? [tapFilter({ direction: "outbound", hub: tap, responsesMayBeRetried: profiles.byName.size > 0 })] : [];
    const table = endpointTableOf(generation, config.clusterDomain);
    const last: SomeHttpFilter[] = [requireIdFilter({ localIdentity, endpoints: table.size > 0 ? discoveryFilter(table) : undefined })];
    if (profiles.byName.size === 0) return new FilterChain([...first, peerErrors, ...last]);
    const profile = profileFilter({
      direction: "outbound",
      profiles,
      externalProfiles: config.externalProfiles,
      clusterDomain: config.clusterDomain,
      clock,
    });
    return new FilterChain([...first, peerErrors, profile, retryFilter("outbound", profile), ...last]);
  }, tap);
}
