// ServiceProfile route metrics, named and labelled like linkerd2-proxy's (§5.1) so `linkerd viz
// routes`-style queries work: route_* count each original request once (above retries),
// route_actual_* count every attempt. The default route carries no rt_route label at all.
// Recording is a field update on a per-route stats object; Prometheus text is built at scrape. Series
// live in one SeriesTable per direction: idle ones expire at scrape, new ones beyond the cap fold.
import type { Registry } from "prom-client";
import { type CoarseClock, processCoarseClock } from "../rt/coarse-clock.ts";
import { registry as sharedRegistry } from "./registry.ts";
import { metricsLimits } from "./series-limits.ts";
import { reportOverflow } from "./series-overflow.ts";
import { OVERFLOW_LABEL_VALUE, type Series, type SeriesOptions, SeriesTable } from "./series-table.ts";
import type { Direction } from "../rt/direction.ts";

/** linkerd2-proxy's latency buckets in ms (linkerd/metrics/src/latency.rs); +Inf is implicit. */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000, 20000, 30000, 40000,
  50000,
]);

/** Identifies one route's series. */
export interface RouteTarget {
  readonly direction: Direction;
  /** The logical destination `name:port`. */
  readonly dst: string;
  /** The route name; undefined for the default route (then no rt_route label is emitted). */
  readonly route: string | undefined;
}

/** How one response (or attempt) ended. */
export interface ResponseOutcome {
  /** HTTP status; undefined when no response arrived (then no status_code label, as in Linkerd). */
  readonly statusCode?: number | undefined;
  readonly classification: "success" | "failure";
  /** gRPC status, when the response was classified by it. */
  readonly grpcStatus?: number | undefined;
  /** Error kind when the stream failed: "timeout", "unclassified", "h2(REASON)". */
  readonly error?: string | undefined;
}

type Labels = Readonly<Record<string, string>>;

interface ResponseCount {
  readonly labels: Labels;
  count: number;
}

/** Fixed-bucket latency histogram (non-cumulative counts; +Inf last). */
class LatencyHistogram {
  readonly counts = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  sum = 0;
  count = 0;
  constructor(readonly labels: Labels) {}
  record(ms: number): void {
    const b = LATENCY_BUCKETS_MS;
    let i = 0;
    while (i < b.length && ms > (b[i] as number)) i++;
    this.counts[i]! += 1;
    this.sum += ms;
    this.count++;
  }
}

/**
 * Counters of one (direction, dst, route). Get it from RouteMetrics.stats() when a request is
 * routed and keep it for the request; every method is a field update for the common outcomes (plus
 * the touch: one field write). A holder that caches it must re-fetch it once `evicted` is set.
 */
export class RouteStats implements Series {
  requests = 0;
  lastTouchedMs: number;
  evicted = false;
  actualRequests = 0;
  retryable = 0;
  retryableNoBudget = 0;
  readonly responses = new Map<number | string, ResponseCount>();
  readonly actualResponses = new Map<number | string, ResponseCount>();
  readonly latencies = new Map<number, LatencyHistogram>();

  /** Labels shared by all families: direction, dst, and rt_route unless this is the default route. */
  constructor(
    readonly labels: Labels,
    private readonly clock: CoarseClock,
  ) {
    this.lastTouchedMs = clock.nowMs;
  }

  /** The original request was dispatched (counted once, whatever the retries). */
  request(): void {
    this.lastTouchedMs = this.clock.nowMs;
    this.requests++;
  }

  /** The original request's response ended (after any retries), or failed without a response. */
  response(outcome: ResponseOutcome): void {
    this.lastTouchedMs = this.clock.nowMs;
    count(this.responses, this.labels, outcome);
  }

  /** Time to the first response body byte (or end/error) of the original request, in ms. */
  latency(ms: number, statusCode?: number | undefined): void {
    this.lastTouchedMs = this.clock.nowMs;
    const key = statusCode ?? 0;
    let h = this.latencies.get(key);
    if (h === undefined) {
      h = new LatencyHistogram(statusCode === undefined ? this.labels : { ...this.labels, status_code: String(statusCode) });
      this.latencies.set(key, h);
    }
    h.record(ms);
  }

  /** One attempt (the first or a retry) was sent upstream. */
  actualRequest(): void {
    this.lastTouchedMs = this.clock.nowMs;
    this.actualRequests++;
  }

  /** One attempt ended. */
  actualResponse(outcome: ResponseOutcome): void {
    this.lastTouchedMs = this.clock.nowMs;
    count(this.actualResponses, this.labels, outcome);
  }

  /**
   * A response was retryable; `withdrew` says whether the budget allowed the retry. Every
   * retryable response counts in route_retryable_total; denied ones also in {skipped="no_budget"}.
   */
  retryableResponse(withdrew: boolean): void {
    this.lastTouchedMs = this.clock.nowMs;
    this.retryable++;
    if (!withdrew) this.retryableNoBudget++;
  }
}

function count(map: Map<number | string, ResponseCount>, base: Labels, o: ResponseOutcome): void {
  // Plain responses (the hot path) use a numeric key; errors and gRPC statuses a string one.
  const plain = o.statusCode !== undefined && o.grpcStatus === undefined && o.error === undefined;
  const key = plain
    ? (o.statusCode as number) * 2 + (o.classification === "failure" ? 1 : 0)
    : `${o.statusCode ?? ""}|${o.classification}|${o.grpcStatus ?? ""}|${o.error ?? ""}`;
  let r = map.get(key);
  if (r === undefined) {
    const labels: Record<string, string> = { ...base, classification: o.classification };
    if (o.statusCode !== undefined) labels.status_code = String(o.statusCode);
    if (o.grpcStatus !== undefined) labels.grpc_status = String(o.grpcStatus);
    if (o.error !== undefined) labels.error = o.error;
    r = { labels, count: 0 };
    map.set(key, r);
  }
  r.count++;
}

