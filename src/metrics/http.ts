// Linkerd's endpoint-level HTTP families (request_total, response_total, response_latency_ms; see
// linkerd-behavior §5.1), counted in plain numbers on the hot path and rendered only at scrape time.
// Latency goes through LatencyRecorder so the native lock-free histogram can replace the JS one.
// Series live in one SeriesTable per direction: idle ones expire at scrape, new ones beyond the cap fold.
import type { Registry } from "prom-client";
import { type CoarseClock, processCoarseClock } from "../rt/coarse-clock.ts";
import { registry as sharedRegistry } from "./registry.ts";
import { metricsLimits } from "./series-limits.ts";
import { reportOverflow } from "./series-overflow.ts";

/** Linkerd labels the traffic of a proxy without identity tls="disabled". */
const TLS_DISABLED = "disabled";
import { OVERFLOW_LABEL_VALUE, type Series, type SeriesOptions, SeriesTable } from "./series-table.ts";
import type { Direction } from "../rt/direction.ts";

/** Linkerd's latency buckets (`le`, milliseconds), [P] linkerd/metrics/src/latency.rs. */
export const RESPONSE_LATENCY_BUCKETS_MS: readonly number[] = [
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000,
  40000, 50000,
];

export interface LatencySnapshot {
  /** Non-cumulative counts per bucket of RESPONSE_LATENCY_BUCKETS_MS, plus a final +Inf bucket. */
  readonly counts: ArrayLike<number>;
  readonly sumMs: number;
  readonly count: number;
}

/** Records latencies; one record per request, snapshot at scrape. The native histogram implements the same. */
export interface LatencyRecorder {
  record(ms: number): void;
  snapshot(): LatencySnapshot;
}

/** Fixed-bucket histogram in JS. */
export class JsLatencyHistogram implements LatencyRecorder {
  private readonly counts = new Float64Array(RESPONSE_LATENCY_BUCKETS_MS.length + 1);
  private sumMs = 0;
  private count = 0;

  record(ms: number): void {
    const b = RESPONSE_LATENCY_BUCKETS_MS;
    let i = 0;
    while (i < b.length && ms > b[i]!) i++;
    this.counts[i]!++;
    this.sumMs += ms;
    this.count++;
  }

  snapshot(): LatencySnapshot {
    return { counts: this.counts.slice(), sumMs: this.sumMs, count: this.count };
  }
}

/**
 * The `tls` labels of an outbound endpoint, as linkerd2-proxy's TlsConnect writes them
 * (linkerd/app/core/src/transport/labels.rs, NoClientTls in linkerd/tls/src/client.rs).
 */
export type OutboundTlsLabels =
  | { readonly tls: "true"; readonly server_id: string }
  | { readonly tls: "no_identity"; readonly no_tls_reason: "not_provided_by_service_discovery" }
  | { readonly tls: "disabled" };

/**
 * `localIdentity`: this proxy has an identity (MESHLET_IDENTITY_*); without one nothing is mTLS'd and
 * Linkerd says tls="disabled". `serverId`: the identity discovery named for the endpoint, if any.
 */
export function outboundTlsLabels(localIdentity: boolean, serverId: string | undefined): OutboundTlsLabels {
  if (!localIdentity) return { tls: TLS_DISABLED };
  if (serverId === undefined) return { tls: "no_identity", no_tls_reason: "not_provided_by_service_discovery" };
  return { tls: "true", server_id: serverId };
}

/**
 * The `tls` labels of an inbound connection, as linkerd2-proxy's TlsAccept writes them
 * (linkerd/app/core/src/transport/labels.rs, NoServerTls in linkerd/tls/src/server.rs).
 */
export type InboundTlsLabels =
  | { readonly tls: "true"; readonly client_id: string }
  | { readonly tls: "no_identity"; readonly no_tls_reason: "no_tls_from_remote" }
  | { readonly tls: "disabled" };

/**
 * `localIdentity`: this proxy has an identity (MESHLET_IDENTITY_*); without one it terminates no mTLS
 * and Linkerd says tls="disabled". `clientId`: the verified identity of an mTLS client; absent for a
 * plaintext client of a proxy with an identity (no_tls_from_remote).
 */
export function inboundTlsLabels(localIdentity: boolean, clientId: string | undefined): InboundTlsLabels {
  if (clientId !== undefined) return { tls: "true", client_id: clientId };
  if (!localIdentity) return { tls: TLS_DISABLED };
  return { tls: "no_identity", no_tls_reason: "no_tls_from_remote" };
}

