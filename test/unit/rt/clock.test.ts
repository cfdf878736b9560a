// The precise wall clock (access-log timestamps): the wall clock's value with sub-millisecond digits,
// advancing with the monotonic clock between its once-a-second re-reads of the wall clock.
import { expect, test } from "bun:test";
import { preciseWallClock } from "../../../src/rt/clock.ts";

test("preciseWallClock reads like Date.now(), to within the wall clock's resolution and the step threshold", async () => {
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const precise = preciseWallClock.nowMs();
    const after = Date.now();
    expect(precise).toBeGreaterThanOrEqual(before - 3);
    expect(precise).toBeLessThanOrEqual(after + 3);
    await Bun.sleep(300); // crosses a re-read of the wall clock
  }
});

test("preciseWallClock never goes back while the wall clock is not stepped, and has sub-millisecond digits", () => {
  let last = preciseWallClock.nowMs();
  let fractional = false;
  for (let i = 0; i < 10_000; i++) {
    const now = preciseWallClock.nowMs();
    expect(now).toBeGreaterThanOrEqual(last);
    if (now % 1 !== 0) fractional = true;
    last = now;
  }
  expect(fractional).toBe(true);
});
