// The HTTP/2 stage shared by inbound and outbound: the h2c engine (src/h2/) configured from the same
// MESHLET_* settings as the HTTP/1 stage, and the handler for connections the front door hands over
// after sniffing the HTTP/2 preface (the fd becomes Bun's). Runs the same filter chain as HTTP/1.
import type { Config } from "../config/env.ts";
import type { FilterChainSource } from "../http/filter.ts";
import type { H2Server } from "../h2/server.ts";
import type { AcceptedConnection } from "../l4/front-door.ts";
import type { Logger } from "../log/logger.ts";
import type { Direction } from "../rt/direction.ts";
import { http1Settings } from "./http1.ts";

export interface H2Stage {
  /**
   * The engine, made on first use (the first HTTP/2 connection, a drain, a pools view): until then
   * the HTTP/2 modules are not even loaded — ~2–4 MB of RSS a sidecar that only sees HTTP/1 never pays
   * (bench/RESULTS.md, Footprint).
   */
  readonly server: H2Server;
  readonly handle: (conn: AcceptedConnection) => void;
}

type EngineModule = typeof import("../h2/server.ts");

export function h2Stage(config: Config, direction: Direction, chain: FilterChainSource, logger: Logger): H2Stage {
  let server: H2Server | null = null;
  const engine = (): H2Server => {
    if (server !== null) return server;
    // A synchronous require: Bun loads the ES module graph in place, so the first connection is
    // adopted in the same turn it was handed over.
    const { createH2Server } = require("../h2/server.ts") as EngineModule;
    const s = http1Settings(config, direction);
    server = createH2Server({
      direction,
      connectTimeoutMs: s.connectTimeoutMs,
      clientIdleTimeoutMs: s.clientIdleTimeoutMs,
      upstreamIdleTimeoutMs: s.upstreamIdleTimeoutMs,
      maxConnectionsPerUpstream: s.maxConnectionsPerUpstream,
      maxQueuedRequestsPerUpstream: s.maxQueuedRequestsPerUpstream,
      poolQueueTimeoutMs: s.poolQueueTimeoutMs,
      chain,
      logger,
    });
    return server;
  };
  const handle = (conn: AcceptedConnection) => {
    engine().adoptFd(conn.fd, {
      clientAddr: conn.client.host,
      clientPort: conn.client.port,
      dst: conn.target.port === 0 ? null : conn.target,
      direction,
    });
  };
  return {
    get server() {
      return engine();
    },
    handle,
  };
}
