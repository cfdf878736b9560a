// Pooled upstream HTTP/2 connections per endpoint: a request takes a stream on a connection that has
// one free (many streams per connection), and a new connection is dialed only when every connection
// is at the peer's MAX_CONCURRENT_STREAMS (or going away). Requests wait in a bounded queue meanwhile.
// An endpoint with a peer identity is dialed with mTLS (ALPN h2) when this workload has one; pools are
// per endpoint AND identity.
import type { ProxyError } from "../errors/proxy-error.ts";
import { endpointKey } from "../http/upstream-pool.ts";
import { ConnectRefusedError, ConnectTimeoutError, FailFastError, LoadShedError, PeerIdentityError } from "../http/proxy-errors.ts";
import { type OutboundTlsLabels, outboundTlsLabels } from "../metrics/http.ts";
import type { MeshClientTls } from "../tls/mesh-client-tls.ts";
import type { Logger } from "../log/logger.ts";
import { RateLimitedLog } from "../log/rate-limited-log.ts";
import type { CallbackClock } from "./callback-clock.ts";
import type { KeepaliveSettings } from "./keepalive.ts";
import type { Direction } from "../rt/direction.ts";
import { type H2ConnectionHome, H2ClientConnection, h2ClientSocketHandlers } from "./client-connection.ts";

/** A request waiting for a stream. */
export interface H2PoolWaiter {
  /** A connection with a free stream: open it now (synchronously), or the stream goes to the next waiter. */
  onPoolConnection(conn: H2ClientConnection): void;
  onPoolError(err: ProxyError): void;
}

export interface H2PoolOptions {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxQueued: number;
  readonly queueTimeoutMs: number;
  readonly maxConnectionsPerEndpoint: number;
  readonly direction: Direction;
  readonly nowMs: () => number;
  /** Entered by the upstream connections' socket callbacks (absent: none, every read is fresh). */
  readonly clock?: CallbackClock;
  /** Abuse and keep-alive warnings about upstream peers; default silent. */
  readonly logger?: Logger;
  /** Keep-alive PINGs on upstream connections (interval 0: none). */
  readonly keepalive?: KeepaliveSettings;
  /** This workload's identity for mTLS origination; absent: endpoints with an identity are dialed in plaintext. */
  readonly meshTls?: MeshClientTls | undefined;
}

/** One endpoint's HTTP/2 pool at a moment, read-only (the admin server's /pools.json). */
export interface H2EndpointPoolSnapshot {
  readonly endpoint: string;
  /** The peer identity discovery named for it (its own pool, apart from plaintext ones to the address). */
  readonly identity?: string;
  /** Connected connections, and those still dialing. */
  readonly connections: number;
  readonly connecting: number;
  /** Streams open over all its connections. */
  readonly openStreams: number;
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS per connected connection (null: not yet known or unlimited). */
  readonly peerMaxConcurrentStreams: readonly (number | null)[];
  /** Requests waiting for a stream. */
  readonly queued: number;
  /** Since this endpoint was pooled: connections opened and streams opened on them. */
  readonly opened: number;
  readonly dispatched: number;
}

/** Connections opened and streams dispatched, over the pool's life. */
export interface H2PoolTotals {
  opened: number;
  dispatched: number;
}

export class H2Endpoint implements H2ConnectionHome {
  readonly key: string;
  readonly conns: H2ClientConnection[] = [];
  private readonly waiters: { waiter: H2PoolWaiter; sinceMs: number }[] = [];
  private dialing = 0;
  private opened = 0;
  private dispatched = 0;

