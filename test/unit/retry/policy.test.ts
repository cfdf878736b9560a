// Retry decisions (linkerd-behavior.md §3.2) and the replay buffer: which outcomes retry, which
// deposit, which are skipped for lack of budget; bodies above 64 KiB are never retried.
import { describe, expect, test } from "bun:test";

import { TpsBudget } from "../../../src/retry/budget.ts";
import {
  type AttemptOutcome,
  decideAfterAttempt,
  MAX_REPLAY_BYTES,
  type RetryBudget,
  type RetryDecision,
  type RetrySupport,
  retrySupport,
} from "../../../src/retry/policy.ts";
import { canReplay, ReplayBuffer } from "../../../src/retry/replay.ts";

/** Records what a decision did to the budget. */
class SpyBudget implements RetryBudget {
  deposits = 0;
  withdrawals = 0;
  constructor(private allow: boolean) {}
  deposit(): void {
    this.deposits++;
  }
  withdraw(): boolean {
    this.withdrawals++;
    return this.allow;
  }
}

const ERR: AttemptOutcome = { kind: "error" };
const FAIL: AttemptOutcome = { kind: "response", isFailure: true };
const OK: AttemptOutcome = { kind: "response", isFailure: false };

describe("decideAfterAttempt", () => {
  test.each<[string, AttemptOutcome, boolean | null, boolean, RetryDecision, number, number]>([
    // name, outcome, bodyCapped, budget allows, decision, deposits, withdrawals
    ["failure, body complete, budget → retry", FAIL, false, true, "retry", 0, 1],
    ["failure, body complete, no budget → no_budget", FAIL, false, false, "no_budget", 0, 1],
    ["success → done, deposit", OK, false, true, "done", 1, 0],
    ["transport error → never retried, deposit", ERR, false, true, "done", 1, 0],
    ["failure but body capped → done, deposit", FAIL, true, true, "done", 1, 0],
    ["failure while body still streaming → done, deposit", FAIL, null, true, "done", 1, 0],
    ["error with a capped body → done, deposit", ERR, true, true, "done", 1, 0],
  ])("%s", (_name, outcome, capped, allow, decision, deposits, withdrawals) => {
    const budget = new SpyBudget(allow);
    expect(decideAfterAttempt(budget, outcome, capped)).toBe(decision);
    expect(budget.deposits).toBe(deposits);
    expect(budget.withdrawals).toBe(withdrawals);
  });
});

describe("retrySupport", () => {
  const retryable = { isRetryable: true };
  test.each<[string, "inbound" | "outbound", { isRetryable: boolean }, number | undefined, RetrySupport]>([
    ["outbound retryable route, no body", "outbound", retryable, undefined, "enabled"],
    ["outbound retryable route, small body", "outbound", retryable, 1024, "enabled"],
    ["exactly 64 KiB is still replayable", "outbound", retryable, MAX_REPLAY_BYTES, "enabled"],
    ["one byte over is not", "outbound", retryable, MAX_REPLAY_BYTES + 1, "body_too_large"],
    ["100 KiB POST is not", "outbound", retryable, 100 * 1024, "body_too_large"],
    ["route not retryable", "outbound", { isRetryable: false }, 0, "route_not_retryable"],
    ["inbound never retries", "inbound", retryable, 0, "inbound"],
  ])("%s", (_name, direction, route, contentLength, support) => {
    expect(retrySupport(direction, route, contentLength)).toBe(support);
  });
});

describe("ReplayBuffer", () => {
  test("keeps chunks of a complete body within the cap", () => {
    const buf = new ReplayBuffer(8);
    expect(buf.cappedState()).toBeNull(); // still streaming
    buf.push(new Uint8Array([1, 2, 3]));
    buf.push(new Uint8Array([4, 5, 6, 7, 8]));
    buf.end();
    expect(buf.cappedState()).toBe(false);
    expect(buf.capped).toBe(false);
    expect(buf.chunks().map((c) => [...c])).toEqual([[1, 2, 3], [4, 5, 6, 7, 8]]);
  });

  test("caps once the body exceeds the limit and drops what it held", () => {
    const buf = new ReplayBuffer(8);
    buf.push(new Uint8Array(5));
    buf.push(new Uint8Array(4));
    expect(buf.capped).toBe(true);
    expect(buf.cappedState()).toBe(true);
    buf.push(new Uint8Array(100));
    buf.end();
    expect(buf.cappedState()).toBe(true);
    expect(buf.totalBytes).toBe(109);
    expect(() => buf.chunks()).toThrow("exceeded");
  });

  test("an incomplete body cannot be replayed", () => {
    const buf = new ReplayBuffer();
    buf.push(new Uint8Array(10));
    expect(() => buf.chunks()).toThrow("not complete");
  });

  test("default cap is 64 KiB, and canReplay mirrors it for a declared length", () => {
    expect(new ReplayBuffer().maxBytes).toBe(65536);
    expect(canReplay(undefined)).toBe(true);
    expect(canReplay(65536)).toBe(true);
    expect(canReplay(65537)).toBe(false);
  });
});

