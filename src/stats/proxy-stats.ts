// The proxy's stats service: a snapshot ring over the process-wide HTTP and route metrics, started at
// boot (before any traffic, so young windows count exactly), answering GET /stats.json.
import { defaultHttpMetrics } from "../metrics/http.ts";
import { routeMetrics } from "../metrics/route.ts";
import { monotonicClock, wallClock } from "../rt/clock.ts";
import { type CounterSources } from "./counter-snapshot.ts";
import type { StatsSource } from "./rows.ts";
import { SnapshotRing } from "./snapshot-ring.ts";
import type { OpenConnections } from "../l4/transport-metrics.ts";
import { windowReport } from "./window-report.ts";

/** `openConnections` reads the transport counters (src/l4/transport-metrics.ts openConnectionsNow). */
export function startProxyStats(
  openConnections: () => readonly OpenConnections[],
  sources: CounterSources = { http: defaultHttpMetrics(), routes: routeMetrics() },
): StatsSource & { readonly ring: SnapshotRing } {
  const ring = new SnapshotRing(sources, { monotonic: monotonicClock, wall: wallClock }).start();
  return {
    ring,
    maxWindowMs: ring.maxWindowMs,
    report: (windowMs, history) =>
      windowReport(ring.window(windowMs), { requestedWindowMs: windowMs, snapshotIntervalMs: ring.intervalMs, history, openConnections }),
  };
}
