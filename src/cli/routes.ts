// `meshlet routes`: per ServiceProfile route, success rate, requests per second and latency
// percentiles over a window, like `linkerd viz routes`; `-o wide` shows effective (original requests)
// beside actual (every attempt, retries included). `--to` picks outbound routes to one dst.
import { fetchAdminStats } from "../stats/admin-stats-client.ts";
import { prometheusQuery } from "../stats/prometheus-client.ts";
import { prometheusRouteRows } from "../stats/prometheus-rows.ts";
import type { RouteRow } from "../stats/rows.ts";
import { routesTable, selectRoutes } from "../stats/stats-tables.ts";
import { defineCommand } from "./command.ts";
import { STATS_SOURCE_OPTIONS, statsSourceOf, withStatsSource } from "./stats-source.ts";

export const routesCommand = defineCommand(
  {
    name: "routes",
    summary: "success rate, RPS and latency per ServiceProfile route, effective vs actual with -o wide (like linkerd viz routes)",
    details:
      "Without --to: the inbound routes (requests this sidecar's app received). With --to AUTHORITY: the\n" +
      "outbound routes to that dst (name:port), as the client saw them. Series without a route are [DEFAULT].\n" +
      "Exits 69 when the source cannot be reached, 76 when it answers something unreadable.",
    options: {
      ...STATS_SOURCE_OPTIONS,
      to: { type: "string", valueName: "AUTHORITY", description: "outbound routes to this dst (name:port) instead of inbound ones" },
      output: { type: "string", short: "o", valueName: "FORMAT", choices: ["table", "wide", "json"], description: "table (default), wide (effective and actual) or json" },
    },
  },
  (values) => {
    const source = statsSourceOf(values);
    return withStatsSource("routes", async () => {
      let windowSeconds: number;
      let rows: readonly RouteRow[];
      if (source.kind === "admin") {
        const report = await fetchAdminStats(source.address, source.window);
        windowSeconds = report.windowSeconds;
        rows = report.routes;
      } else {
        windowSeconds = source.windowMs / 1000;
        rows = await prometheusRouteRows(prometheusQuery(source.url), source.windowMs, values.to);
      }
      const selected = selectRoutes(rows, values.to);
      if (values.output === "json") {
        process.stdout.write(JSON.stringify({ source: source.kind, windowSeconds, requestedWindowSeconds: source.windowMs / 1000, routes: selected }, null, 2) + "\n");
      } else {
        process.stdout.write(routesTable(selected, values.output === "wide"));
      }
    });
  },
);
