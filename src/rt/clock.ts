// The process clocks, in one place so that everything time-dependent can take a fake in tests:
// a monotonic clock for deadlines and budgets, and the wall clock for timestamps people read.
import type { Clock } from "../retry/budget.ts";

export const monotonicClock: Clock = { nowMs: () => performance.now() };
export const wallClock: Clock = { nowMs: () => Date.now() };
