// Per-server state of the HTTP/2 engine shared by its connections and streams: settings, the upstream
// HTTP/2 pool, the filter chain in force, metrics (per-target stats cached so recording is a field
// update) and the failure log. The HTTP/2 counterpart of src/http/server-env.ts.
import { isIP } from "node:net";
import type { ExchangeLog } from "../http/exchange-log.ts";
import type { FilterChainSource } from "../http/filter.ts";
import type { Logger } from "../log/logger.ts";
import type { CallbackClock } from "./callback-clock.ts";
import type { KeepaliveSettings } from "./keepalive.ts";
import { type HttpMetrics, type HttpTargetStats, type InboundTlsLabels, inboundTlsKey } from "../metrics/http.ts";
import type { Direction } from "../rt/direction.ts";
import type { H2ServerConnection } from "./server-connection.ts";
import type { H2Endpoint, H2UpstreamPool } from "./upstream-pool.ts";

/** Entries in the stats cache before it is cleared (the metrics' own table bounds the series). */
const MAX_CACHED_SERIES = 4096;

export class H2ServerEnv {
  draining = false;
  readonly connections = new Set<H2ServerConnection>();
  onDrained: (() => void) | null = null;
  private readonly statsCache = new Map<string, HttpTargetStats>();
  /** The engine's clock (one reading per socket callback). */
  readonly nowMs: () => number;
  /** statsFor()'s last answer and what it was asked (the common case asks the same again). */
  private lastStats: {
    readonly endpoint: H2Endpoint;
    readonly authority: string | undefined;
    readonly clientTls: InboundTlsLabels | undefined;
    readonly stats: HttpTargetStats;
  } | null = null;

  constructor(
    readonly direction: Direction,
    readonly pool: H2UpstreamPool,
    readonly chain: FilterChainSource,
    readonly metrics: HttpMetrics,
    /** Entered by the client connections' socket callbacks. */
    readonly clock: CallbackClock,
    readonly log: ExchangeLog,
    /** Client connections without an open stream close after this long. */
    readonly clientIdleTimeoutMs: number,
    /** The direction's logger (abuse warnings). */
    readonly logger: Logger,
    /** Keep-alive PINGs to clients (interval 0: none). */
    readonly keepalive: KeepaliveSettings,
  ) {
    this.nowMs = clock.nowMs;
  }

  connectionClosed(conn: H2ServerConnection): void {
    this.connections.delete(conn);
    if (this.draining && this.connections.size === 0) this.onDrained?.();
  }

  /**
   * The metrics target for (endpoint, authority); inbound ignores the authority, as Linkerd does, and
   * labels the client connection's TLS (`clientTls`: tls, client_id) instead.
   */
  statsFor(endpoint: H2Endpoint, authority: string | undefined, clientTls?: InboundTlsLabels): HttpTargetStats {
    const direction = this.direction;
    const last = this.lastStats;
    // Most requests in a row share the previous one's target: no key string to build and hash then.
    if (last !== null && last.endpoint === endpoint && !last.stats.evicted && (direction === "inbound" ? last.clientTls === clientTls : last.authority === authority)) {
      return last.stats;
    }
    const authKey = direction === "inbound" ? inboundTlsKey(clientTls) : (authority ?? "");
    const key = `${endpoint.poolKey} ${authKey}`;
    let stats = this.statsCache.get(key);
    if (stats === undefined || stats.evicted) {
      if (this.statsCache.size >= MAX_CACHED_SERIES) this.statsCache.clear();
      stats = this.metrics.target({
        direction,
        authority: authority ?? "",
        targetAddr: endpoint.key,
        targetIp: isIP(endpoint.host) !== 0 ? endpoint.host : "",
        targetPort: endpoint.port,
        tls: direction === "inbound" ? clientTls : endpoint.tlsLabels,
      });
      this.statsCache.set(key, stats);
    }
    this.lastStats = { endpoint, authority, clientTls, stats };
    return stats;
  }
}
