// What the HTTP engine logs about exchanges, in the engine's direction scope: proxy failures (the
// synthesized 502/503/504, an upstream cutting a response) at warn, rate limited per (code, target),
// and every exchange's end at trace. Nothing here runs for a successful exchange below trace level.
import type { ProxyError } from "../errors/proxy-error.ts";
import type { Logger } from "../log/logger.ts";
import { RateLimitedLog } from "../log/rate-limited-log.ts";
import type { Clock } from "../rt/clock.ts";
import type { Direction } from "../rt/direction.ts";
import type { ConnInfo } from "./request-ctx.ts";
import { endpointKey } from "./upstream-pool.ts";

export class ExchangeLog {
  private readonly log: Logger;
  private readonly failures: RateLimitedLog;

  constructor(logger: Logger, direction: Direction, clock?: Clock) {
    this.log = logger.scoped(direction);
    this.failures = new RateLimitedLog(this.log, clock);
  }

  /** Read once per exchange end; true only while the direction's scope logs at trace (the level may change at run time). */
  get traceExchanges(): boolean {
    return this.log.enabled("trace");
  }

  /** Whether failure lines are written at all (callers skip computing the target when not). */
  get failuresEnabled(): boolean {
    return this.failures.enabled;
  }

  /**
   * The proxy answered `status` itself because of `err` (before any response byte), or cut a started
   * response (`status` is then the upstream's). `target` is the upstream host:port, else the authority.
   */
  proxyFailed(message: "request failed" | "response aborted", status: number, err: ProxyError, conn: ConnInfo, target: string, authority: string | undefined): void {
    if (!this.failures.enabled) return;
    const code = err.code;
    this.failures.warn(`${code} ${target}`, message, {
      status,
      code,
      error: err.message,
      client: endpointKey(conn.clientAddr, conn.clientPort),
      target,
      authority: authority !== target ? authority : undefined,
    });
  }

  /** Trace: one line per finished exchange. Call only when traceExchanges. */
  exchangeDone(fields: {
    readonly conn: ConnInfo;
    readonly method: string;
    readonly authority: string | undefined;
    readonly target: string | undefined;
    readonly status: number;
    readonly code: string | undefined;
    readonly attempts: number;
    readonly durationMs: number;
  }): void {
    this.log.trace("http exchange done", {
      client: endpointKey(fields.conn.clientAddr, fields.conn.clientPort),
      method: fields.method,
      authority: fields.authority,
      target: fields.target,
      status: fields.status,
      code: fields.code,
      attempts: fields.attempts,
      durationMs: fields.durationMs,
    });
  }

  /** At shutdown: reports what the rate limit held back. */
  close(): void {
    this.failures.close();
  }
}
