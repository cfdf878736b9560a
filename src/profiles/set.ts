// Builds the profile set of one configuration generation, attaching each profile's retry budget.
// A budget survives a reload when its profile keeps the same name and budget parameters, so that
// editing an unrelated file does not hand every service a fresh reserve.
import { type Clock, type RetryBudgetParams, TpsBudget } from "../retry/budget.ts";
import type { Profile, ProfileSet, ProfileSpec } from "./model.ts";

export function buildProfileSet(
  specs: readonly ProfileSpec[],
  opts: { readonly clock: Clock; readonly previous?: ProfileSet | undefined },
): ProfileSet {
  const byName = new Map<string, Profile>();
  for (const spec of specs) {
    const prev = opts.previous?.byName.get(spec.name);
    const budget =
      prev !== undefined && sameBudget(prev.retryBudget, spec.retryBudget)
        ? prev.budget
        : new TpsBudget(spec.retryBudget, opts.clock);
    byName.set(spec.name, Object.freeze({ ...spec, budget }));
  }
  return Object.freeze({ byName });
}

function sameBudget(a: RetryBudgetParams, b: RetryBudgetParams): boolean {
  return a.ttlMs === b.ttlMs && a.minRetriesPerSecond === b.minRetriesPerSecond && a.retryRatio === b.retryRatio;
}
