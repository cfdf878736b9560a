// Turns the snapshots of a window into the /stats.json rows: counts are `now - base`, rates divide by
// the span actually covered, quantiles interpolate the histogram bucket deltas (histogram-quantile.ts),
// TCP_CONN is the open connections of the row's endpoints now. History points are per ring interval.
import {
  type AuthorityCounters,
  type CounterSnapshot,
  type RouteCounters,
  STATS_LATENCY_BUCKETS_MS,
  bucketDelta,
  outcomeDelta,
} from "./counter-snapshot.ts";
import { histogramQuantile } from "./histogram-quantile.ts";
import { type AuthorityRow, type HistoryPoint, type LatencyQuantiles, type RouteRow, type StatsReport, outcomes } from "./rows.ts";
import type { WindowSnapshots } from "./snapshot-ring.ts";
// Type only: the transport counters are read through the function main.ts passes in.
import type { OpenConnections } from "../l4/transport-metrics.ts";


export interface ReportOptions {
  readonly requestedWindowMs: number;
  readonly snapshotIntervalMs: number;
  readonly history: boolean;
  /** Open connections now; absent: tcpConnections is null. */
  readonly openConnections?: () => readonly OpenConnections[];
}

export function quantiles(buckets: Float64Array): LatencyQuantiles {
  return {
    latencyMsP50: histogramQuantile(0.5, STATS_LATENCY_BUCKETS_MS, buckets),
    latencyMsP95: histogramQuantile(0.95, STATS_LATENCY_BUCKETS_MS, buckets),
    latencyMsP99: histogramQuantile(0.99, STATS_LATENCY_BUCKETS_MS, buckets),
  };
}

const seconds = (from: CounterSnapshot, to: CounterSnapshot) => (to.atMs - from.atMs) / 1000;

export function windowReport(w: WindowSnapshots, options: ReportOptions): StatsReport {
  const windowSeconds = seconds(w.base, w.now);
  const chain = [w.base, ...w.between, w.now];
  const open = options.openConnections?.();
  const authorities: AuthorityRow[] = [];
  for (const [key, now] of w.now.authorities) {
    const o = outcomeDelta(now, w.base.authorities.get(key));
    const row: AuthorityRow = {
      direction: now.direction,
      authority: now.authority,
      ...outcomes(o.successes, o.failures, windowSeconds),
      ...quantiles(bucketDelta(now.latency, w.base.authorities.get(key)?.latency)),
      tcpConnections: open === undefined ? null : tcpConnectionsOf(now, open),
    };
    authorities.push(options.history ? { ...row, history: historyOf(chain, (s) => s.authorities.get(key)) } : row);
  }
  const routes: RouteRow[] = [];
  for (const [key, now] of w.now.routes) {
    const base = w.base.routes.get(key);
    const effective = outcomeDelta(now.effective, base?.effective);
    const actual = outcomeDelta(now.actual, base?.actual);
    const row: RouteRow = {
      direction: now.direction,
      dst: now.dst,
      route: now.route,
      effective: outcomes(effective.successes, effective.failures, windowSeconds),
      actual: outcomes(actual.successes, actual.failures, windowSeconds),
      ...quantiles(bucketDelta(now.latency, base?.latency)),
    };
    routes.push(options.history ? { ...row, history: historyOf(chain, (s) => effectiveOf(s.routes.get(key))) } : row);
  }
  authorities.sort((a, b) => a.direction.localeCompare(b.direction) || a.authority.localeCompare(b.authority));
  routes.sort((a, b) => a.direction.localeCompare(b.direction) || a.dst.localeCompare(b.dst) || a.route.localeCompare(b.route));
  return {
    windowSeconds,
    requestedWindowSeconds: options.requestedWindowMs / 1000,
    snapshotIntervalSeconds: options.snapshotIntervalMs / 1000,
    authorities,
    routes,
  };
}

/**
 * Inbound rows are keyed by target address: their connections are the accepted ones (peer="src") to
 * it. Outbound rows: the connections the proxy opened (peer="dst") to the authority's endpoints.
 */
function tcpConnectionsOf(row: AuthorityCounters, open: readonly OpenConnections[]): number {
  const peer = row.direction === "inbound" ? "src" : "dst";
  let n = 0;
  for (const c of open) if (c.direction === row.direction && c.peer === peer && row.targetAddrs.has(c.targetAddr)) n += c.open;
  return n;
}

type Counted = { successes: number; failures: number; latency: Float64Array };

/** A route's history follows its effective counts, as its SUCCESS and RPS columns do. */
function effectiveOf(route: RouteCounters | undefined): Counted | undefined {
  return route && { ...route.effective, latency: route.latency };
}

/** One point per interval between consecutive snapshots of the window. */
function historyOf(chain: readonly CounterSnapshot[], pick: (s: CounterSnapshot) => Counted | undefined): HistoryPoint[] {
  const points: HistoryPoint[] = [];
  for (let i = 1; i < chain.length; i++) {
    const from = chain[i - 1]!;
    const to = chain[i]!;
    const span = seconds(from, to);
    if (!(span > 0)) continue;
    const now = pick(to);
    const before = pick(from);
    const o = now === undefined ? { successes: 0, failures: 0 } : outcomeDelta(now, before);
    const latency = now === undefined ? undefined : bucketDelta(now.latency, before?.latency);
    const out = outcomes(o.successes, o.failures, span);
    points.push({
      tMs: to.wallMs,
      rps: out.rps,
      successRate: out.successRate,
      latencyMsP99: latency === undefined ? null : histogramQuantile(0.99, STATS_LATENCY_BUCKETS_MS, latency),
    });
  }
  return points;
}
