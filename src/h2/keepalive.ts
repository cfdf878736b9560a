// HTTP/2 keep-alive PINGs for one connection (hyper's keep_alive_interval / keep_alive_timeout, while
// idle too, as Linkerd configures them): when nothing was read for an interval a PING goes out, and a
// peer that does not acknowledge it within the timeout is declared dead (the owner closes the connection).
import type { H2Timers } from "./session.ts";

export interface KeepaliveSettings {
  /** Nothing read for this long sends a PING; 0 disables keep-alive. */
  readonly intervalMs: number;
  /** A PING not acknowledged within this long ends the connection. */
  readonly timeoutMs: number;
}

/** What the keep-alive drives: the session's PING and the owner's verdict. */
export interface KeepaliveTarget {
  /** Sends a PING and returns its payload (H2Session.ping). */
  ping(): Uint8Array;
  /** The peer did not answer within the timeout. */
  onKeepaliveTimeout(timeoutMs: number): void;
}

/** Real timers that do not keep the process alive on their own. */
const UNREF_TIMERS: H2Timers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class H2Keepalive {
  /** Bytes arrived since the last tick (a field write per read, no clock call on the hot path). */
  private readSinceTick = false;
  private outstanding: Uint8Array | null = null;
  private tickTimer: unknown = null;
  private timeoutTimer: unknown = null;
  private stopped = false;

  constructor(
    private readonly settings: KeepaliveSettings,
    private readonly target: KeepaliveTarget,
    private readonly timers: H2Timers = UNREF_TIMERS,
  ) {
    if (settings.intervalMs > 0) this.arm();
  }

  /** The connection read something: the peer is alive. */
  onRead(): void {
    this.readSinceTick = true;
  }

  /** A PING ACK arrived (H2Session onPingAck). */
  onPingAck(payload: Uint8Array): void {
    if (this.outstanding === null || !Buffer.from(payload).equals(Buffer.from(this.outstanding))) return;
    this.outstanding = null;
    if (this.timeoutTimer !== null) this.timers.clear(this.timeoutTimer);
    this.timeoutTimer = null;
  }

  stop(): void {
    this.stopped = true;
    if (this.tickTimer !== null) this.timers.clear(this.tickTimer);
    if (this.timeoutTimer !== null) this.timers.clear(this.timeoutTimer);
    this.tickTimer = this.timeoutTimer = null;
  }

  private arm(): void {
    this.tickTimer = this.timers.set(() => this.tick(), this.settings.intervalMs);
  }

  private tick(): void {
    this.tickTimer = null;
    if (this.stopped) return;
    if (this.readSinceTick) {
      this.readSinceTick = false;
    } else if (this.outstanding === null) {
      this.outstanding = this.target.ping();
      const timeoutMs = this.settings.timeoutMs;
      this.timeoutTimer = this.timers.set(() => {
        this.timeoutTimer = null;
        if (this.stopped || this.outstanding === null) return;
        this.stop();
        this.target.onKeepaliveTimeout(timeoutMs);
      }, timeoutMs);
    }
    this.arm();
  }
}
