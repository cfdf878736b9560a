// `meshlet stat`: per direction and authority, success rate, requests per second, latency
// percentiles and open TCP connections over a window, like `linkerd viz stat`.
import { fetchAdminStats } from "../stats/admin-stats-client.ts";
import { prometheusQuery } from "../stats/prometheus-client.ts";
import { prometheusStatRows } from "../stats/prometheus-rows.ts";
import type { AuthorityRow } from "../stats/rows.ts";
import { statTable } from "../stats/stats-tables.ts";
import { defineCommand } from "./command.ts";
import { STATS_SOURCE_OPTIONS, statsSourceOf, withStatsSource } from "./stats-source.ts";

export const statCommand = defineCommand(
  {
    name: "stat",
    summary: "success rate, RPS, latency p50/p95/p99 and TCP connections per direction and authority (like linkerd viz stat)",
    details:
      "Reads one sidecar's admin server (GET /stats.json), or with --prometheus every sidecar Prometheus\n" +
      "scrapes. Inbound rows are keyed by target address (Linkerd has no authority label inbound).\n" +
      "Exits 69 when the source cannot be reached, 76 when it answers something unreadable.",
    options: {
      ...STATS_SOURCE_OPTIONS,
      output: { type: "string", short: "o", valueName: "FORMAT", choices: ["table", "json"], description: "table (default) or json" },
    },
  },
  (values) => {
    const source = statsSourceOf(values);
    return withStatsSource("stat", async () => {
      let windowSeconds: number;
      let rows: readonly AuthorityRow[];
      if (source.kind === "admin") {
        const report = await fetchAdminStats(source.address, source.window);
        windowSeconds = report.windowSeconds;
        rows = report.authorities;
      } else {
        windowSeconds = source.windowMs / 1000;
        rows = await prometheusStatRows(prometheusQuery(source.url), source.windowMs);
      }
      if (values.output === "json") {
        process.stdout.write(JSON.stringify({ source: source.kind, windowSeconds, requestedWindowSeconds: source.windowMs / 1000, authorities: rows }, null, 2) + "\n");
      } else {
        process.stdout.write(statTable(rows));
      }
    });
  },
);
