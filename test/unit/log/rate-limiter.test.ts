// The log rate limiter on a fake clock: a budget of lines per key per interval, the count of what was
// held back handed to the next admitted line or to the summary, and a bounded number of keys.
import { describe, expect, test } from "bun:test";

import { LogRateLimiter, SUPPRESSED } from "../../../src/log/rate-limiter.ts";

function fakeClock(startMs = 1_000) {
  const clock = { ms: startMs, nowMs: () => clock.ms };
  return clock;
}

describe("LogRateLimiter", () => {
  test("admits N lines per key per interval, then suppresses; the next window's first line carries the count", () => {
    const clock = fakeClock();
    const limiter = new LogRateLimiter(clock, { linesPerInterval: 3, intervalMs: 10_000 });
    const results = Array.from({ length: 200 }, () => limiter.admit("outbound refused 127.0.0.1:1"));
    expect(results.slice(0, 3)).toEqual([0, 0, 0]);
    expect(results.slice(3).every((r) => r === SUPPRESSED)).toBe(true);

    clock.ms += 9_999; // still the same interval
    expect(limiter.admit("outbound refused 127.0.0.1:1")).toBe(SUPPRESSED);
    clock.ms += 1; // the interval is over
    expect(limiter.admit("outbound refused 127.0.0.1:1")).toBe(198);
    expect(limiter.admit("outbound refused 127.0.0.1:1")).toBe(0);
  });

  test("keys are independent", () => {
    const limiter = new LogRateLimiter(fakeClock(), { linesPerInterval: 1, intervalMs: 1_000 });
    expect(limiter.admit("a")).toBe(0);
    expect(limiter.admit("a")).toBe(SUPPRESSED);
    expect(limiter.admit("b")).toBe(0);
    expect(limiter.admit("b")).toBe(SUPPRESSED);
  });

  test("takeSuppressed reports keys whose interval ended with lines held back, once, and forgets idle keys", () => {
    const clock = fakeClock();
    const limiter = new LogRateLimiter(clock, { linesPerInterval: 1, intervalMs: 1_000 });
    limiter.admit("busy");
    limiter.admit("busy");
    limiter.admit("busy");
    limiter.admit("quiet");
    expect(limiter.takeSuppressed()).toEqual([]); // interval not over yet
    expect(limiter.takeSuppressed(true)).toEqual([["busy", 2]]); // shutdown: everything pending
    expect(limiter.size).toBe(0);

    limiter.admit("busy");
    limiter.admit("busy");
    clock.ms += 1_000;
    expect(limiter.takeSuppressed()).toEqual([["busy", 1]]);
    expect(limiter.takeSuppressed()).toEqual([]);
    // Reported by the summary: the next line does not count them again.
    expect(limiter.admit("busy")).toBe(0);
  });

  test("the number of keys is bounded: the oldest key is forgotten", () => {
    const limiter = new LogRateLimiter(fakeClock(), { linesPerInterval: 1, intervalMs: 1_000, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) limiter.admit(`target-${i}`);
    expect(limiter.size).toBe(100);
    expect(limiter.admit("target-9999")).toBe(SUPPRESSED); // recent keys are still limited
    expect(limiter.admit("target-0")).toBe(0); // forgotten, so admitted afresh
  });

  test("nonsensical options are refused", () => {
    expect(() => new LogRateLimiter(fakeClock(), { linesPerInterval: 0 })).toThrow(RangeError);
    expect(() => new LogRateLimiter(fakeClock(), { intervalMs: 0 })).toThrow(RangeError);
    expect(() => new LogRateLimiter(fakeClock(), { maxKeys: Number.NaN })).toThrow(RangeError);
  });
});
