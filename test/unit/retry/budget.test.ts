// TpsBudget against tower's algorithm and the worked numbers of linkerd-behavior.md §3.1, with a
// fake clock (no sleeping, no timing asserts).
import { describe, expect, test } from "bun:test";

import {
  budgetAmounts,
  budgetParamsError,
  DEFAULT_RETRY_BUDGET,
  TpsBudget,
  type RetryBudgetParams,
} from "../../../src/retry/budget.ts";

class FakeClock {
  ms = 0;
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

const params = (ttlMs: number, minRetriesPerSecond: number, retryRatio: number): RetryBudgetParams => ({
  ttlMs,
  minRetriesPerSecond,
  retryRatio,
});

/** Withdraws until the budget says no; returns how many succeeded. */
function drain(b: TpsBudget, limit = 1_000_000): number {
  let n = 0;
  while (n < limit && b.withdraw()) n++;
  return n;
}

describe("amounts (deposit, withdraw) from the ratio", () => {
  test.each([
    // ratio, deposit, withdraw
    [0, 0, 1], // no ratio: deposits earn nothing, only the reserve
    [0.2, 1, 5], // Linkerd's default
    [0.3, 1, 3], // truncated: 1/0.3 = 3.33 → 3, effectively a ratio of 0.333
    [0.1, 1, 10],
    [1 / 3, 1, 3],
    [0.7, 1, 1], // 1/0.7 = 1.43 → 1
    [1, 1, 1],
    [2, 1000, 500], // ratio > 1: 1000 per deposit, 1000/ratio per withdrawal
    [3, 1000, 333],
    [1000, 1000, 1],
  ])("ratio %p → deposit %p, withdraw %p", (ratio, deposit, withdraw) => {
    expect(budgetAmounts(ratio)).toEqual({ deposit, withdraw });
  });
});

describe("defaults (0.2, 10/s, 10s)", () => {
  test("deposit 1, withdraw 5, reserve 500", () => {
    const b = new TpsBudget(DEFAULT_RETRY_BUDGET, new FakeClock());
    expect(b.depositAmount).toBe(1);
    expect(b.withdrawAmount).toBe(5);
    expect(b.reserve).toBe(500);
    expect(b.windowMs).toBe(1000);
    expect(b.balance()).toBe(500);
  });

  test("about 100 free retries per ttl from the reserve", () => {
    const b = new TpsBudget(DEFAULT_RETRY_BUDGET, new FakeClock());
    expect(drain(b)).toBe(100);
    expect(b.withdraw()).toBe(false);
  });

  test("plus one retry per 5 deposits", () => {
    const b = new TpsBudget(DEFAULT_RETRY_BUDGET, new FakeClock());
    expect(drain(b)).toBe(100);
    for (let i = 0; i < 4; i++) b.deposit();
    expect(b.withdraw()).toBe(false); // 4 < 5
    b.deposit();
    expect(b.withdraw()).toBe(true);
    expect(b.withdraw()).toBe(false);
    for (let i = 0; i < 50; i++) b.deposit();
    expect(drain(b)).toBe(10);
  });

  test("deposits before withdrawals add to the reserve", () => {
    const b = new TpsBudget(DEFAULT_RETRY_BUDGET, new FakeClock());
    for (let i = 0; i < 1000; i++) b.deposit();
    expect(drain(b)).toBe(100 + 200);
  });
});

describe("other ratios", () => {
  test("0.3: withdraw 3 (truncated), so 10 deposits buy 3 retries", () => {
    const b = new TpsBudget(params(10_000, 0, 0.3), new FakeClock());
    expect(b.withdrawAmount).toBe(3);
    expect(b.reserve).toBe(0);
    for (let i = 0; i < 10; i++) b.deposit();
    expect(drain(b)).toBe(3);
  });

  test("ratio 2: each deposit buys 2 retries", () => {
    const b = new TpsBudget(params(10_000, 0, 2), new FakeClock());
    expect([b.depositAmount, b.withdrawAmount]).toEqual([1000, 500]);
    for (let i = 0; i < 7; i++) b.deposit();
    expect(drain(b)).toBe(14);
  });

  test("ratio 0: deposits earn nothing; only the reserve (min 5/s × 1s)", () => {
    const b = new TpsBudget(params(1_000, 5, 0), new FakeClock());
    expect([b.depositAmount, b.withdrawAmount, b.reserve]).toEqual([0, 1, 5]);
    for (let i = 0; i < 100; i++) b.deposit();
    expect(drain(b)).toBe(5);
  });

  test("no reserve and no deposits: nothing (tower's tps_empty)", () => {
    expect(new TpsBudget(params(1_000, 0, 1), new FakeClock()).withdraw()).toBe(false);
  });

  test("the reserve uses whole seconds of ttl (1.9s → 1s)", () => {
    const b = new TpsBudget(params(1_900, 10, 1), new FakeClock());
    expect(b.reserve).toBe(10);
  });
});

describe("expiry (fake clock)", () => {
  test("withdrawals expire after ttl, restoring the reserve", () => {
    const clock = new FakeClock();
    const b = new TpsBudget(DEFAULT_RETRY_BUDGET, clock);
    expect(drain(b)).toBe(100);
    clock.advance(5_000);
    expect(b.withdraw()).toBe(false); // half a ttl later: still spent
    clock.advance(5_000 + 1);
    expect(drain(b)).toBe(100);
  });

  test("exactly ttl after the last activity the withdrawal still counts; one window later it is gone", () => {
    const clock = new FakeClock();
    const b = new TpsBudget(DEFAULT_RETRY_BUDGET, clock);
    expect(drain(b)).toBe(100);
    clock.advance(10_000); // diff == 10 windows: slots 1..9 zeroed, slot 0 (the withdrawals) kept
    expect(b.withdraw()).toBe(false);
    clock.advance(1_000);
    expect(drain(b)).toBe(100);
  });

  test("deposits expire too (tower's tps_leaky)", () => {
    const clock = new FakeClock();
    const b = new TpsBudget(params(1_000, 0, 1), clock);
    b.deposit();
    clock.advance(3_000);
    expect(b.withdraw()).toBe(false);
  });

  test("deposits within the ttl stay usable, older ones fall out (tower's tps_slots)", () => {
    const clock = new FakeClock();
    const b = new TpsBudget(params(1_000, 0, 0.5), clock);
    b.deposit();
    b.deposit();
    clock.advance(901);
    expect(b.withdraw()).toBe(true); // 900ms later the deposits still count

    clock.advance(2_001); // blank slate
    b.deposit();
    clock.advance(301);
    b.deposit();
    clock.advance(801);
    b.deposit();
    // The first of these deposits expired; the second and third together pay for one retry.
    expect(b.withdraw()).toBe(true);
  });

  test("deposits made across one ttl sum up; each counts for ttl to ttl + one window", () => {
    const clock = new FakeClock();
    const b = new TpsBudget(params(10_000, 0, 1), clock);
    for (let s = 0; s < 10; s++) {
      b.deposit(); // at t = 0s, 1s, ..., 9s
      clock.advance(1_000);
    }
    expect(b.balance()).toBe(10); // t = 10s: the first deposit's slot is not reused yet
    clock.advance(1_000);
    expect(b.balance()).toBe(9); // t = 11s: its slot now holds the (empty) current window
    clock.advance(5_000);
    expect(b.balance()).toBe(4);
  });

  test("a long idle period zeroes everything without iterating window by window", () => {
    const clock = new FakeClock();
    const b = new TpsBudget(params(1_000, 0, 1), clock);
    for (let i = 0; i < 5; i++) b.deposit();
    clock.advance(365 * 24 * 3600 * 1000);
    expect(b.balance()).toBe(0);
    b.deposit();
    expect(b.withdraw()).toBe(true);
  });

  test("a clock going backwards counts as no time passing", () => {
    const clock = new FakeClock();
    clock.ms = 50_000;
    const b = new TpsBudget(params(1_000, 1, 1), clock);
    expect(b.withdraw()).toBe(true);
    clock.ms = 10_000;
    expect(b.withdraw()).toBe(false);
  });
});

describe("parameter checks (tower's asserts, Linkerd's proto conversion)", () => {
  test.each([
    ["ttl 999ms", params(999, 10, 0.2), "ttl must be between 1s and 60s"],
    ["ttl 60.001s", params(60_001, 10, 0.2), "ttl must be between 1s and 60s"],
    ["ratio -0.1", params(10_000, 10, -0.1), "retryRatio must be between 0 and 1000"],
    ["ratio 1000.5", params(10_000, 10, 1000.5), "retryRatio must be between 0 and 1000"],
    ["min -1", params(10_000, -1, 0.2), "minRetriesPerSecond must be a non-negative integer"],
    ["min i32::MAX", params(10_000, 2 ** 31 - 1, 0.2), "minRetriesPerSecond must be below 2147483647"],
  ])("%s → %s", (_label, p, message) => {
    expect(budgetParamsError(p)).toBe(message);
    expect(() => new TpsBudget(p, new FakeClock())).toThrow(RangeError);
  });

  test("bounds are inclusive", () => {
    expect(budgetParamsError(params(1_000, 0, 0))).toBeUndefined();
    expect(budgetParamsError(params(60_000, 2 ** 31 - 2, 1000))).toBeUndefined();
  });
});
