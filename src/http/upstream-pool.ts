// Keep-alive connection pools, one per upstream endpoint (host:port): LIFO reuse of idle connections,
// a connection cap with a bounded FIFO wait queue (full → 503 load shed, waited too long → 504
// failfast), connect timeouts, and idle eviction (3 s by default, like Linkerd's HTTP/1 pool). An
// endpoint with a peer identity is dialed with mTLS when this workload has one; pools are per
// endpoint AND identity, so plaintext and mTLS connections to one address never mix.
import {
  UPSTREAM_HANDLERS,
  UPSTREAM_OPEN,
  UpstreamConnection,
  type ConnectionHome,
} from "./upstream-connection.ts";
import { ConnectRefusedError, ConnectTimeoutError, FailFastError, GatewayLoopError, LoadShedError, NoEndpointError, PeerIdentityError } from "./proxy-errors.ts";
import { canonicalIp, ownListeners } from "./own-listeners.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import type { Resolver } from "./resolver.ts";
import { setTcpLiveness } from "./tcp-liveness.ts";
import type { Direction } from "../rt/direction.ts";
import type { Logger } from "../log/logger.ts";
import { RateLimitedLog } from "../log/rate-limited-log.ts";
import { type OutboundTlsLabels, outboundTlsLabels } from "../metrics/http.ts";
import type { MeshClientTls } from "../tls/mesh-client-tls.ts";

/** Someone waiting for a connection. Exactly one of the two callbacks is called, possibly synchronously. */
export interface PoolWaiter {
  onPoolConnection(conn: UpstreamConnection): void;
  onPoolError(err: ProxyError): void;
}

export interface PoolOptions {
  readonly connectTimeoutMs: number;
  /** TCP keepalive and TCP_USER_TIMEOUT of each new connection (0 = off / the kernel's). */
  readonly liveness?: { readonly keepaliveMs: number; readonly userTimeoutMs: number };
  /** Idle connections older than this are closed. */
  readonly upstreamIdleTimeoutMs: number;
  /** Open + connecting connections per endpoint; requests beyond it wait in the queue. */
  readonly maxConnectionsPerUpstream: number;
  /** Requests allowed to wait per endpoint when at the cap; beyond it → 503. */
  readonly maxQueuedRequestsPerUpstream: number;
  /** How long a queued request waits for a connection before 504 (failfast). */
  readonly poolQueueTimeoutMs: number;
  readonly nowMs: () => number;
  readonly resolver: Resolver;
  /** For the transport metrics of upstream connections. */
  readonly direction: Direction;
  /** This workload's identity for mTLS origination; absent: endpoints with an identity are dialed in plaintext. */
  readonly meshTls?: MeshClientTls | undefined;
  /** Where refused mTLS peers are reported (warn, rate limited per endpoint and cause). */
  readonly logger?: Logger | undefined;
}

/** One endpoint's pool at a moment, read-only (the admin server's /pools.json). */
export interface EndpointPoolSnapshot {
  readonly endpoint: string;
  /** The peer identity discovery named for it (its own pool, apart from plaintext ones to the address). */
  readonly identity?: string;
  /** Connected: idle + in use. */
  readonly open: number;
  readonly connecting: number;
  readonly idle: number;
  readonly inUse: number;
  /** Requests waiting for a connection at the cap. */
  readonly queued: number;
  /** Since this endpoint was pooled: connections opened and requests dispatched on them. */
  readonly opened: number;
  readonly dispatched: number;
}

interface QueuedWaiter {
  readonly waiter: PoolWaiter;
  readonly sinceMs: number;
}

export class EndpointPool implements ConnectionHome {
  /** LIFO stack: the most recently used connection is the warmest and least likely to be closed. */
  private readonly idle: UpstreamConnection[] = [];
  private readonly queue: QueuedWaiter[] = [];
  /** Dialing connection → the waiter it is for (null once that waiter went away). */
  private readonly dialing = new Map<UpstreamConnection, PoolWaiter | null>();
  /** Connections counted against the cap: connecting, idle and busy. */
  total = 0;
  /** Dropped from the pool map (idle and empty): holders must look the endpoint up again. */
  retired = false;
  /** Connections ever opened, and requests dispatched on connections: reuse = 1 - opened / dispatched. */
  opened = 0;
  dispatched = 0;
  readonly addr: string;
  /** The identity new connections require of the server (mTLS), or undefined: plaintext. */
  readonly mtlsIdentity: string | undefined;
  /** The outbound `tls` labels of this endpoint's series (Linkerd's TlsConnect). */
  readonly tlsLabels: OutboundTlsLabels;

