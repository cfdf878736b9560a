// Runs the PromQL of promql.ts and turns the answers into the same rows the admin server returns, so
// `meshlet stat` / `meshlet routes` print both modes with one renderer. Counts are increase()
// estimates (Prometheus extrapolates them to the window), so they need not be whole numbers.
import { DIRECTIONS } from "../rt/direction.ts";
import type { QueryFn, Sample } from "./prometheus-client.ts";
import { QUANTILES, routeQueries, statKeyLabel, statQueries } from "./promql.ts";
import { type AuthorityRow, DEFAULT_ROUTE, type LatencyQuantiles, type RouteRow, outcomes } from "./rows.ts";

type Tally = { successes: number; failures: number };

function tally(samples: readonly Sample[], keyOf: (labels: Readonly<Record<string, string>>) => string): Map<string, Tally> {
  const out = new Map<string, Tally>();
  for (const s of samples) {
    const key = keyOf(s.labels);
    const t = out.get(key) ?? { successes: 0, failures: 0 };
    if (s.labels.classification === "success") t.successes += s.value;
    else t.failures += s.value;
    out.set(key, t);
  }
  return out;
}

function byKey(samples: readonly Sample[], keyOf: (labels: Readonly<Record<string, string>>) => string): Map<string, number> {
  return new Map(samples.map((s) => [keyOf(s.labels), s.value]));
}

function quantilesOf(perQuantile: readonly Map<string, number>[], key: string): LatencyQuantiles {
  const at = (i: number) => {
    const v = perQuantile[i]!.get(key);
    return v === undefined || !Number.isFinite(v) ? null : v;
  };
  return { latencyMsP50: at(0), latencyMsP95: at(1), latencyMsP99: at(2) };
}

export async function prometheusStatRows(query: QueryFn, windowMs: number): Promise<AuthorityRow[]> {
  const seconds = windowMs / 1000;
  const rows: AuthorityRow[] = [];
  for (const direction of DIRECTIONS) {
    const label = statKeyLabel(direction);
    const keyOf = (l: Readonly<Record<string, string>>) => l[label] ?? "";
    const [counts, tcp, ...latency] = await Promise.all([
      query(statQueries.outcomes(direction, windowMs)),
      query(statQueries.tcp(direction)),
      ...QUANTILES.map((q) => query(statQueries.latency(q, direction, windowMs))),
    ]);
    const tallies = tally(counts!, keyOf);
    const open = byKey(tcp!, keyOf);
    const perQuantile = latency.map((l) => byKey(l, keyOf));
    for (const [authority, t] of tallies) {
      rows.push({
        direction,
        authority,
        ...outcomes(t.successes, t.failures, seconds),
        ...quantilesOf(perQuantile, authority),
        tcpConnections: open.get(authority) ?? 0,
      });
    }
  }
  return rows.sort((a, b) => a.direction.localeCompare(b.direction) || a.authority.localeCompare(b.authority));
}

export async function prometheusRouteRows(query: QueryFn, windowMs: number, to: string | undefined): Promise<RouteRow[]> {
  const seconds = windowMs / 1000;
  const keyOf = (l: Readonly<Record<string, string>>) => `${l.dst ?? ""}\u0000${l.rt_route || DEFAULT_ROUTE}`;
  const [effective, actual, ...latency] = await Promise.all([
    query(routeQueries.outcomes("route_response_total", to, windowMs)),
    query(routeQueries.outcomes("route_actual_response_total", to, windowMs)),
    ...QUANTILES.map((q) => query(routeQueries.latency(q, to, windowMs))),
  ]);
  const eff = tally(effective!, keyOf);
  const act = tally(actual!, keyOf);
  const perQuantile = latency.map((l) => byKey(l, keyOf));
  const none = { successes: 0, failures: 0 };
  const rows: RouteRow[] = [];
  for (const key of new Set([...eff.keys(), ...act.keys()])) {
    const [dst, route] = key.split("\u0000") as [string, string];
    const e = eff.get(key) ?? none;
    const a = act.get(key) ?? none;
    rows.push({
      direction: to === undefined ? "inbound" : "outbound",
      dst,
      route,
      effective: outcomes(e.successes, e.failures, seconds),
      actual: outcomes(a.successes, a.failures, seconds),
      ...quantilesOf(perQuantile, key),
    });
  }
  return rows;
}
