// Entry point of the HTTP/2 engine (h2c prior knowledge): socket handlers for fds adopted from the
// native front door (or Bun.listen in tests), the periodic sweep (idle client connections, upstream
// pool eviction and queue failfast) and graceful drain (GOAWAY, then close when streams are done).
import type { SocketHandler } from "bun";
import { ExchangeLog } from "../http/exchange-log.ts";
import { EMPTY_CHAIN, type FilterChainSource, staticChain } from "../http/filter.ts";
import type { ConnInfo } from "../http/request-ctx.ts";
import { adoptClientFd, clientSocketHandlers } from "../http/client-sockets.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import { defaultHttpMetrics, type HttpMetrics } from "../metrics/http.ts";
import { httpTransport } from "../metrics/transport.ts";
import { monotonicClock } from "../rt/clock.ts";
import type { Direction } from "../rt/direction.ts";
import { CallbackClock } from "./callback-clock.ts";
import { type H2ConnState, H2ServerConnection } from "./server-connection.ts";
import { H2ServerEnv } from "./server-env.ts";
import { H2UpstreamPool } from "./upstream-pool.ts";
import type { KeepaliveSettings } from "./keepalive.ts";
import type { MeshClientTls } from "../tls/mesh-client-tls.ts";

export interface H2ServerOptions {
  readonly direction: Direction;
  /** Fixed destination of every accepted connection (tests, forward listeners); null: by :authority. */
  readonly forwardTo?: { readonly host: string; readonly port: number } | null;
  readonly connectTimeoutMs: number;
  readonly clientIdleTimeoutMs: number;
  readonly upstreamIdleTimeoutMs: number;
  readonly maxConnectionsPerUpstream: number;
  readonly maxQueuedRequestsPerUpstream: number;
  readonly poolQueueTimeoutMs: number;
  readonly chain?: FilterChainSource;
  readonly metrics?: HttpMetrics;
  readonly logger?: Logger;
  readonly nowMs?: () => number;
  /** HTTP/2 keep-alive PINGs on client and upstream connections (default off). */
  readonly keepalive?: KeepaliveSettings;
  /** This workload's identity for mTLS to meshed endpoints (outbound); absent: every upstream is plaintext. */
  readonly meshTls?: MeshClientTls | undefined;
}

export interface H2Server {
  /** Handlers for Bun.listen and Bun.connect({ fd }); `socket.data` is owned by the engine. */
  readonly socketHandlers: SocketHandler<H2ConnState>;
  /** Adopts a connected client fd whose first bytes are the HTTP/2 preface; the fd then belongs to Bun. */
  adoptFd(fd: number, info: ConnInfo): void;
  drain(graceMs?: number): Promise<void>;
  close(): void;
  readonly openConnections: number;
  readonly pool: H2UpstreamPool;
}

const DEFAULT_DRAIN_GRACE_MS = 30_000;

export function createH2Server(options: H2ServerOptions): H2Server {
  // One reading per socket callback for the timestamps taken inside it (about five per request).
  const clock = new CallbackClock(options.nowMs ?? monotonicClock.nowMs);
  const nowMs = clock.nowMs;
  const direction = options.direction;
  const logger = (options.logger ?? silentLogger).scoped(direction);
  const keepalive = options.keepalive ?? { intervalMs: 0, timeoutMs: 0 };
  const pool = new H2UpstreamPool({
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.upstreamIdleTimeoutMs,
    maxQueued: options.maxQueuedRequestsPerUpstream,
    queueTimeoutMs: options.poolQueueTimeoutMs,
    maxConnectionsPerEndpoint: options.maxConnectionsPerUpstream,
    direction,
    nowMs,
    clock,
    logger,
    keepalive,
    meshTls: options.meshTls,
  });
  const log = new ExchangeLog(logger, direction, { nowMs });
  const env = new H2ServerEnv(
    direction,
    pool,
    options.chain ?? staticChain(EMPTY_CHAIN),
    options.metrics ?? defaultHttpMetrics(),
    clock,
    log,
    options.clientIdleTimeoutMs,
    logger,
    keepalive,
  );
  const forwardTo = options.forwardTo ?? null;

  const shortestMs = Math.min(options.clientIdleTimeoutMs, options.upstreamIdleTimeoutMs, options.poolQueueTimeoutMs);
  let sweeper: ReturnType<typeof setInterval> | null = setInterval(() => {
    const now = nowMs();
    for (const conn of env.connections) conn.sweep(now);
    pool.sweep(now);
  }, Math.max(10, Math.min(1000, Math.floor(shortestMs / 4))));
  sweeper.unref();
  const stopSweeper = (): void => {
    if (sweeper !== null) clearInterval(sweeper);
    sweeper = null;
  };

  const socketHandlers = clientSocketHandlers<H2ServerConnection>({
    open(socket, adopted) {
      const info: ConnInfo = adopted ?? { clientAddr: socket.remoteAddress, clientPort: socket.remotePort, dst: forwardTo, direction };
      const transport = httpTransport.open(info.direction, "src", info.dst?.host ?? "", info.dst?.port ?? 0, adopted === undefined);
      const conn = new H2ServerConnection(socket, info, env, transport);
      env.connections.add(conn);
      if (env.draining) conn.drain();
      return conn;
    },
    isConnection: (data): data is H2ServerConnection => data instanceof H2ServerConnection,
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
      for (const conn of env.connections) conn.drain();
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(grace);
          stopSweeper();
          pool.closeAll();
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
      log.close();
      for (const conn of env.connections) conn.forceClose();
      pool.closeAll();
    },
  };
}