  /** `key`: host:port; `poolKey`: the pool map's key, host:port plus the identity discovery named. */
  constructor(
    private readonly pool: UpstreamPool,
    readonly host: string,
    readonly port: number,
    readonly key: string,
    readonly identity: string | undefined,
    readonly poolKey: string,
  ) {
    this.addr = key;
    this.mtlsIdentity = pool.opts.meshTls !== undefined ? identity : undefined;
    this.tlsLabels = outboundTlsLabels(pool.opts.meshTls !== undefined, identity);
  }

  /**
   * Hands `waiter` a connection: a live idle one synchronously, a new one once connected, or a queued
   * turn. `fresh` skips idle connections (CONNECT tunnels must never run over a used HTTP connection).
   */
  acquire(waiter: PoolWaiter, fresh = false): void {
    if (!fresh) {
      const idle = this.idle;
      while (idle.length > 0) {
        const conn = idle.pop()!;
        if (conn.state !== UPSTREAM_OPEN) continue;
        conn.requests++;
        this.dispatched++;
        this.pool.dispatched++;
        waiter.onPoolConnection(conn);
        return;
      }
    }
    const opts = this.pool.opts;
    if (this.total < opts.maxConnectionsPerUpstream) {
      this.dial(waiter);
      return;
    }
    if (this.queue.length >= opts.maxQueuedRequestsPerUpstream) {
      waiter.onPoolError(new LoadShedError(this.addr));
      return;
    }
    this.queue.push({ waiter, sinceMs: opts.nowMs() });
  }