/** A short key of inbound TLS labels (for the engines' stats caches): the client's identity, or why it has none. */
export function inboundTlsKey(tls: InboundTlsLabels | undefined): string {
  return tls === undefined ? TLS_DISABLED : tls.tls === "true" ? `id:${tls.client_id}` : tls.tls;
}

/** The label set of one endpoint target (inbound omits authority, as Linkerd does by default). */
export interface HttpTargetLabels {
  readonly direction: Direction;
  readonly authority?: string;
  /** "ip:port" of the endpoint (host:port when it was addressed by name). */
  readonly targetAddr: string;
  readonly targetIp: string;
  readonly targetPort: number;
  /** Outbound: how the endpoint's connections are secured; inbound: the client's; absent: tls="disabled". */
  readonly tls?: OutboundTlsLabels | InboundTlsLabels | undefined;
}

interface ResponseCount {
  /** Undefined for a failure without a response: the series has no status_code label (Linkerd). */
  readonly statusCode: string | undefined;
  readonly classification: "success" | "failure";
  readonly error: string;
  /** The grpc-status of a gRPC response (HTTP/2 engine), "" otherwise. */
  readonly grpcStatus: string;
  count: number;
}

/**
 * Counters for one target; the engine holds a reference, so recording is a field update (plus the
 * touch: one field write). A holder that caches it must re-fetch it from target() once `evicted` is set.
 */
export class HttpTargetStats implements Series {
  requestTotal = 0;
  lastTouchedMs: number;
  evicted = false;
  /** key: status * 2 + failure bit, or a string for errors without a status. */
  readonly responses = new Map<number | string, ResponseCount>();
  readonly latency = new Map<number, LatencyRecorder>();

  constructor(
    readonly labels: Record<string, string>,
    private readonly newRecorder: () => LatencyRecorder,
    private readonly clock: CoarseClock,
  ) {
    this.lastTouchedMs = clock.nowMs;
  }

  recordRequest(): void {
    this.lastTouchedMs = this.clock.nowMs;
    this.requestTotal++;
  }

  /**
   * A response ended with `status`, classified by the request's classifier (the route's response
   * classes, else Linkerd's default: 5xx). `error` labels a response whose body was cut.
   */
  recordResponse(status: number, failure: boolean, error = "", grpcStatus?: number): void {
    this.lastTouchedMs = this.clock.nowMs;
    const key = error === "" && grpcStatus === undefined ? status * 2 + (failure ? 1 : 0) : `${status}:${error}:${grpcStatus ?? ""}:${failure ? 1 : 0}`;
    let r = this.responses.get(key);
    if (r === undefined) {
      r = { statusCode: String(status), classification: failure ? "failure" : "success", error, grpcStatus: grpcStatus === undefined ? "" : String(grpcStatus), count: 0 };
      this.responses.set(key, r);
    }
    r.count++;
  }

  /** The request failed without a response (connect error, timeout): a failure with no status_code. */
  recordError(error: string): void {
    this.lastTouchedMs = this.clock.nowMs;
    const key = `:${error}`;
    let r = this.responses.get(key);
    if (r === undefined) {
      r = { statusCode: undefined, classification: "failure", error, grpcStatus: "", count: 0 };
      this.responses.set(key, r);
    }
    r.count++;
  }

  /** Time to first response byte for a response with `status`. */
  recordLatency(status: number, ms: number): void {
    this.lastTouchedMs = this.clock.nowMs;
    let h = this.latency.get(status);
    if (h === undefined) {
      h = this.newRecorder();
      this.latency.set(status, h);
    }
    h.record(ms);
  }
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** A prom-client-compatible metric object whose values are computed at scrape time. */
interface ScrapedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "histogram";
  readonly aggregator: "sum";
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] };
}

export class HttpMetrics {
  private readonly targets: { readonly inbound: SeriesTable<HttpTargetStats>; readonly outbound: SeriesTable<HttpTargetStats> };
  private readonly clock: CoarseClock;

