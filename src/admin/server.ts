// The admin server on MESHLET_ADMIN_LISTEN: /live, /ready, /metrics (Prometheus text), /config.json,
// /pools.json, /env.json and /stats.json (introspection), the dashboard at / and, from loopback only,
// /proxy-log-level and POST /shutdown. Everything else is 404 with an empty body, as in linkerd2-proxy.
import type { Server } from "bun";

import type { HostPort } from "../config/values.ts";
import { dashboardResponse, isDashboardPath } from "./dashboard.ts";
import { ListenError } from "../errors/listen-error.ts";
import type { Strings } from "../config/env.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { envEndpoint } from "./env-endpoint.ts";
import { type LogLevelControl, logLevelEndpoint } from "./log-level-endpoint.ts";
import { NOT_LOCALHOST_TEXT, isLoopbackPeer } from "./loopback-peer.ts";
import { metricsEndpoint } from "./metrics-endpoint.ts";
import type { StatsSource } from "../stats/rows.ts";
import { statsEndpoint } from "./stats-endpoint.ts";

export interface AdminOptions {
  readonly listen: HostPort;
  readonly isReady: () => boolean;
  /** Starts the same graceful drain as SIGTERM. */
  readonly shutdown: () => void;
  /** The bodies of GET /config.json and /pools.json, built per request. */
  readonly configView: () => unknown;
  readonly poolsView: () => unknown;
  /** The body of GET /endpoints.json (the discovery table in force); absent: 404. */
  readonly endpointsView?: () => unknown;
  /** MESHLET_TAP_LISTEN for the dashboard's tap view (GET /dashboard/config.json); absent or null: tap is off. */
  readonly tapListen?: HostPort | null;
  /** Serves GET /stats.json; absent: 404. */
  readonly stats?: StatsSource;
  /** The `admin` scope: shutdown requests, refused ones, metrics failures. Default: silent. */
  readonly logger?: Logger;
  /** The process logger's level, read and set by /proxy-log-level (absent: 404). */
  readonly logLevel?: LogLevelControl;
  /** The environment /env.json shows the effective settings of (absent: the defaults). */
  readonly env?: Strings;
}

/** Starts serving; a port that cannot be bound is a ListenError, like the proxy listeners'. */
export function startAdminServer(options: AdminOptions): Server<undefined> {
  try {
    return serve(options);
  } catch (err) {
    const code = (err as { code?: string }).code ?? "EINVAL";
    throw new ListenError("admin", options.listen, code);
  }
}

function serve(options: AdminOptions): Server<undefined> {
  const log = options.logger ?? silentLogger;
  return Bun.serve({
    hostname: options.listen.host,
    port: options.listen.port,
    async fetch(request, server) {
      const path = new URL(request.url).pathname;
      switch (path) {
        case "/live":
          return text(200, "live\n");
        case "/ready":
          return options.isReady() ? text(200, "ready\n") : text(503, "not ready\n");
        case "/metrics":
          return metricsEndpoint(request, log);
        case "/proxy-log-level":
          return logLevelEndpoint(request, server.requestIP(request)?.address ?? "", options.logLevel, log);
        case "/env.json":
          return envEndpoint(request, options.env ?? {});
        case "/config.json":
          return getJson(request, options.configView);
        case "/pools.json":
          return getJson(request, options.poolsView);
        case "/endpoints.json":
          return options.endpointsView !== undefined ? getJson(request, options.endpointsView) : new Response(null, { status: 404 });
        case "/stats.json":
          return options.stats !== undefined ? statsEndpoint(request, options.stats) : new Response(null, { status: 404 });
        case "/shutdown": {
          if (request.method !== "POST") return new Response(null, { status: 405, headers: { allow: "POST" } });
          const peer = server.requestIP(request)?.address ?? "";
          if (!isLoopbackPeer(peer)) {
            log.warn("shutdown refused: not from loopback", { peer });
            return text(403, NOT_LOCALHOST_TEXT);
          }
          log.info("shutdown requested", { peer });
          options.shutdown();
          return text(200, "shutdown\n");
        }
        default:
          if (isDashboardPath(path)) return dashboardResponse(request, path, { tapListen: options.tapListen ?? null });
          return new Response(null, { status: 404 });
      }
    },
  });
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain" } });
}

function getJson(request: Request, view: () => unknown): Response {
  if (request.method !== "GET" && request.method !== "HEAD") return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
  return new Response(JSON.stringify(view(), null, 2) + "\n", { headers: { "content-type": "application/json" } });
}