interface MetricValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

/** All route series of a process; renders the route_* families into a prom-client registry. */
export class RouteMetrics {
  readonly #stats: { readonly inbound: SeriesTable<RouteStats>; readonly outbound: SeriesTable<RouteStats> };
  readonly #clock: CoarseClock;

  constructor(registry: Registry = sharedRegistry, options: SeriesOptions = {}) {
    const clock = options.clock ?? processCoarseClock();
    const limits = options.limits ?? metricsLimits();
    this.#clock = clock;
    const table = (direction: Direction) => {
      // Real dst values are `host:port` (logical-dst.ts): dst="overflow" is unique whatever the route names.
      const overflowLabels: Labels = Object.freeze({ direction, dst: OVERFLOW_LABEL_VALUE, rt_route: OVERFLOW_LABEL_VALUE });
      const t = new SeriesTable(clock, limits, () => new RouteStats(overflowLabels, clock));
      reportOverflow(registry, { family: "http_route", direction }, t);
      return t;
    };
    this.#stats = { inbound: table("inbound"), outbound: table("outbound") };
    const add = (name: string, help: string, type: "counter" | "histogram", values: () => MetricValue[]) =>
      registry.registerMetric({
        name,
        help,
        type,
        aggregator: "sum",
        get: () => ({ name, help, type, aggregator: "sum", values: values() }),
      } as never);
    // Every series held now, idle ones dropped first (once per scrape: see SeriesTable.expireIdle).
    const tables = [this.#stats.inbound, this.#stats.outbound];
    const all = function* (): Generator<RouteStats> {
      for (const t of tables) {
        t.expireIdle();
        yield* t.values();
      }
    };
    add("route_request_total", "Total count of HTTP requests, per ServiceProfile route.", "counter", () =>
      [...all()].map((s) => ({ value: s.requests, labels: s.labels })),
    );
    add("route_response_total", "Total count of HTTP responses, per ServiceProfile route.", "counter", () =>
      [...all()].flatMap((s) => [...s.responses.values()].map((r) => ({ value: r.count, labels: r.labels }))),
    );
    add(
      "route_response_latency_ms",
      "Elapsed times between a request's headers being received and its response stream starting, per route.",
      "histogram",
      () => [...all()].flatMap((s) => [...s.latencies.values()].flatMap(histogramValues)),
    );
    add("route_actual_request_total", "Total count of HTTP requests sent upstream, including retries, per route.", "counter", () =>
      [...all()].map((s) => ({ value: s.actualRequests, labels: s.labels })),
    );
    add("route_actual_response_total", "Total count of HTTP responses received from upstream, including retries, per route.", "counter", () =>
      [...all()].flatMap((s) => [...s.actualResponses.values()].map((r) => ({ value: r.count, labels: r.labels }))),
    );
    add(
      "route_retryable_total",
      'Total count of retryable HTTP responses; skipped="no_budget" counts those not retried for lack of budget.',
      "counter",
      () =>
        [...all()].flatMap((s) => {
          const out: MetricValue[] = [];
          if (s.retryable > 0) out.push({ value: s.retryable, labels: s.labels });
          if (s.retryableNoBudget > 0) out.push({ value: s.retryableNoBudget, labels: { ...s.labels, skipped: "no_budget" } });
          return out;
        }),
    );
  }

  /** Every series held now, both directions, read as is (no expiry): the stats ring (src/stats/) copies them. */
  *seriesNow(): Generator<RouteStats> {
    yield* this.#stats.inbound.values();
    yield* this.#stats.outbound.values();
  }

  /**
   * The stats of one route; created on first use, then the same object until it expires; the overflow
   * series when the direction's table is full. Cache it per route/dst; re-fetch it once `evicted` is set.
   */
  stats(target: RouteTarget): RouteStats {
    const key = `${target.dst}\u0000${target.route === undefined ? "\u0001" : target.route}`;
    return this.#stats[target.direction].get(key, () => {
      // Linkerd omits rt_route for the default route (viz shows such series as [DEFAULT]).
      const labels: Labels =
        target.route === undefined
          ? { direction: target.direction, dst: target.dst }
          : { direction: target.direction, dst: target.dst, rt_route: target.route };
      return new RouteStats(Object.freeze(labels), this.#clock);
    });
  }
}

function histogramValues(h: LatencyHistogram): MetricValue[] {
  const out: MetricValue[] = [];
  let cumulative = 0;
  for (let i = 0; i <= LATENCY_BUCKETS_MS.length; i++) {
    cumulative += h.counts[i] ?? 0;
    const le = i < LATENCY_BUCKETS_MS.length ? String(LATENCY_BUCKETS_MS[i]) : "+Inf";
    out.push({ metricName: "route_response_latency_ms_bucket", value: cumulative, labels: { le, ...h.labels } });
  }
  out.push({ metricName: "route_response_latency_ms_sum", value: h.sum, labels: h.labels });
  out.push({ metricName: "route_response_latency_ms_count", value: h.count, labels: h.labels });
  return out;
}

const byRegistry = new WeakMap<Registry, RouteMetrics>();

/** The process-wide route metrics of `registry` (the shared one by default), registered once. */
export function routeMetrics(registry: Registry = sharedRegistry): RouteMetrics {
  let m = byRegistry.get(registry);
  if (m === undefined) {
    m = new RouteMetrics(registry);
    byRegistry.set(registry, m);
  }
  return m;
}
