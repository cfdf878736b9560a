// Builds the profile set of one configuration generation: the profile in force for each name (see
// precedence.ts), each with its retry budget. A budget survives a reload when its profile keeps the
// same namespace, name and budget parameters, so editing an unrelated file does not refill every reserve.
import type { Clock } from "../rt/clock.ts";
import { type RetryBudgetParams, TpsBudget } from "../retry/budget.ts";
import { DEFAULT_CLUSTER_DOMAIN } from "./lookup.ts";
import type { Profile, ProfileSet, ProfileSpec } from "./model.ts";
import { type NamespaceContext, selectProfiles } from "./precedence.ts";

export function buildProfileSet(
  specs: readonly ProfileSpec[],
  opts: {
    readonly clock: Clock;
    readonly previous?: ProfileSet | undefined;
    /** Default: namespace "default", cluster domain "cluster.local". */
    readonly namespaces?: NamespaceContext | undefined;
  },
): ProfileSet {
  const ctx = opts.namespaces ?? { namespace: "default", clusterDomain: DEFAULT_CLUSTER_DOMAIN };
  const byName = new Map<string, Profile>();
  for (const [name, spec] of selectProfiles(specs, ctx).byName) {
    const prev = opts.previous?.byName.get(name);
    const budget =
      prev !== undefined && prev.namespace === spec.namespace && sameBudget(prev.retryBudget, spec.retryBudget)
        ? prev.budget
        : new TpsBudget(spec.retryBudget, opts.clock);
    byName.set(name, Object.freeze({ ...spec, budget }));
  }
  return Object.freeze({ byName });
}

function sameBudget(a: RetryBudgetParams, b: RetryBudgetParams): boolean {
  return a.ttlMs === b.ttlMs && a.minRetriesPerSecond === b.minRetriesPerSecond && a.retryRatio === b.retryRatio;
}