describe("a request driven through policy + budget", () => {
  // A backend failing every other attempt on a retryable route, defaults budget: every failure is
  // retried while the reserve lasts, and the retry (a success) deposits.
  test("alternating failures are all retried within the reserve", () => {
    const clock = { nowMs: () => 0 };
    const budget = new TpsBudget({ ttlMs: 10_000, minRetriesPerSecond: 10, retryRatio: 0.2 }, clock);
    let attempt = 0;
    let retries = 0;
    let effectiveFailures = 0;
    for (let request = 0; request < 100; request++) {
      for (;;) {
        const outcome: AttemptOutcome = attempt++ % 2 === 0 ? FAIL : OK;
        const decision = decideAfterAttempt(budget, outcome, false);
        if (decision === "retry") {
          retries++;
          continue;
        }
        if (decision === "no_budget" || (outcome.kind === "response" && outcome.isFailure)) effectiveFailures++;
        break;
      }
    }
    expect(retries).toBe(100);
    expect(effectiveFailures).toBe(0);
    // 100 withdrawals of 5 from a reserve of 500, 100 deposits of 1 back.
    expect(budget.balance()).toBe(100);
  });

  test("once the budget is spent, failures are returned (no_budget) and each deposits nothing", () => {
    const budget = new TpsBudget({ ttlMs: 1_000, minRetriesPerSecond: 1, retryRatio: 0 }, { nowMs: () => 0 });
    expect(decideAfterAttempt(budget, FAIL, false)).toBe("retry");
    expect(decideAfterAttempt(budget, FAIL, false)).toBe("no_budget");
    expect(decideAfterAttempt(budget, FAIL, false)).toBe("no_budget");
  });
});

describe("simulation: a backend failing every other attempt (fake clock, defaults 0.2 / 10/s / 10s)", () => {
  function simulate(rps: number, seconds: number) {
    let nowMs = 0;
    const budget = new TpsBudget({ ttlMs: 10_000, minRetriesPerSecond: 10, retryRatio: 0.2 }, { nowMs: () => nowMs });
    let attempts = 0;
    let attemptSuccesses = 0;
    let retries = 0;
    let noBudget = 0;
    let effectiveSuccesses = 0;
    let deposits = 0;
    const requests = rps * seconds;
    for (let i = 0; i < requests; i++) {
      nowMs = (i * 1000) / rps;
      for (;;) {
        const failed = attempts++ % 2 === 0;
        if (!failed) attemptSuccesses++;
        const d = decideAfterAttempt(budget, { kind: "response", isFailure: failed }, false);
        if (d === "retry") {
          retries++;
          continue;
        }
        if (d === "done") deposits++;
        if (d === "no_budget") noBudget++;
        else if (!failed) effectiveSuccesses++;
        break;
      }
    }
    return { requests, attempts, attemptSuccesses, retries, noBudget, effectiveSuccesses, deposits };
  }

  test("at 10 req/s the budget covers every retry: effective ≥ 95%, actual ≈ 50%", () => {
    const r = simulate(10, 60);
    expect(r.effectiveSuccesses / r.requests).toBeGreaterThanOrEqual(0.95);
    expect(r.attemptSuccesses / r.attempts).toBeCloseTo(0.5, 1);
    expect(r.noBudget).toBe(0);
  });

  test("at 100 req/s retries are bounded by the formula and the budget is used up to it", () => {
    const seconds = 60;
    const r = simulate(100, seconds);
    // Reserve: minRetriesPerSecond × ttl per ttl (withdrawals stay recorded for ttl to ttl + one
    // window), plus retryRatio per deposit.
    const ttlWindows = Math.ceil(seconds / 10) + 1;
    const bound = 10 * 10 * ttlWindows + Math.floor(r.deposits * 0.2);
    expect(r.retries).toBeLessThanOrEqual(bound);
    // ...and close to it: 10/s × 60 s + 0.2 × deposits (1331 of 1333 with these numbers).
    expect(r.retries).toBeGreaterThan(0.95 * (10 * seconds + r.deposits * 0.2));
    // Every request ends as a success (which deposits) or as a failure skipped for lack of budget
    // (which deposits nothing: only non-retryable outcomes deposit).
    expect(r.effectiveSuccesses + r.noBudget).toBe(r.requests);
    expect(r.deposits).toBe(r.effectiveSuccesses);
    expect(r.noBudget).toBeGreaterThan(0);
  });
});
