// A monotonic millisecond value refreshed by a timer rather than read per call: hot paths that only
// need "about now" (a metric series' last-touched mark) read one number field instead of a clock.
import { monotonicClock } from "./clock.ts";

/** How often the shared coarse clock is refreshed; its reading is at most this much behind (plus event-loop delay). */
export const COARSE_CLOCK_TICK_MS = 250;

export class CoarseClock {
  /** The source's ms as of the last tick(). Read it; never write it outside tick(). */
  nowMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `source` is monotonicClock in the proxy, a fake in tests (then call tick() by hand). */
  constructor(
    private readonly source: { nowMs(): number } = monotonicClock,
    readonly tickMs: number = COARSE_CLOCK_TICK_MS,
  ) {
    this.nowMs = source.nowMs();
  }

  /** Re-reads the source now; returns the new value. The timer calls this every tickMs. */
  tick(): number {
    this.nowMs = this.source.nowMs();
    return this.nowMs;
  }

  /** Starts the refresh timer (unref'd: it never keeps the process alive). Idempotent. */
  start(): this {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.tick(), this.tickMs);
      this.#timer.unref();
    }
    return this;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

let processClock: CoarseClock | undefined;

/** The process-wide coarse monotonic clock, started on first use. */
export function processCoarseClock(): CoarseClock {
  processClock ??= new CoarseClock().start();
  return processClock;
}
