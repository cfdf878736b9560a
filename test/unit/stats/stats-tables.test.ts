// How stat and routes print: viz's number formats, aligned columns, "-" for an empty window, a
// [DEFAULT] row per dst, and --to choosing outbound rows for one dst (inbound without it).
import { expect, test } from "bun:test";
import { formatLatencyMs, formatRps, formatSuccess } from "../../../src/stats/stats-format.ts";
import { type RouteRow, outcomes } from "../../../src/stats/rows.ts";
import { routesTable, selectRoutes, statTable } from "../../../src/stats/stats-tables.ts";

test("numbers print like linkerd viz stat; empty windows print -", () => {
  expect(formatSuccess(1)).toBe("100.00%");
  expect(formatSuccess(2 / 3)).toBe("66.67%");
  expect(formatSuccess(null)).toBe("-");
  expect(formatRps(1.25, 75)).toBe("1.3rps");
  expect(formatRps(0, 0)).toBe("-");
  expect(formatLatencyMs(3)).toBe("3ms");
  expect(formatLatencyMs(0.666)).toBe("0.7ms");
  expect(formatLatencyMs(19.9)).toBe("20ms");
  expect(formatLatencyMs(null)).toBe("-");
});

test("stat table: one aligned row per direction and authority", () => {
  const text = statTable([
    { direction: "inbound", authority: "127.0.0.1:3000", ...outcomes(9, 1, 10), latencyMsP50: 1.5, latencyMsP95: 9.25, latencyMsP99: 9.85, tcpConnections: 2 },
    { direction: "outbound", authority: "web.default.svc.cluster.local:8080", ...outcomes(0, 0, 10), latencyMsP50: null, latencyMsP95: null, latencyMsP99: null, tcpConnections: null },
  ]);
  expect(text).toBe(
    "DIRECTION   AUTHORITY                            SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN\n" +
      "inbound     127.0.0.1:3000                        90.00%   1.0rps         1.5ms         9.3ms         9.8ms          2\n" +
      "outbound    web.default.svc.cluster.local:8080         -        -             -             -             -          -\n",
  );
  expect(statTable([])).toBe("No traffic found.\n");
});

const route = (direction: "inbound" | "outbound", dst: string, name: string, eff: [number, number], act: [number, number]): RouteRow => ({
  direction,
  dst,
  route: name,
  effective: outcomes(eff[0], eff[1], 10),
  actual: outcomes(act[0], act[1], 10),
  latencyMsP50: 12,
  latencyMsP95: 40,
  latencyMsP99: 48,
});

test("routes: --to picks one dst's outbound rows, adds an empty [DEFAULT] and sorts it last; wide shows effective and actual", () => {
  const rows = [
    route("outbound", "books:8080", "list-books", [10, 0], [10, 10]),
    route("outbound", "authors:8080", "get-author", [5, 0], [5, 0]),
    route("inbound", "books:8080", "list-books", [10, 0], [10, 0]),
  ];
  const picked = selectRoutes(rows, "books:8080");
  expect(picked.map((r) => [r.direction, r.dst, r.route])).toEqual([["outbound", "books:8080", "list-books"], ["outbound", "books:8080", "[DEFAULT]"]]);
  expect(routesTable(picked, true)).toBe(
    "ROUTE        SERVICE      EFFECTIVE_SUCCESS   EFFECTIVE_RPS   ACTUAL_SUCCESS   ACTUAL_RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99\n" +
      "list-books   books:8080             100.00%          1.0rps           50.00%       2.0rps          12ms          40ms          48ms\n" +
      "[DEFAULT]    books:8080                   -               -                -            -             -             -             -\n",
  );
  expect(routesTable(picked, false)).toBe(
    "ROUTE        SERVICE      SUCCESS      RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99\n" +
      "list-books   books:8080   100.00%   1.0rps          12ms          40ms          48ms\n" +
      "[DEFAULT]    books:8080         -        -             -             -             -\n",
  );
  // Without --to: the inbound rows.
  expect(selectRoutes(rows, undefined).map((r) => [r.direction, r.route])).toEqual([["inbound", "list-books"], ["inbound", "[DEFAULT]"]]);
  expect(routesTable(selectRoutes([], undefined), false)).toBe("No route traffic found.\n");
});
