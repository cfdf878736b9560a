// A copy of the cumulative HTTP counters at one instant, summed per stats row: the endpoint families
// (response_total, response_latency_ms) per (direction, authority) and the route families
// (route_response_total, route_actual_response_total, route_response_latency_ms) per (direction, dst,
// route). Read straight from the metric objects (never from Prometheus text); `minus` makes a window.
import type { HttpMetrics } from "../metrics/http.ts";
import type { RouteMetrics } from "../metrics/route.ts";
import { LATENCY_BUCKETS_MS } from "../metrics/route.ts";
import type { Direction } from "../rt/direction.ts";
import { DEFAULT_ROUTE } from "./rows.ts";

/**
 * The endpoint and route families both use linkerd2-proxy's buckets (a unit test checks they agree);
 * the stats rows read them through this one name.
 */
export const STATS_LATENCY_BUCKETS_MS: readonly number[] = LATENCY_BUCKETS_MS;

export interface OutcomeCounts {
  successes: number;
  failures: number;
}

export interface AuthorityCounters extends OutcomeCounts {
  readonly direction: Direction;
  readonly authority: string;
  /** Non-cumulative counts per bucket of STATS_LATENCY_BUCKETS_MS, +Inf last. */
  readonly latency: Float64Array;
  /** The endpoints (target_addr) the row's series point at: its TCP connections are theirs. */
  readonly targetAddrs: Set<string>;
}

export interface RouteCounters {
  readonly direction: Direction;
  readonly dst: string;
  readonly route: string;
  readonly effective: OutcomeCounts;
  readonly actual: OutcomeCounts;
  readonly latency: Float64Array;
}

export interface CounterSnapshot {
  /** Monotonic ms when it was taken. */
  readonly atMs: number;
  /** Wall-clock ms when it was taken (history points carry it). */
  readonly wallMs: number;
  readonly authorities: ReadonlyMap<string, AuthorityCounters>;
  readonly routes: ReadonlyMap<string, RouteCounters>;
}

/** Where the counters live: the process's metric objects (fakes in tests). */
export interface CounterSources {
  readonly http: Pick<HttpMetrics, "seriesNow">;
  readonly routes: Pick<RouteMetrics, "seriesNow">;
}

const newBuckets = () => new Float64Array(STATS_LATENCY_BUCKETS_MS.length + 1);

/** The row key of an endpoint series: outbound by authority, inbound by target address (see rows.ts). */
function authorityOf(labels: Readonly<Record<string, string>>): { direction: Direction; authority: string } {
  const direction = labels.direction === "inbound" ? "inbound" : "outbound";
  return { direction, authority: (direction === "inbound" ? labels.target_addr : labels.authority) ?? "" };
}

function addInto(into: Float64Array, counts: ArrayLike<number>): void {
  for (let i = 0; i < into.length; i++) into[i]! += counts[i] ?? 0;
}

/** Copies every series now. */
export function takeSnapshot(sources: CounterSources, atMs: number, wallMs: number): CounterSnapshot {
  const authorities = new Map<string, AuthorityCounters>();
  for (const s of sources.http.seriesNow()) {
    const { direction, authority } = authorityOf(s.labels);
    const key = `${direction} ${authority}`;
    let row = authorities.get(key);
    if (row === undefined) {
      row = { direction, authority, successes: 0, failures: 0, latency: newBuckets(), targetAddrs: new Set() };
      authorities.set(key, row);
    }
    if (s.labels.target_addr !== undefined) row.targetAddrs.add(s.labels.target_addr);
    for (const r of s.responses.values()) {
      if (r.classification === "success") row.successes += r.count;
      else row.failures += r.count;
    }
    for (const rec of s.latency.values()) addInto(row.latency, rec.snapshot().counts);
  }
  const routes = new Map<string, RouteCounters>();
  for (const s of sources.routes.seriesNow()) {
    const direction = s.labels.direction === "inbound" ? "inbound" : "outbound";
    const dst = s.labels.dst ?? "";
    const route = s.labels.rt_route ?? DEFAULT_ROUTE;
    const key = `${direction} ${dst} ${route}`;
    let row = routes.get(key);
    if (row === undefined) {
      row = { direction, dst, route, effective: { successes: 0, failures: 0 }, actual: { successes: 0, failures: 0 }, latency: newBuckets() };
      routes.set(key, row);
    }
    for (const r of s.responses.values()) {
      if (r.labels.classification === "success") row.effective.successes += r.count;
      else row.effective.failures += r.count;
    }
    for (const r of s.actualResponses.values()) {
      if (r.labels.classification === "success") row.actual.successes += r.count;
      else row.actual.failures += r.count;
    }
    for (const h of s.latencies.values()) addInto(row.latency, h.counts);
  }
  return { atMs, wallMs, authorities, routes };
}

/** A snapshot with no series: the counters at process start. */
export function emptySnapshot(atMs: number, wallMs: number): CounterSnapshot {
  return { atMs, wallMs, authorities: new Map(), routes: new Map() };
}

/**
 * `now - base` per counter. A row whose counts went down (its series expired and came back, a
 * counter reset) counts from zero, as Prometheus' increase() does; a row absent from `base` is new.
 */
export function outcomeDelta(now: OutcomeCounts, base: OutcomeCounts | undefined): OutcomeCounts {
  if (base === undefined || now.successes < base.successes || now.failures < base.failures) return { successes: now.successes, failures: now.failures };
  return { successes: now.successes - base.successes, failures: now.failures - base.failures };
}

export function bucketDelta(now: Float64Array, base: Float64Array | undefined): Float64Array {
  if (base === undefined) return now;
  const out = new Float64Array(now.length);
  for (let i = 0; i < now.length; i++) {
    const d = now[i]! - base[i]!;
    if (d < 0) return now; // reset: count from zero
    out[i] = d;
  }
  return out;
}
