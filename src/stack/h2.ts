// The HTTP/2 stage shared by inbound and outbound: the h2c engine (src/h2/) configured from the same
// MESHLET_* settings as the HTTP/1 stage, and the handler for connections the front door hands over
// after sniffing the HTTP/2 preface (the fd becomes Bun's). Runs the same filter chain as HTTP/1.
import type { Config } from "../config/env.ts";
import type { FilterChainSource } from "../http/filter.ts";
import type { KeepaliveSettings } from "../h2/keepalive.ts";
import { createH2Server, type H2Server } from "../h2/server.ts";
import type { AcceptedConnection } from "../l4/front-door.ts";
import type { Logger } from "../log/logger.ts";
import type { Direction } from "../rt/direction.ts";
import { http1Settings } from "./http1.ts";
import type { IdentityStore } from "../identity/workload-identity.ts";
import { MeshClientTls } from "../tls/mesh-client-tls.ts";

export interface H2Stage {
  readonly server: H2Server;
  readonly handle: (conn: AcceptedConnection) => void;
}

/** Keep-alive PINGs need both an interval and a timeout (as in Linkerd); either at 0 turns them off. */
function h2KeepaliveSettings(config: Config): KeepaliveSettings {
  const on = config.http2KeepaliveIntervalMs > 0 && config.http2KeepaliveTimeoutMs > 0;
  return on ? { intervalMs: config.http2KeepaliveIntervalMs, timeoutMs: config.http2KeepaliveTimeoutMs } : { intervalMs: 0, timeoutMs: 0 };
}

/** `identity`: this workload's, outbound only: upstreams that discovery names an identity for get mTLS (ALPN h2). */
export function h2Stage(config: Config, direction: Direction, chain: FilterChainSource, logger: Logger, identity?: IdentityStore | null): H2Stage {
  const s = http1Settings(config, direction);
  const server = createH2Server({
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
    meshTls: identity ? new MeshClientTls(identity) : undefined,
  });
  const handle = (conn: AcceptedConnection) => {
    server.adoptFd(conn.fd, {
      clientAddr: conn.client.host,
      clientPort: conn.client.port,
      dst: conn.target.port === 0 ? null : conn.target,
      direction,
    });
  };
  return { server, handle };
}
