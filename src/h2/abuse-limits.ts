// Per-connection bounds against HTTP/2 abuse: rapid reset (CVE-2023-44487), streams we must reset for
// the peer's errors, PING and SETTINGS floods, empty-frame floods and CONTINUATION floods. A breach is a
// connection error GOAWAY(ENHANCE_YOUR_CALM) carrying its kind, which the engine counts and logs.
import { H2_ERROR, H2Error } from "./errors.ts";

/** What the peer did too much of (the `kind` label of meshlet_http2_abuse_goaway_total). */
export type H2AbuseKind = "rapid_reset" | "local_reset" | "ping_flood" | "settings_flood" | "empty_frames" | "continuation_flood";

export interface H2AbuseLimits {
  /**
   * Streams the peer opens and resets before our response head: a token bucket of this many, refilled by
   * `rapidResetPerSecond` and by one token per stream that ends normally (hyper's
   * max_pending_accept_reset_streams 20; the refill per answered stream lets a busy client cancel up to
   * about half its streams, Envoy's premature-reset ratio).
   */
  readonly rapidResetBurst: number;
  readonly rapidResetPerSecond: number;
  /** RST_STREAMs we send for the peer's stream errors over the connection's life (hyper's max_local_error_reset_streams). */
  readonly localErrorResets: number;
  /** PINGs (not ACKs) the peer may send: a bucket of this many, refilled per second. */
  readonly pingBurst: number;
  readonly pingPerSecond: number;
  /** SETTINGS (not ACKs) the peer may send: a bucket of this many, refilled per second. */
  readonly settingsBurst: number;
  readonly settingsPerSecond: number;
  /** PING and SETTINGS ACKs we may queue in a row while the transport has not taken what we wrote (the peer does not read). */
  readonly unreadControlAnswers: number;
  /** DATA frames without payload or END_STREAM (and frames of unknown types) in a row, with no DATA bytes or HEADERS between. */
  readonly emptyFramesInARow: number;
}

export const DEFAULT_ABUSE_LIMITS: Readonly<H2AbuseLimits> = {
  rapidResetBurst: 20,
  rapidResetPerSecond: 10,
  localErrorResets: 1024,
  pingBurst: 100,
  pingPerSecond: 50,
  settingsBurst: 100,
  settingsPerSecond: 10,
  unreadControlAnswers: 1000,
  emptyFramesInARow: 100,
};

/** A token bucket: `burst` tokens, refilled at `perSecond`; take() says whether one was left. */
export class RateBucket {
  private tokens: number;
  private lastMs = -1;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
  ) {
    this.tokens = burst;
  }

  take(nowMs: number): boolean {
    if (this.lastMs >= 0 && nowMs > this.lastMs) this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.perSecond) / 1000);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Gives back `n` tokens (never above the burst). */
  credit(n: number): void {
    this.tokens = Math.min(this.burst, this.tokens + n);
  }
}

/** The connection error for a breach: GOAWAY(ENHANCE_YOUR_CALM), tagged with its kind. */
export function abuseError(kind: H2AbuseKind, reason: string): H2Error {
  return new H2Error("connection", H2_ERROR.ENHANCE_YOUR_CALM, 0, reason, { abuse: kind });
}