  constructor(
    registry: Registry = sharedRegistry,
    private readonly newRecorder: () => LatencyRecorder = () => new JsLatencyHistogram(),
    options: SeriesOptions = {},
  ) {
    const self = this;
    const clock = options.clock ?? processCoarseClock();
    const limits = options.limits ?? metricsLimits();
    this.clock = clock;
    const table = (direction: Direction) => {
      // Every label but direction says overflow; target_addr="overflow" is what makes it unique.
      const overflowLabels: Record<string, string> = { direction };
      if (direction === "outbound") overflowLabels.authority = OVERFLOW_LABEL_VALUE;
      overflowLabels.target_addr = OVERFLOW_LABEL_VALUE;
      overflowLabels.target_ip = OVERFLOW_LABEL_VALUE;
      overflowLabels.target_port = OVERFLOW_LABEL_VALUE;
      overflowLabels.tls = TLS_DISABLED;
      const t = new SeriesTable(clock, limits, () => new HttpTargetStats(overflowLabels, newRecorder, clock));
      reportOverflow(registry, { family: "http_endpoint", direction }, t);
      return t;
    };
    this.targets = { inbound: table("inbound"), outbound: table("outbound") };
    const metric = (name: string, help: string, type: "counter" | "histogram", values: () => MetricValue[]): ScrapedMetric => ({
      name,
      help,
      type,
      aggregator: "sum",
      get: () => ({ name, help, type, aggregator: "sum", values: values() }),
    });
    registry.registerMetric(
      metric("request_total", "Total count of HTTP requests.", "counter", () => self.requestValues()) as never,
    );
    registry.registerMetric(
      metric("response_total", "Total count of HTTP responses.", "counter", () => self.responseValues()) as never,
    );
    registry.registerMetric(
      metric("response_latency_ms", "Elapsed times between a request's headers being received and its response stream completing.", "histogram", () => self.latencyValues()) as never,
    );
  }

  /**
   * The stats for a target, created on first use; the overflow series when the direction's table is
   * full. Cache the result per endpoint/authority, and re-fetch it once its `evicted` flag is set.
   */
  target(labels: HttpTargetLabels): HttpTargetStats {
    const authority = labels.direction === "inbound" ? "" : (labels.authority ?? "");
    const tls: Readonly<Record<string, string>> = labels.tls ?? { tls: TLS_DISABLED };
    // Length-prefixed, so no authority or peer identity (server_id, client_id) can make two targets share a key.
    let key = `${labels.targetAddr.length}:${labels.targetAddr}`;
    for (const name in tls) key += `${name}=${tls[name]!.length}:${tls[name]}`;
    key += authority;
    return this.targets[labels.direction].get(key, () => {
      const l: Record<string, string> = { direction: labels.direction };
      if (labels.direction === "outbound") l.authority = authority;
      l.target_addr = labels.targetAddr;
      l.target_ip = labels.targetIp;
      l.target_port = String(labels.targetPort);
      Object.assign(l, tls);
      return new HttpTargetStats(l, this.newRecorder, this.clock);
    });
  }

  /** Every series held now, both directions, read as is (no expiry): the stats ring (src/stats/) copies them. */
  *seriesNow(): Generator<HttpTargetStats> {
    yield* this.targets.inbound.values();
    yield* this.targets.outbound.values();
  }

  /** Every series held now, idle ones dropped first (once per scrape: see SeriesTable.expireIdle). */
  private *allStats(): Generator<HttpTargetStats> {
    for (const t of [this.targets.inbound, this.targets.outbound]) {
      t.expireIdle();
      yield* t.values();
    }
  }

  private requestValues(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const s of this.allStats()) out.push({ value: s.requestTotal, labels: s.labels });
    return out;
  }

  private responseValues(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const s of this.allStats()) {
      for (const r of s.responses.values()) {
        const labels: Record<string, string> =
          r.statusCode === undefined ? { ...s.labels } : { ...s.labels, status_code: r.statusCode };
        labels.classification = r.classification;
        labels.grpc_status = r.grpcStatus;
        labels.error = r.error;
        out.push({ value: r.count, labels });
      }
    }
    return out;
  }

  private latencyValues(): MetricValue[] {
    const out: MetricValue[] = [];
    const bounds = RESPONSE_LATENCY_BUCKETS_MS;
    for (const s of this.allStats()) {
      for (const [status, rec] of s.latency) {
        const snap = rec.snapshot();
        const labels = { ...s.labels, status_code: String(status) };
        let cumulative = 0;
        for (let i = 0; i <= bounds.length; i++) {
          cumulative += snap.counts[i] ?? 0;
          out.push({ metricName: "response_latency_ms_bucket", value: cumulative, labels: { ...labels, le: i < bounds.length ? bounds[i]! : "+Inf" } });
        }
        out.push({ metricName: "response_latency_ms_sum", value: snap.sumMs, labels });
        out.push({ metricName: "response_latency_ms_count", value: snap.count, labels });
      }
    }
    return out;
  }
}

let defaultMetrics: HttpMetrics | undefined;

/** The process-wide HTTP metrics, registered once in the shared registry. */
export function defaultHttpMetrics(): HttpMetrics {
  defaultMetrics ??= new HttpMetrics();
  return defaultMetrics;
}
