// Route timeouts as tables: outbound only (Linkerd's inbound router has no timeout layer), and the
// time each attempt gets from the whole-request deadline (never 0, which means "none" to the engine).
import { describe, expect, test } from "bun:test";

import { DEFAULT_ROUTE } from "../../../src/profiles/match.ts";
import type { Route } from "../../../src/profiles/model.ts";
import { attemptTimeoutMs, routeTimeoutMs } from "../../../src/profiles/route-timeout.ts";

const withTimeout = (timeoutMs: number | undefined): Route => ({ ...DEFAULT_ROUTE, name: "r", timeoutMs });

describe("routeTimeoutMs", () => {
  test.each<[string, "inbound" | "outbound", Route, number | undefined]>([
    ["outbound route with a timeout", "outbound", withTimeout(250), 250],
    ["outbound route without one", "outbound", withTimeout(undefined), undefined],
    ["outbound default route", "outbound", DEFAULT_ROUTE, undefined],
    ["inbound ignores the route timeout", "inbound", withTimeout(250), undefined],
  ])("%s", (_name, direction, route, want) => {
    expect(routeTimeoutMs(direction, route)).toBe(want);
  });
});

describe("attemptTimeoutMs", () => {
  test.each<[string, number, number, number]>([
    // name, deadline, now, ms for the attempt
    ["first attempt gets the whole timeout", 1100, 1000, 100],
    ["a retry gets what is left", 1100, 1070, 30],
    ["fractions round up (never shorter than the deadline)", 1100, 1099.2, 1],
    ["sub-millisecond timeouts still arm a timer", 1000.5, 1000, 1],
    ["at the deadline: 1 ms, so the attempt times out at once", 1100, 1100, 1],
    ["past the deadline: still 1 ms (0 would disable the timer)", 1100, 1250, 1],
  ])("%s", (_name, deadline, now, want) => {
    expect(attemptTimeoutMs(deadline, now)).toBe(want);
  });
});
