// Entry point of the HTTP/1 engine: socket handlers for Bun.listen and for fds adopted from the native
// front door, the periodic sweep that enforces timeouts and pool eviction, and graceful drain.
import type { SocketHandler } from "bun";
import { defaultHttpMetrics } from "../metrics/http.ts";
import { resolveOptions, type Http1ServerOptions } from "./options.ts";
import type { ConnInfo } from "./request-ctx.ts";
import { Resolver } from "./resolver.ts";
import { adoptClientFd, clientSocketHandlers } from "./client-sockets.ts";
import { ServerConnection, type ConnState } from "./server-connection.ts";
import { ServerEnv } from "./server-env.ts";
import { UpstreamPool } from "./upstream-pool.ts";
import { httpTransport } from "../metrics/transport.ts";
import { monotonicClock } from "../rt/clock.ts";
import { EMPTY_CHAIN, staticChain } from "./filter.ts";
import { ExchangeLog } from "./exchange-log.ts";
import { silentLogger } from "../log/logger.ts";

export type { ConnInfo, RequestCtx, UpstreamTarget } from "./request-ctx.ts";
export type { Http1ServerOptions } from "./options.ts";
export type { ConnState } from "./server-connection.ts";

export interface Http1Server {
  /**
   * Handlers for Bun.listen and Bun.connect({ fd }); `socket.data` is owned by the engine. Listen with
   * `allowHalfOpen: true`, or clients that half-close after their request never get the response.
   */
  readonly socketHandlers: SocketHandler<ConnState>;
  /** Adopts a connected client fd handed over by the native front door; the fd then belongs to Bun. */
  adoptFd(fd: number, info: ConnInfo): void;
  /**
   * Graceful drain: idle keep-alive connections close now, busy ones after their current response
   * (sent with `connection: close`); after `graceMs` the rest are cut. Resolves when all are closed.
   */
  drain(graceMs?: number): Promise<void>;
  /** Closes everything at once (tests, fatal shutdown). */
  close(): void;
  readonly openConnections: number;
  /** The upstream pools (tests and admin read reuse counters from it). */
  readonly pool: UpstreamPool;
}

const DEFAULT_DRAIN_GRACE_MS = 30_000;

export function createHttp1Server(options: Http1ServerOptions): Http1Server {
  const opts = resolveOptions(options);
  const nowMs = options.nowMs ?? monotonicClock.nowMs;
  const resolver = new Resolver({ ttlMs: opts.dnsTtlMs, negativeTtlMs: opts.dnsNegativeTtlMs, nowMs });
  const logger = (options.logger ?? silentLogger).scoped(opts.direction);
  const pool = new UpstreamPool({
    connectTimeoutMs: opts.connectTimeoutMs,
    liveness: { keepaliveMs: opts.upstreamKeepaliveMs, userTimeoutMs: opts.tcpUserTimeoutMs },
    upstreamIdleTimeoutMs: opts.upstreamIdleTimeoutMs,
    maxConnectionsPerUpstream: opts.maxConnectionsPerUpstream,
    maxQueuedRequestsPerUpstream: opts.maxQueuedRequestsPerUpstream,
    poolQueueTimeoutMs: opts.poolQueueTimeoutMs,
    nowMs,
    resolver,
    direction: opts.direction,
    meshTls: options.meshTls,
    logger,
  });
  const exchangeLog = new ExchangeLog(logger, opts.direction, { nowMs });
  const env = new ServerEnv(opts, pool, options.chain ?? staticChain(EMPTY_CHAIN), options.metrics ?? defaultHttpMetrics(), nowMs, exchangeLog);

  // One timer per server drives every timeout: no per-request timers on the hot path.
  const shortestMs = Math.min(opts.headReadTimeoutMs, opts.clientIdleTimeoutMs, opts.upstreamIdleTimeoutMs, opts.poolQueueTimeoutMs);
  const sweepIntervalMs = Math.max(10, Math.min(1000, Math.floor(shortestMs / 4)));
  let sweeper: ReturnType<typeof setInterval> | null = setInterval(() => {
    const now = nowMs();
    env.coarseNowMs = now;
    for (const conn of env.connections) conn.sweep(now);
    pool.sweep(now);
  }, sweepIntervalMs);
  sweeper.unref();

  const stopSweeper = (): void => {
    if (sweeper !== null) clearInterval(sweeper);
    sweeper = null;
  };

  const acceptedInfo = (socket: { remoteAddress: string; remotePort: number }): ConnInfo => ({
    clientAddr: socket.remoteAddress,
    clientPort: socket.remotePort,
    dst: opts.forwardTo,
    direction: opts.direction,
  });

  const socketHandlers = clientSocketHandlers<ServerConnection>({
    open(socket, adopted) {
      const info = adopted ?? acceptedInfo(socket);
      // A handed-off client was counted in tcp_open_total by the front door when it was accepted.
      const transport = httpTransport.open(info.direction, "src", info.dst?.host ?? "", info.dst?.port ?? 0, adopted === undefined);
      const conn = new ServerConnection(socket, info, env, transport);
      env.connections.add(conn);
      if (env.draining) conn.drainIfIdle();
      return conn;
    },
    isConnection: (data): data is ServerConnection => data instanceof ServerConnection,
    logger,
  });

  return {
    socketHandlers,
    pool,
    get openConnections() {
      return env.connections.size;
    },
    adoptFd(fd, info) {
      adoptClientFd(fd, info, socketHandlers, logger);
    },
    drain(graceMs = DEFAULT_DRAIN_GRACE_MS) {
      env.draining = true;
      pool.closeIdle();
      for (const conn of env.connections) conn.drainIfIdle();
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(grace);
          stopSweeper();
          pool.closeIdle();
          resolve();
        };
        const grace = setTimeout(() => {
          for (const conn of env.connections) conn.forceClose();
          done();
        }, graceMs);
        grace.unref();
        if (env.connections.size === 0) done();
        else env.onDrained = done;
      });
    },
    close() {
      env.draining = true;
      stopSweeper();
      exchangeLog.close();
      for (const conn of env.connections) conn.forceClose();
      pool.closeIdle();
    },
  };
}
