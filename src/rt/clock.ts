// The process clocks, in one place so that everything time-dependent can take a fake in tests:
// a monotonic clock for deadlines and budgets, and the wall clock for timestamps people read.

/** Time source in milliseconds; the proxy passes one of the clocks below, tests a fake one. */
export interface Clock {
  nowMs(): number;
}

export const monotonicClock: Clock = { nowMs: () => performance.now() };
export const wallClock: Clock = { nowMs: () => Date.now() };

/** How often preciseWallClock compares itself with the wall clock. */
const WALL_CHECK_INTERVAL_MS = 1000;
/** A difference beyond the wall clock's millisecond resolution: the wall clock was stepped (NTP, an operator). */
const WALL_STEP_MS = 2;
let wallOffsetMs = performance.timeOrigin;
let wallCheckedAtMs = performance.now();

/**
 * The wall clock with sub-millisecond digits (access-log timestamps): the monotonic clock plus the
 * wall-minus-monotonic offset (performance.timeOrigin at start). Once a second it is compared with
 * Date.now(), and a step of the wall clock is followed within a second instead of never.
 */
export const preciseWallClock: Clock = {
  nowMs() {
    const mono = performance.now();
    if (mono - wallCheckedAtMs >= WALL_CHECK_INTERVAL_MS) {
      wallCheckedAtMs = mono;
      const offset = Date.now() - mono;
      if (Math.abs(offset - wallOffsetMs) > WALL_STEP_MS) wallOffsetMs = offset;
    }
    return wallOffsetMs + mono;
  },
};
