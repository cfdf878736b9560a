// Per-server state shared by all its connections: resolved options, the upstream pool, the filter chain, metrics
// (with per-endpoint/authority stats cached so recording is a field update) and a scratch buffer.
import { isIp } from "../config/values.ts";
import { type HttpMetrics, type HttpTargetStats, type InboundTlsLabels, inboundTlsKey } from "../metrics/http.ts";
import type { ExchangeLog } from "./exchange-log.ts";
import type { FilterChainSource } from "./filter.ts";
import type { HeadLimits } from "./head-parser.ts";
import type { ResolvedHttp1Options } from "./options.ts";
import type { ServerConnection } from "./server-connection.ts";
import type { EndpointPool, UpstreamPool } from "./upstream-pool.ts";
import type { Direction } from "../rt/direction.ts";

/** Entries per level of the stats cache before it is cleared. */
const MAX_CACHED_SERIES = 4096;

export class ServerEnv {
  draining = false;
  /** nowMs() as of the last sweep tick: for timeouts that tolerate one tick of slack, not for latency. */
  coarseNowMs: number;
  readonly connections = new Set<ServerConnection>();
  /** Called when the last connection closes while draining. */
  onDrained: (() => void) | null = null;
  readonly limits: HeadLimits;
  /** Scratch for serializing heads; used synchronously only (a partial write copies what it keeps). */
  private scratchBuf = Buffer.allocUnsafe(128 * 1024);
  /** Field offsets of response heads, which are consumed synchronously: one array for all. */
  readonly responseFields: number[] = [];
  private readonly statsCache = { inbound: new Map<string, Map<string, HttpTargetStats>>(), outbound: new Map<string, Map<string, HttpTargetStats>>() };

  constructor(
    readonly opts: ResolvedHttp1Options,
    readonly pool: UpstreamPool,
    readonly chain: FilterChainSource,
    readonly metrics: HttpMetrics,
    readonly nowMs: () => number,
    readonly log: ExchangeLog,
  ) {
    this.limits = { maxHeadBytes: opts.maxHeadBytes, maxHeaders: opts.maxHeaders };
    this.coarseNowMs = nowMs();
  }

  connectionClosed(conn: ServerConnection): void {
    this.connections.delete(conn);
    if (this.draining && this.connections.size === 0) this.onDrained?.();
  }

  /** A buffer of at least `bytes`; the shared scratch when it fits. */
  scratch(bytes: number): Buffer {
    return bytes <= this.scratchBuf.length ? this.scratchBuf : Buffer.allocUnsafe(bytes);
  }

  /**
   * The metrics target for (endpoint, authority); inbound ignores the authority, as Linkerd does, and
   * labels the client connection's TLS (`clientTls`: tls, client_id) instead.
   */
  statsFor(endpoint: EndpointPool, direction: Direction, authority: string | undefined, clientTls?: InboundTlsLabels): HttpTargetStats {
    const authKey = direction === "inbound" ? inboundTlsKey(clientTls) : (authority ?? "");
    const cache = this.statsCache[direction];
    let byAuthority = cache.get(endpoint.poolKey);
    if (byAuthority === undefined) {
      if (cache.size >= MAX_CACHED_SERIES) cache.clear();
      byAuthority = new Map();
      cache.set(endpoint.poolKey, byAuthority);
    }
    let stats = byAuthority.get(authKey);
    // An idle series the metrics dropped (MESHLET_METRICS_RETAIN_IDLE) is fetched anew. The cache is
    // bounded (the metrics' own table caps and expires the series), so a flood of authorities cannot grow it.
    if (stats === undefined || stats.evicted) {
      if (byAuthority.size >= MAX_CACHED_SERIES) byAuthority.clear();
      stats = this.metrics.target({
        direction,
        authority: authority ?? "",
        targetAddr: endpoint.key,
        targetIp: isIp(endpoint.host) ? endpoint.host : "",
        targetPort: endpoint.port,
        tls: direction === "inbound" ? clientTls : endpoint.tlsLabels,
      });
      byAuthority.set(authKey, stats);
    }
    return stats;
  }
}
