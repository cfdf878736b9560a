// Prometheus answers become the admin server's row shape: classifications summed per key, an empty
// rt_route as [DEFAULT], NaN quantiles (no samples) as null, outbound TCP joined by authority.
import { expect, test } from "bun:test";
import type { Sample } from "../../../src/stats/prometheus-client.ts";
import { prometheusRouteRows, prometheusStatRows } from "../../../src/stats/prometheus-rows.ts";
import { routeQueries, statQueries } from "../../../src/stats/promql.ts";

/** Answers the queries it knows; any other query fails the test. */
function answering(answers: Record<string, Sample[]>) {
  return async (promql: string): Promise<Sample[]> => {
    const a = answers[promql];
    if (a === undefined) throw new Error(`unexpected query ${promql}`);
    return a;
  };
}

test("stat rows: inbound by target_addr, outbound by authority, rates over the window", async () => {
  const W = 60_000;
  const rows = await prometheusStatRows(
    answering({
      [statQueries.outcomes("inbound", W)]: [{ labels: { target_addr: "127.0.0.1:3000", classification: "success" }, value: 60 }],
      [statQueries.tcp("inbound")]: [{ labels: { target_addr: "127.0.0.1:3000" }, value: 2 }],
      [statQueries.latency(0.5, "inbound", W)]: [{ labels: { target_addr: "127.0.0.1:3000" }, value: 1.5 }],
      [statQueries.latency(0.95, "inbound", W)]: [{ labels: { target_addr: "127.0.0.1:3000" }, value: 4 }],
      [statQueries.latency(0.99, "inbound", W)]: [{ labels: { target_addr: "127.0.0.1:3000" }, value: Number.NaN }],
      [statQueries.outcomes("outbound", W)]: [
        { labels: { authority: "web:80", classification: "success" }, value: 30 },
        { labels: { authority: "web:80", classification: "failure" }, value: 10 },
      ],
      [statQueries.tcp("outbound")]: [],
      [statQueries.latency(0.5, "outbound", W)]: [],
      [statQueries.latency(0.95, "outbound", W)]: [],
      [statQueries.latency(0.99, "outbound", W)]: [],
    }),
    W,
  );
  expect(rows).toEqual([
    { direction: "inbound", authority: "127.0.0.1:3000", requests: 60, successes: 60, failures: 0, successRate: 1, rps: 1, latencyMsP50: 1.5, latencyMsP95: 4, latencyMsP99: null, tcpConnections: 2 },
    { direction: "outbound", authority: "web:80", requests: 40, successes: 30, failures: 10, successRate: 0.75, rps: 40 / 60, latencyMsP50: null, latencyMsP95: null, latencyMsP99: null, tcpConnections: 0 },
  ]);
});

test("route rows: effective and actual per (dst, route), the route-less series as [DEFAULT]", async () => {
  const W = 10_000;
  const to = "books:8080";
  const rows = await prometheusRouteRows(
    answering({
      [routeQueries.outcomes("route_response_total", to, W)]: [
        { labels: { dst: to, rt_route: "list", classification: "success" }, value: 10 },
        { labels: { dst: to, classification: "failure" }, value: 1 },
      ],
      [routeQueries.outcomes("route_actual_response_total", to, W)]: [
        { labels: { dst: to, rt_route: "list", classification: "success" }, value: 10 },
        { labels: { dst: to, rt_route: "list", classification: "failure" }, value: 10 },
      ],
      [routeQueries.latency(0.5, to, W)]: [{ labels: { dst: to, rt_route: "list" }, value: 3 }],
      [routeQueries.latency(0.95, to, W)]: [{ labels: { dst: to, rt_route: "list" }, value: 9 }],
      [routeQueries.latency(0.99, to, W)]: [{ labels: { dst: to, rt_route: "list" }, value: 10 }],
    }),
    W,
    to,
  );
  expect(rows.map((r) => [r.route, r.effective.successRate, r.actual.successRate, r.effective.rps, r.actual.rps, r.latencyMsP99])).toEqual([
    ["list", 1, 0.5, 1, 2, 10],
    ["[DEFAULT]", 0, null, 0.1, 0, null],
  ]);
});
