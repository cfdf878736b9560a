// Warn (and info) lines that an outage or a hostile client cannot turn into a flood: each goes through a LogRateLimiter by a caller's
// key (scope, code, target); an admitted line carries `suppressed` when lines were held back before it,
// and lines still held back when their interval ends are reported in one summary line per key.
import type { Fields, Logger } from "./logger.ts";
import { LogRateLimiter, type RateLimiterOptions, SUPPRESSED } from "./rate-limiter.ts";
import { type Clock, monotonicClock } from "../rt/clock.ts";

export class RateLimitedLog {
  private readonly limiter: LogRateLimiter;
  private summaryTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    private readonly logger: Logger,
    clock: Clock = monotonicClock,
    options: RateLimiterOptions = {},
  ) {
    this.limiter = new LogRateLimiter(clock, options);
  }

  /** Whether warn lines are written at all: callers skip building fields when not. */
  get enabled(): boolean {
    return this.logger.enabled("warn");
  }

  /** One warn line for `key`, unless the key's budget for this interval is spent. */
  warn(key: string, message: string, fields: Fields): void {
    this.emit("warn", key, message, fields);
  }

  /** One info line for `key` (e.g. policy denials, which a hostile client can repeat), rate limited the same way. */
  info(key: string, message: string, fields: Fields): void {
    this.emit("info", key, message, fields);
  }

  private emit(level: "warn" | "info", key: string, message: string, fields: Fields): void {
    if (!this.logger.enabled(level)) return;
    const suppressed = this.limiter.admit(key);
    if (suppressed === SUPPRESSED) {
      this.armSummary();
      return;
    }
    this.logger[level](message, suppressed > 0 ? { ...fields, suppressed } : fields);
  }

  /**
   * Writes a summary for every key whose interval ended with lines suppressed (the timer calls it);
   * `all` (at shutdown): for every key with lines suppressed.
   */
  flush(all = false): void {
    for (const [key, suppressed] of this.limiter.takeSuppressed(all)) {
      this.logger.warn("repeated log lines suppressed", { key, suppressed, intervalMs: this.limiter.intervalMs });
    }
  }

  /** At shutdown: reports every key with lines still held back and stops the summary timer. */
  close(): void {
    this.flush(true);
    clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
  }

  private armSummary(): void {
    if (this.summaryTimer !== undefined) return;
    this.summaryTimer = setTimeout(() => {
      this.summaryTimer = undefined;
      this.flush();
      if (this.limiter.size > 0) this.armSummary();
    }, this.limiter.intervalMs);
    this.summaryTimer.unref();
  }
}