  /** The identity new connections require of the server (mTLS), or undefined: plaintext. */
  readonly mtlsIdentity: string | undefined;
  /** The outbound `tls` labels of this endpoint's series (Linkerd's TlsConnect). */
  readonly tlsLabels: OutboundTlsLabels;
  /** The pool map's key: host:port plus the identity discovery named. */
  readonly poolKey: string;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly opts: H2PoolOptions,
    private readonly totals: H2PoolTotals = { opened: 0, dispatched: 0 },
    readonly identity?: string,
    /** Where refused mTLS peers are reported (rate limited per endpoint and cause). */
    private readonly refusals?: RateLimitedLog,
  ) {
    this.key = endpointKey(host, port);
    this.poolKey = h2PoolKey(this.key, identity);
    this.mtlsIdentity = opts.meshTls !== undefined ? identity : undefined;
    this.tlsLabels = outboundTlsLabels(opts.meshTls !== undefined, identity);
  }

  snapshot(): H2EndpointPoolSnapshot {
    let openStreams = 0;
    const peerMax: (number | null)[] = [];
    for (const conn of this.conns) {
      if (!conn.connected) continue;
      openStreams += conn.openStreams;
      peerMax.push(conn.peerMaxConcurrentStreams);
    }
    return {
      endpoint: this.key,
      ...(this.identity !== undefined ? { identity: this.identity } : {}),
      connections: this.conns.length - this.dialing,
      connecting: this.dialing,
      openStreams,
      peerMaxConcurrentStreams: peerMax,
      queued: this.waiters.length,
      opened: this.opened,
      dispatched: this.dispatched,
    };
  }

  acquire(waiter: H2PoolWaiter): void {
    const conn = this.withFreeStream();
    if (conn !== null && this.waiters.length === 0) {
      waiter.onPoolConnection(conn);
      return;
    }
    if (this.waiters.length >= this.opts.maxQueued) {
      waiter.onPoolError(new LoadShedError(this.key));
      return;
    }
    this.waiters.push({ waiter, sinceMs: this.opts.nowMs() });
    this.serve();
  }

  cancel(waiter: H2PoolWaiter): void {
    const i = this.waiters.findIndex((w) => w.waiter === waiter);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  private withFreeStream(): H2ClientConnection | null {
    for (const conn of this.conns) if (conn.availableStreams > 0) return conn;
    return null;
  }

  /** Hands free streams to waiters in order; dials when waiters remain and no dial is under way. */
  private serve(): void {
    while (this.waiters.length > 0) {
      const conn = this.withFreeStream();
      if (conn === null) break;
      const before = conn.availableStreams;
      this.waiters.shift()!.waiter.onPoolConnection(conn);
      if (conn.availableStreams === before) continue; // the waiter did not take it (finished meanwhile)
    }
    if (this.waiters.length > 0 && this.dialing === 0 && this.conns.length < this.opts.maxConnectionsPerEndpoint) this.dial();
  }

  private dial(): void {
    const identity = this.mtlsIdentity;
    const conn = new H2ClientConnection(this, this.key, this.opts.direction, this.opts.logger, this.opts.keepalive, identity, this.opts.clock);
    this.conns.push(conn);
    this.dialing++;
    this.opened++;
    this.totals.opened++;
    conn.connectTimer = setTimeout(() => {
      if (conn.connected || conn.closed) return;
      conn.closed = true;
      this.onConnectFailed(conn, new ConnectTimeoutError(this.key, this.opts.connectTimeoutMs));
      conn.socket?.terminate();
    }, this.opts.connectTimeoutMs);
    let tls;
    try {
      // Built from the identity in force now: after a rotation, new connections present the new certificate.
      tls = identity !== undefined ? this.opts.meshTls!.options(identity, "h2") : undefined;
    } catch (err) {
      conn.onClose(new PeerIdentityError(this.key, "MESHLET_TLS_HANDSHAKE_FAILED", `local credentials unusable: ${(err as Error).message}`));
      return;
    }
    Bun.connect({ hostname: this.host, port: this.port, socket: h2ClientSocketHandlers, data: conn, ...(tls !== undefined ? { tls } : {}) }).catch((err: unknown) => {
      if (!conn.closed) conn.onClose(err instanceof Error ? err : new Error(String(err)));
    });
  }

  // === H2ConnectionHome ===

  onConnected(conn: H2ClientConnection): void {
    this.dialing--;
    conn.idleSinceMs = this.opts.nowMs();
    this.serve();
  }

  onConnectFailed(conn: H2ClientConnection, err: Error): void {
    if (!this.remove(conn)) return;
    this.dialing--;
    const failure = err instanceof ConnectTimeoutError || err instanceof PeerIdentityError ? err : new ConnectRefusedError(this.key, { cause: err });
    if (err instanceof PeerIdentityError) {
      this.refusals?.warn(`${this.poolKey} ${err.refusal}`, "meshed endpoint refused", { endpoint: this.key, code: err.refusal, expected: this.mtlsIdentity ?? "", detail: err.detail });
    }
    const waiters = this.waiters.splice(0);
    for (const w of waiters) w.waiter.onPoolError(failure);
  }

  onStreamOpened(): void {
    this.dispatched++;
    this.totals.dispatched++;
  }

  onStreamsAvailable(conn: H2ClientConnection): void {
    if (conn.ownedStreams === 0) conn.idleSinceMs = this.opts.nowMs();
    if (this.waiters.length > 0) this.serve();
  }

  onClosed(conn: H2ClientConnection): void {
    this.remove(conn);
    if (this.waiters.length > 0) this.serve();
  }

  private remove(conn: H2ClientConnection): boolean {
    const i = this.conns.indexOf(conn);
    if (i < 0) return false;
    this.conns.splice(i, 1);
    return true;
  }

  /** Closes idle connections past the idle timeout and fails waiters queued too long. */
  sweep(nowMs: number): void {
    for (const conn of [...this.conns]) {
      if (conn.connected && conn.ownedStreams === 0 && nowMs - conn.idleSinceMs > this.opts.idleTimeoutMs) conn.destroy();
    }
    while (this.waiters.length > 0 && nowMs - this.waiters[0]!.sinceMs > this.opts.queueTimeoutMs) {
      this.waiters.shift()!.waiter.onPoolError(new FailFastError(this.key, this.opts.queueTimeoutMs));
    }
  }

  closeAll(): void {
    for (const conn of [...this.conns]) conn.destroy();
  }

  /** No connection and nobody waiting: the pool may forget this endpoint. */
  get unused(): boolean {
    return this.conns.length === 0 && this.waiters.length === 0;
  }
}

