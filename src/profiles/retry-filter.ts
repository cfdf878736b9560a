// ServiceProfile retries on the request pipeline (Linkerd's outbound RetryPolicy, §3.2): a request on an
// `isRetryable` route keeps up to 64 KiB of body, a failed response is retried while the profile's
// budget allows, and every final non-retryable outcome deposits. Reads the profile filter's decision.
import type { FilterState, HttpFilter } from "../http/filter.ts";
import { CONTINUE } from "../http/filter.ts";
import { MAX_REPLAY_BYTES, type RetryBudget, decideAfterAttempt, retrySupport } from "../retry/policy.ts";
import { classifyResponse } from "./match.ts";
import { type ProfileFilter, finalOutcomeOf } from "./profile-filter.ts";
import { attemptOutcomeOf } from "./route-outcome.ts";
import type { Direction } from "../rt/direction.ts";

class RetriedRequest implements FilterState {
  /** The profile's budget when the request has retry support; undefined: never retried, budget untouched. */
  budget: RetryBudget | undefined = undefined;
  /** The current attempt already went through the retry policy (its deposit or withdrawal is done). */
  decided = false;

  reset(): void {
    this.budget = undefined;
    this.decided = false;
  }
}

/**
 * Retries for the requests `profile` routes. Transport errors and timeouts are never retried (Linkerd's
 * `Err` is not retryable), so the filter has no attempt-error phase; onComplete deposits for them.
 */
export function retryFilter(direction: Direction, profile: ProfileFilter): HttpFilter<RetriedRequest> {
  return {
    name: "retry",
    newState: () => new RetriedRequest(),

    onRequestHead(ctx, s) {
      const route = ctx.stateOf(profile)?.route;
      if (route === undefined) return CONTINUE;
      const length = ctx.contentLength >= 0 ? ctx.contentLength : undefined;
      if (retrySupport(direction, route, length) !== "enabled") return CONTINUE;
      s.budget = ctx.stateOf(profile)!.profile!.budget;
      ctx.retainBodyBytes = MAX_REPLAY_BYTES;
      return CONTINUE;
    },

    onResponseHead(ctx, s, res) {
      if (s.budget === undefined) return false;
      const p = ctx.stateOf(profile)!;
      const isFailure = classifyResponse(p.route!, res.status, ctx.grpcStatus) === "failure";
      // Not replayable here means the body was capped or is still streaming (Linkerd's is_capped()
      // true or None): either way this response is returned as is.
      const decision = decideAfterAttempt(s.budget, { kind: "response", isFailure }, !ctx.replayable);
      if (decision !== "done") p.stats!.retryableResponse(decision === "retry");
      if (decision === "retry") return true;
      s.decided = true;
      return false;
    },

    onComplete(ctx, s) {
      if (s.budget === undefined || s.decided) return;
      // The last attempt never reached the policy (error, timeout or tunnel): it is final, so it deposits.
      const outcome = finalOutcomeOf(ctx, ctx.stateOf(profile)!.route!);
      if (outcome !== undefined) decideAfterAttempt(s.budget, attemptOutcomeOf(outcome), true);
    },
  };
}
