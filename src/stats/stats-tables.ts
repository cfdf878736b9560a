// The tables of `meshlet stat` and `meshlet routes` (and their -o json), from rows either source made:
// the admin server's /stats.json or Prometheus. One renderer, so both modes print the same.
import { formatCount, formatLatencyMs, formatRps, formatSuccess, formatTable } from "./stats-format.ts";
import { type AuthorityRow, DEFAULT_ROUTE, type RouteRow, outcomes } from "./rows.ts";

export function statTable(rows: readonly AuthorityRow[]): string {
  if (rows.length === 0) return "No traffic found.\n";
  return formatTable(
    ["DIRECTION", "AUTHORITY", "SUCCESS", "RPS", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99", "TCP_CONN"],
    rows.map((r) => [
      r.direction,
      r.authority || "-", // a request without Host (HTTP/1.0) has an empty authority
      formatSuccess(r.successRate),
      formatRps(r.rps, r.requests),
      formatLatencyMs(r.latencyMsP50),
      formatLatencyMs(r.latencyMsP95),
      formatLatencyMs(r.latencyMsP99),
      formatCount(r.tcpConnections),
    ]),
    2,
  );
}

/** `wide` adds effective and actual success and rate, as `viz routes -o wide`. */
export function routesTable(rows: readonly RouteRow[], wide: boolean): string {
  if (rows.length === 0) return "No route traffic found.\n";
  const latency = (r: RouteRow) => [formatLatencyMs(r.latencyMsP50), formatLatencyMs(r.latencyMsP95), formatLatencyMs(r.latencyMsP99)];
  if (wide) {
    return formatTable(
      ["ROUTE", "SERVICE", "EFFECTIVE_SUCCESS", "EFFECTIVE_RPS", "ACTUAL_SUCCESS", "ACTUAL_RPS", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99"],
      rows.map((r) => [
        r.route,
        r.dst,
        formatSuccess(r.effective.successRate),
        formatRps(r.effective.rps, r.effective.requests),
        formatSuccess(r.actual.successRate),
        formatRps(r.actual.rps, r.actual.requests),
        ...latency(r),
      ]),
      2,
    );
  }
  return formatTable(
    ["ROUTE", "SERVICE", "SUCCESS", "RPS", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99"],
    rows.map((r) => [r.route, r.dst, formatSuccess(r.effective.successRate), formatRps(r.effective.rps, r.effective.requests), ...latency(r)]),
    2,
  );
}

/**
 * The rows `meshlet routes` shows: outbound ones for `to` (a dst), else the inbound ones, as viz does;
 * every dst gets a [DEFAULT] row (empty when its default route saw nothing), named routes first.
 */
export function selectRoutes(rows: readonly RouteRow[], to: string | undefined): RouteRow[] {
  const picked = rows.filter((r) => (to === undefined ? r.direction === "inbound" : r.direction === "outbound" && r.dst === to));
  const dsts = new Set(picked.map((r) => r.dst));
  if (to !== undefined) dsts.add(to);
  for (const dst of dsts) {
    if (!picked.some((r) => r.dst === dst && r.route === DEFAULT_ROUTE)) {
      const none = outcomes(0, 0, 0);
      picked.push({
        direction: to === undefined ? "inbound" : "outbound",
        dst,
        route: DEFAULT_ROUTE,
        effective: none,
        actual: none,
        latencyMsP50: null,
        latencyMsP95: null,
        latencyMsP99: null,
      });
    }
  }
  return picked.sort(
    (a, b) => a.dst.localeCompare(b.dst) || Number(a.route === DEFAULT_ROUTE) - Number(b.route === DEFAULT_ROUTE) || a.route.localeCompare(b.route),
  );
}
