// Per-key log rate limiting: at most `linesPerInterval` lines per key in each interval; what it holds back
// is counted and handed to the next admitted line (or to a summary once the interval is over), so an
// outage costs a few lines per (scope, code, target) and still says how much was left out.
import type { Clock } from "../rt/clock.ts";

export const DEFAULT_LOG_LINES_PER_INTERVAL = 5;
export const DEFAULT_LOG_INTERVAL_MS = 10_000;
/** Keys tracked at once; beyond it the oldest key is forgotten (a flood of distinct targets stays bounded). */
export const DEFAULT_LOG_MAX_KEYS = 1_024;

export interface RateLimiterOptions {
  readonly linesPerInterval?: number;
  readonly intervalMs?: number;
  readonly maxKeys?: number;
}

interface KeyWindow {
  startMs: number;
  admitted: number;
  suppressed: number;
}

/** admit() result for a line that must not be written. */
export const SUPPRESSED = -1;

export class LogRateLimiter {
  readonly linesPerInterval: number;
  readonly intervalMs: number;
  readonly maxKeys: number;
  private readonly windows = new Map<string, KeyWindow>();

  constructor(
    private readonly clock: Clock,
    options: RateLimiterOptions = {},
  ) {
    this.linesPerInterval = options.linesPerInterval ?? DEFAULT_LOG_LINES_PER_INTERVAL;
    this.intervalMs = options.intervalMs ?? DEFAULT_LOG_INTERVAL_MS;
    this.maxKeys = options.maxKeys ?? DEFAULT_LOG_MAX_KEYS;
    if (!(this.linesPerInterval >= 1) || !(this.intervalMs > 0) || !(this.maxKeys >= 1)) {
      throw new RangeError("log rate limiter: linesPerInterval and maxKeys must be >= 1, intervalMs > 0");
    }
  }

  /**
   * Asks to write one line for `key`: SUPPRESSED (-1) when the key's budget for this interval is spent,
   * otherwise how many of its lines were suppressed since its last written line (usually 0).
   */
  admit(key: string): number {
    const now = this.clock.nowMs();
    let w = this.windows.get(key);
    if (w === undefined) {
      if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
      w = { startMs: now, admitted: 0, suppressed: 0 };
      this.windows.set(key, w);
    } else if (now - w.startMs >= this.intervalMs) {
      w.startMs = now;
      w.admitted = 0;
    }
    if (w.admitted >= this.linesPerInterval) {
      w.suppressed++;
      return SUPPRESSED;
    }
    w.admitted++;
    const suppressed = w.suppressed;
    w.suppressed = 0;
    return suppressed;
  }

  /**
   * For a periodic summary: the keys whose interval is over with lines still suppressed, and how many;
   * those keys, and keys idle for a whole interval, are forgotten. `all`: every key, interval over or not.
   */
  takeSuppressed(all = false): Array<readonly [key: string, suppressed: number]> {
    const now = this.clock.nowMs();
    const out: Array<readonly [string, number]> = [];
    for (const [key, w] of this.windows) {
      if (!all && now - w.startMs < this.intervalMs) continue;
      if (w.suppressed > 0) out.push([key, w.suppressed]);
      this.windows.delete(key);
    }
    return out;
  }

  /** Keys currently tracked (tests, bounds). */
  get size(): number {
    return this.windows.size;
  }
}
