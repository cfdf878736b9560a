// The HTTP/2 stage shared by inbound and outbound: the h2c engine (src/h2/) configured from the same
// MESHLET_* settings as the HTTP/1 stage, and the handler for connections the front door hands over
// after sniffing the HTTP/2 preface (the fd becomes Bun's). Runs the same filter chain as HTTP/1.
import type { Config } from "../config/env.ts";
import type { FilterChainSource } from "../http/filter.ts";
import type { KeepaliveSettings } from "../h2/keepalive.ts";
import type { H2Server } from "../h2/server.ts";
import type { AcceptedConnection } from "../l4/front-door.ts";
import type { Logger } from "../log/logger.ts";
import type { Direction } from "../rt/direction.ts";
import { http1Settings, plaintextClientTls } from "./http1.ts";
import type { MeshClientTls } from "../tls/mesh-client-tls.ts";

export interface H2Stage {
  /**
   * The engine, loaded and made on first use (the first HTTP/2 connection, or its pool asked for):
   * until then src/h2/ is not even loaded — ~2 MB of RSS that a sidecar seeing only HTTP/1 never pays
   * (bench/RESULTS.md, Footprint). Draining or closing a stage that never made its engine loads nothing.
   */
  readonly server: H2Server;
  readonly handle: (conn: AcceptedConnection) => void;
}

/** Keep-alive PINGs need both an interval and a timeout (as in Linkerd); either at 0 turns them off. */
function h2KeepaliveSettings(config: Config): KeepaliveSettings {
  const on = config.http2KeepaliveIntervalMs > 0 && config.http2KeepaliveTimeoutMs > 0;
  return on ? { intervalMs: config.http2KeepaliveIntervalMs, timeoutMs: config.http2KeepaliveTimeoutMs } : { intervalMs: 0, timeoutMs: 0 };
}

type EngineModule = typeof import("../h2/server.ts");

/** `meshTls`: outbound, with an identity only: upstreams that discovery names an identity for get mTLS (ALPN h2). */
export function h2Stage(config: Config, direction: Direction, chain: FilterChainSource, logger: Logger, meshTls?: MeshClientTls): H2Stage {
  let engine: H2Server | null = null;
  // Remembered so that an engine made after a drain or close starts drained or closed too.
  let drained: { readonly graceMs: number | undefined } | null = null;
  let closed = false;
  const made = (): H2Server => {
    if (engine !== null) return engine;
    // A synchronous require: Bun loads the ES module graph in place, so the first connection is
    // adopted in the same turn it was handed over (the load takes ~45 ms, once per process).
    const { createH2Server } = require("../h2/server.ts") as EngineModule;
    const s = http1Settings(config, direction);
    engine = createH2Server({
      direction,
      connectTimeoutMs: s.connectTimeoutMs,
      clientIdleTimeoutMs: s.clientIdleTimeoutMs,
      upstreamIdleTimeoutMs: s.upstreamIdleTimeoutMs,
      maxConnectionsPerUpstream: s.maxConnectionsPerUpstream,
      maxQueuedRequestsPerUpstream: s.maxQueuedRequestsPerUpstream,
      poolQueueTimeoutMs: s.poolQueueTimeoutMs,
      keepalive: h2KeepaliveSettings(config),
      chain,
      logger,
      meshTls,
    });
    if (drained !== null) void engine.drain(drained.graceMs);
    if (closed) engine.close();
    return engine;
  };
  const server: H2Server = {
    get socketHandlers() {
      return made().socketHandlers;
    },
    adoptFd: (fd, info) => made().adoptFd(fd, info),
    drain(graceMs) {
      drained = { graceMs };
      return engine === null ? Promise.resolve() : engine.drain(graceMs);
    },
    close() {
      closed = true;
      engine?.close();
    },
    get openConnections() {
      return engine === null ? 0 : engine.openConnections;
    },
    get pool() {
      return made().pool;
    },
  };
  const tls = plaintextClientTls(config, direction);
  const handle = (conn: AcceptedConnection) => {
    server.adoptFd(conn.fd, {
      clientAddr: conn.client.host,
      clientPort: conn.client.port,
      dst: conn.target.port === 0 ? null : conn.target,
      direction,
      tls,
    });
  };
  return { server, handle };
}