function h2PoolKey(addr: string, identity: string | undefined): string {
  return identity === undefined ? addr : `${addr} ${identity}`;
}

export class H2UpstreamPool {
  private readonly endpoints = new Map<string, H2Endpoint>();
  /** The endpoint endpoint() returned last (still in `endpoints`), or null. */
  private lastEndpoint: H2Endpoint | null = null;
  /** Connections opened and streams dispatched since startup, over every endpoint ever pooled. */
  readonly totals: H2PoolTotals = { opened: 0, dispatched: 0 };

  /** Warnings about meshed endpoints refused at the handshake. */
  private readonly refusals: RateLimitedLog | undefined;

  constructor(private readonly opts: H2PoolOptions) {
    this.refusals = opts.logger !== undefined ? new RateLimitedLog(opts.logger) : undefined;
  }

  snapshot(): H2EndpointPoolSnapshot[] {
    return [...this.endpoints.values()].map((ep) => ep.snapshot());
  }

  /** The pool for host:port, and `identity` when discovery names the peer's (created on first use). */
  endpoint(host: string, port: number, identity?: string): H2Endpoint {
    const last = this.lastEndpoint;
    // Most requests in a row go where the previous one went: no key strings to build and hash then.
    if (last !== null && last.port === port && last.host === host && last.identity === identity) return last;
    const key = h2PoolKey(endpointKey(host, port), identity);
    let ep = this.endpoints.get(key);
    if (ep === undefined) {
      ep = new H2Endpoint(host, port, this.opts, this.totals, identity, this.refusals);
      this.endpoints.set(key, ep);
    }
    this.lastEndpoint = ep;
    return ep;
  }

  sweep(nowMs: number): void {
    for (const [key, ep] of this.endpoints) {
      ep.sweep(nowMs);
      if (ep.unused) {
        this.endpoints.delete(key);
        if (this.lastEndpoint === ep) this.lastEndpoint = null;
      }
    }
  }

  closeAll(): void {
    for (const ep of this.endpoints.values()) ep.closeAll();
  }

  /** Open upstream connections (tests read reuse from it). */
  get connections(): H2ClientConnection[] {
    return [...this.endpoints.values()].flatMap((ep) => ep.conns);
  }
}
