// Options of the HTTP/1 server engine with their units. The ones a MESHLET_* setting governs are
// required (src/stack/http1.ts maps the settings onto them; their defaults live only in src/config/env.ts);
// the engine's own limits below have their one default here.
import type { MeshClientTls } from "../tls/mesh-client-tls.ts";
import type { Logger } from "../log/logger.ts";
import type { HttpMetrics } from "../metrics/http.ts";
import type { FilterChainSource } from "./filter.ts";
import type { Direction } from "../rt/direction.ts";

export const DEFAULT_MAX_HEAD_BYTES = 64 * 1024;
export const DEFAULT_MAX_HEADERS = 100;
export const DEFAULT_MAX_PIPELINED_BYTES = 64 * 1024;
export const DEFAULT_DNS_TTL_MS = 5_000;
export const DEFAULT_DNS_NEGATIVE_TTL_MS = 1_000;
export const DEFAULT_CLOSE_LINGER_MS = 5_000;

/** The engine options a MESHLET_* setting governs: always passed, never defaulted here. */
export interface Http1Settings {
  /** Per client connection: max time from the first byte of a request head to its end (slowloris). */
  readonly headReadTimeoutMs: number;
  /** Per client connection: keep-alive idle time between requests before the proxy closes it. */
  readonly clientIdleTimeoutMs: number;
  /** Per upstream connection: idle time in the pool before eviction. */
  readonly upstreamIdleTimeoutMs: number;
  /** Per dial. Expiry → 504. */
  readonly connectTimeoutMs: number;
  /** Per upstream socket: TCP keepalive idle time and probe interval; 0 = off. */
  readonly upstreamKeepaliveMs: number;
  /** Per upstream socket: TCP_USER_TIMEOUT; 0 = the kernel's. */
  readonly tcpUserTimeoutMs: number;
  /** Per upstream endpoint (host:port): open + connecting connections. Requests beyond it queue. */
  readonly maxConnectionsPerUpstream: number;
  /** Per upstream endpoint: requests waiting for a connection at the cap. Beyond → 503 (load shed). */
  readonly maxQueuedRequestsPerUpstream: number;
  /** Per queued request: wait for a pooled connection before 504 (failfast). */
  readonly poolQueueTimeoutMs: number;
}

export interface Http1ServerOptions extends Http1Settings {
  /** Direction of connections accepted through socketHandlers without adoptFd (Bun.listen). Default inbound. */
  readonly direction?: Direction;
  /** Fixed upstream for Bun.listen-accepted connections; absent/null = route each request by authority. */
  readonly forwardTo?: { readonly host: string; readonly port: number } | null;
  /** Per request head (request line + fields). Beyond → 431. */
  readonly maxHeadBytes?: number;
  /** Per request head. Beyond → 431. */
  readonly maxHeaders?: number;
  /** Per client connection: bytes of pipelined requests buffered while a response is pending before reads pause. */
  readonly maxPipelinedBytes?: number;
  /** Hostname answers are reused this long (authority-routed outbound). */
  readonly dnsTtlMs?: number;
  readonly dnsNegativeTtlMs?: number;
  /**
   * The request pipeline (src/http/filter.ts), read per request. Default: no filters — requests go to
   * conn.dst, else to their authority (CONNECT terminated).
   */
  readonly chain?: FilterChainSource;
  /** Default: the process-wide families in the shared registry. */
  readonly metrics?: HttpMetrics;
  /** Monotonic clock in ms; default src/rt/clock.ts's monotonicClock (tests pass a fake). */
  readonly nowMs?: () => number;
  /** Proxy failures (warn, rate limited) and exchange ends (trace), scoped by direction. Default: silent. */
  readonly logger?: Logger;
  /** This workload's identity for mTLS to meshed endpoints (outbound); absent: every upstream is plaintext. */
  readonly meshTls?: MeshClientTls | undefined;
}

/** The options with every default applied. */
export interface ResolvedHttp1Options extends Http1Settings {
  readonly direction: Direction;
  readonly forwardTo: { readonly host: string; readonly port: number } | null;
  readonly maxHeadBytes: number;
  readonly maxHeaders: number;
  readonly maxPipelinedBytes: number;
  readonly dnsTtlMs: number;
  readonly dnsNegativeTtlMs: number;
}

export function resolveOptions(o: Http1ServerOptions): ResolvedHttp1Options {
  return {
    direction: o.direction ?? "inbound",
    forwardTo: o.forwardTo ?? null,
    headReadTimeoutMs: o.headReadTimeoutMs,
    clientIdleTimeoutMs: o.clientIdleTimeoutMs,
    upstreamIdleTimeoutMs: o.upstreamIdleTimeoutMs,
    connectTimeoutMs: o.connectTimeoutMs,
    upstreamKeepaliveMs: o.upstreamKeepaliveMs,
    tcpUserTimeoutMs: o.tcpUserTimeoutMs,
    maxConnectionsPerUpstream: o.maxConnectionsPerUpstream,
    maxQueuedRequestsPerUpstream: o.maxQueuedRequestsPerUpstream,
    poolQueueTimeoutMs: o.poolQueueTimeoutMs,
    maxHeadBytes: o.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES,
    maxHeaders: o.maxHeaders ?? DEFAULT_MAX_HEADERS,
    maxPipelinedBytes: o.maxPipelinedBytes ?? DEFAULT_MAX_PIPELINED_BYTES,
    dnsTtlMs: o.dnsTtlMs ?? DEFAULT_DNS_TTL_MS,
    dnsNegativeTtlMs: o.dnsNegativeTtlMs ?? DEFAULT_DNS_NEGATIVE_TTL_MS,
  };
}
