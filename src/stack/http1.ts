// The HTTP/1 stage shared by inbound and outbound: an HTTP/1 engine configured from MESHLET_* settings,
// and the handler that gives it the connections the front door hands over (the fd becomes Bun's).
import type { Config } from "../config/env.ts";
import type { FilterChainSource } from "../http/filter.ts";
import type { Http1Settings } from "../http/options.ts";
import type { Http1Server } from "../http/server.ts";
import { createHttp1Server } from "../http/server.ts";
import type { AcceptedConnection } from "../l4/front-door.ts";
import type { Logger } from "../log/logger.ts";
import { type InboundTlsLabels, inboundTlsLabels } from "../metrics/http.ts";
import type { Direction } from "../rt/direction.ts";
import type { MeshClientTls } from "../tls/mesh-client-tls.ts";

export interface Http1Stage {
  readonly server: Http1Server;
  readonly handle: (conn: AcceptedConnection) => void;
}

/** The engine options the MESHLET_* settings govern, for one direction (the only mapping of them). */
export function http1Settings(config: Config, direction: Direction): Http1Settings {
  return {
    headReadTimeoutMs: config.httpHeadReadTimeoutMs,
    clientIdleTimeoutMs: config.httpClientIdleTimeoutMs,
    upstreamIdleTimeoutMs: config.httpPoolIdleTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    upstreamKeepaliveMs: direction === "inbound" ? config.inboundConnectKeepaliveMs : config.outboundConnectKeepaliveMs,
    tcpUserTimeoutMs: config.tcpUserTimeoutMs,
    maxConnectionsPerUpstream: config.httpMaxConnectionsPerEndpoint,
    maxQueuedRequestsPerUpstream: config.httpQueueCapacity,
    poolQueueTimeoutMs: config.httpFailfastTimeoutMs,
  };
}

/**
 * The metrics' TLS labels of a plaintext client the front door hands over: inbound, no_tls_from_remote
 * when this workload has an identity (MESHLET_IDENTITY_*; env.ts sets the three or none), else disabled.
 */
export function plaintextClientTls(config: Pick<Config, "identityCertPath">, direction: Direction): InboundTlsLabels | undefined {
  return direction === "inbound" ? inboundTlsLabels(config.identityCertPath !== "", undefined) : undefined;
}

/**
 * `logger`: the process logger; the engine logs in the `direction` scope. `meshTls`: outbound, with an
 * identity only: upstreams that discovery names an identity for are dialed with mTLS.
 */
export function http1Stage(config: Config, direction: Direction, chain: FilterChainSource, logger: Logger, meshTls?: MeshClientTls): Http1Stage {
  const server = createHttp1Server({ direction, ...http1Settings(config, direction), chain, logger, meshTls });
  const tls = plaintextClientTls(config, direction);
  const handle = (conn: AcceptedConnection) => {
    server.adoptFd(conn.fd, {
      clientAddr: conn.client.host,
      clientPort: conn.client.port,
      // No target (outbound without an original destination): each request names its authority.
      dst: conn.target.port === 0 ? null : conn.target,
      direction,
      tls,
    });
  };
  return { server, handle };
}
