// The process clocks, in one place so that everything time-dependent can take a fake in tests:
// a monotonic clock for deadlines and budgets, and the wall clock for timestamps people read.

/** Time source in milliseconds; the proxy passes one of the clocks below, tests a fake one. */
export interface Clock {
  nowMs(): number;
}

export const monotonicClock: Clock = { nowMs: () => performance.now() };
export const wallClock: Clock = { nowMs: () => Date.now() };
