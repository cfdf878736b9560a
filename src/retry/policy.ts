// ServiceProfile retry decisions (Linkerd's outbound `RetryPolicy`), as pure functions the HTTP
// engine drives once per attempt. Only the budget limits retries: there is no attempt count and
// no backoff, transport errors are never retried, and only non-retryable outcomes deposit.
import { canReplay, MAX_REPLAY_BYTES } from "./replay.ts";
import type { Direction } from "../rt/direction.ts";

export { MAX_REPLAY_BYTES };

/** The part of a budget a decision needs (TpsBudget implements it). */
export interface RetryBudget {
  deposit(): void;
  withdraw(): boolean;
}

/** What one attempt produced. */
export type AttemptOutcome =
  /** A transport error or timeout (Linkerd's `Err`): never retried. */
  | { readonly kind: "error" }
  /** A response, classified by the route's response classes (§2.4). */
  | { readonly kind: "response"; readonly isFailure: boolean };

/**
 * - `done`: return this result; the outcome was not retryable and a deposit was made.
 * - `retry`: a retry was withdrawn from the budget; send the request again.
 * - `no_budget`: retryable, but the budget is empty; return this (failed) response.
 * Callers count `route_retryable_total` for `retry` and `no_budget`, and additionally
 * `route_retryable_total{skipped="no_budget"}` for `no_budget`.
 */
export type RetryDecision = "done" | "retry" | "no_budget";

/** Why a request was sent without retry support, if it was. */
export type RetrySupport = "enabled" | "inbound" | "route_not_retryable" | "body_too_large";

/**
 * Decided once per request, before the first attempt. Only outbound requests on `isRetryable`
 * routes get a retry policy (Linkerd never retries inbound); a declared body above the replay cap
 * is sent without one. A request without retry support never touches the budget: not even a
 * deposit (Linkerd has no policy for it).
 */
export function retrySupport(
  direction: Direction,
  route: { readonly isRetryable: boolean },
  contentLength: number | undefined,
  maxReplayBytes: number = MAX_REPLAY_BYTES,
): RetrySupport {
  if (direction !== "outbound") return "inbound";
  if (!route.isRetryable) return "route_not_retryable";
  if (!canReplay(contentLength, maxReplayBytes)) return "body_too_large";
  return "enabled";
}

/**
 * Decides after each attempt of a request with retry support, including retries.
 * `bodyCapped` is `ReplayBuffer.cappedState()`: only `false` (complete and within the cap) allows
 * a retry; `true` (capped) and `null` (request body still streaming) do not.
 * Mutates the budget: deposit on `done`, withdraw on `retry`.
 */
export function decideAfterAttempt(
  budget: RetryBudget,
  outcome: AttemptOutcome,
  bodyCapped: boolean | null,
): RetryDecision {
  const retryable = outcome.kind === "response" && outcome.isFailure && bodyCapped === false;
  if (!retryable) {
    budget.deposit();
    return "done";
  }
  return budget.withdraw() ? "retry" : "no_budget";
}