  /** The waiter no longer wants a connection (its client went away). */
  cancel(waiter: PoolWaiter): void {
    for (const [conn, w] of this.dialing) if (w === waiter) this.dialing.set(conn, null);
    const i = this.queue.findIndex((q) => q.waiter === waiter);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** Returns a healthy connection after a complete exchange: to a queued waiter, else to the idle stack. */
  release(conn: UpstreamConnection): void {
    conn.owner = null;
    if (conn.state !== UPSTREAM_OPEN) return;
    conn.resume();
    const next = this.queue.shift();
    if (next !== undefined) {
      conn.requests++;
      this.dispatched++;
      this.pool.dispatched++;
      next.waiter.onPoolConnection(conn);
      return;
    }
    conn.idleSinceMs = this.pool.opts.nowMs();
    this.idle.push(conn);
  }

  get idleCount(): number {
    return this.idle.length;
  }

  snapshot(): EndpointPoolSnapshot {
    const open = this.total - this.dialing.size;
    const idle = this.idle.length;
    return { endpoint: this.addr, ...(this.identity !== undefined ? { identity: this.identity } : {}), open, connecting: this.dialing.size, idle, inUse: open - idle, queued: this.queue.length, opened: this.opened, dispatched: this.dispatched };
  }

  private dial(waiter: PoolWaiter): void {
    const opts = this.pool.opts;
    this.total++;
    const conn = new UpstreamConnection(this, this.addr, this.pool.opts.direction, this.mtlsIdentity);
    this.dialing.set(conn, waiter);
    conn.connectTimer = setTimeout(() => {
      if (!this.dialing.has(conn)) return;
      conn.handleConnectError(new ConnectTimeoutError(this.addr, opts.connectTimeoutMs));
    }, opts.connectTimeoutMs);
    const address = opts.resolver.resolve(this.host);
    if (typeof address === "string") this.connect(conn, address);
    else {
      address.then(
        (ip) => {
          if (this.dialing.has(conn)) this.connect(conn, ip);
        },
        (err: unknown) => conn.handleConnectError(new NoEndpointError(this.addr, { cause: err })),
      );
    }
  }

  private connect(conn: UpstreamConnection, ip: string): void {
    // The resolved address, whatever the authority's spelling, must not be one of meshlet's listeners.
    if (ownListeners.accepts(canonicalIp(ip) ?? ip, this.port)) return conn.handleConnectError(new GatewayLoopError(this.addr));
    const identity = conn.expectedIdentity;
    let tls;
    try {
      // Built from the identity in force now: after a rotation, new connections present the new certificate.
      tls = identity !== undefined ? this.pool.opts.meshTls!.options(identity) : undefined;
    } catch (err) {
      return conn.handleConnectError(new PeerIdentityError(this.addr, "MESHLET_TLS_HANDSHAKE_FAILED", `local credentials unusable: ${(err as Error).message}`));
    }
    Bun.connect({ hostname: ip, port: this.port, allowHalfOpen: true, socket: UPSTREAM_HANDLERS, data: conn, ...(tls !== undefined ? { tls } : {}) }).catch((err: unknown) => {
      conn.handleConnectError(err instanceof Error ? err : new Error(String(err)));
    });
  }

  private settleDial(conn: UpstreamConnection): PoolWaiter | null | undefined {
    const waiter = this.dialing.get(conn);
    this.dialing.delete(conn);
    clearTimeout(conn.connectTimer);
    return waiter;
  }

  // === ConnectionHome ===

  onConnected(conn: UpstreamConnection): void {
    const waiter = this.settleDial(conn);
    this.opened++;
    this.pool.opened++;
    conn.socket?.setNoDelay(true);
    const liveness = this.pool.opts.liveness;
    if (liveness !== undefined && conn.socket !== null) setTcpLiveness(conn.socket, liveness.keepaliveMs, liveness.userTimeoutMs);
    if (waiter === undefined || waiter === null) {
      this.release(conn);
      return;
    }
    conn.requests++;
    this.dispatched++;
    this.pool.dispatched++;
    waiter.onPoolConnection(conn);
  }

  onConnectFailed(conn: UpstreamConnection, err: Error): void {
    const waiter = this.settleDial(conn);
    this.total--;
    const proxyErr = toConnectError(err, this.addr);
    if (proxyErr instanceof PeerIdentityError) {
      this.pool.refusals?.warn(`${this.poolKey} ${proxyErr.refusal}`, "meshed endpoint refused", {
        endpoint: this.addr,
        code: proxyErr.refusal,
        expected: this.mtlsIdentity ?? "",
        detail: proxyErr.detail, // what the server presented
      });
    }
    if (waiter !== undefined && waiter !== null) waiter.onPoolError(proxyErr);
    // Queued requests get a turn at dialing; they time out through the sweep if dials keep failing.
    this.dialForQueue();
  }

  onClosed(conn: UpstreamConnection): void {
    this.total--;
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    this.dialForQueue();
  }

  private dialForQueue(): void {
    while (this.queue.length > 0 && this.total < this.pool.opts.maxConnectionsPerUpstream) {
      this.dial(this.queue.shift()!.waiter);
    }
  }

  // === housekeeping ===

  /** Closes idle connections past the idle timeout and fails queued requests past the queue timeout. */
  sweep(nowMs: number): void {
    const opts = this.pool.opts;
    const idle = this.idle;
    // Oldest idle connections sit at the bottom of the stack.
    while (idle.length > 0 && nowMs - idle[0]!.idleSinceMs >= opts.upstreamIdleTimeoutMs) idle[0]!.destroy();
    const queue = this.queue;
    while (queue.length > 0 && nowMs - queue[0]!.sinceMs >= opts.poolQueueTimeoutMs) {
      queue.shift()!.waiter.onPoolError(new FailFastError(this.addr, opts.poolQueueTimeoutMs));
    }
  }

  closeIdle(): void {
    while (this.idle.length > 0) this.idle[this.idle.length - 1]!.destroy();
  }

  get isEmpty(): boolean {
    return this.total === 0 && this.queue.length === 0;
  }
}

function toConnectError(err: Error, addr: string): ProxyError {
  if (err instanceof ConnectTimeoutError || err instanceof NoEndpointError || err instanceof GatewayLoopError || err instanceof PeerIdentityError) return err;
  return new ConnectRefusedError(addr, { cause: err });
}

/** Formats host:port, bracketing IPv6 literals. */
export function endpointKey(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export class UpstreamPool {
  private readonly endpoints = new Map<string, EndpointPool>();
  /** Totals over every endpoint ever pooled (endpoints are dropped when idle): reuse = 1 - opened / dispatched. */
  opened = 0;
  dispatched = 0;

  /** Warnings about meshed endpoints refused at the handshake, rate limited per endpoint and cause. */
  readonly refusals: RateLimitedLog | undefined;

  constructor(readonly opts: PoolOptions) {
    this.refusals = opts.logger !== undefined ? new RateLimitedLog(opts.logger) : undefined;
  }

  /**
   * The pool for host:port, and `identity` when discovery names the peer's (created on first use;
   * dropped by sweep once empty and idle).
   */
  endpoint(host: string, port: number, identity?: string): EndpointPool {
    const key = endpointKey(host, port);
    const poolKey = identity === undefined ? key : `${key} ${identity}`;
    let ep = this.endpoints.get(poolKey);
    if (ep === undefined) {
      ep = new EndpointPool(this, host, port, key, identity, poolKey);
      this.endpoints.set(poolKey, ep);
    }
    return ep;
  }

  /** Looks up an existing endpoint pool (tests, admin). */
  get(key: string): EndpointPool | undefined {
    return this.endpoints.get(key);
  }

  /** Every pooled endpoint now (endpoints idle and empty are dropped by the sweep). */
  snapshot(): EndpointPoolSnapshot[] {
    return [...this.endpoints.values()].map((ep) => ep.snapshot());
  }

  sweep(nowMs: number): void {
    for (const [key, ep] of this.endpoints) {
      ep.sweep(nowMs);
      if (ep.isEmpty) {
        ep.retired = true;
        this.endpoints.delete(key);
      }
    }
  }

  closeIdle(): void {
    for (const ep of this.endpoints.values()) ep.closeIdle();
  }
}
