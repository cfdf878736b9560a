// The PromQL of `--prometheus` mode, as linkerd viz writes it (§5.6): exact strings, so a change in
// a query is a visible change in this file. The real-Prometheus integration test runs them.
import { expect, test } from "bun:test";
import { promRange, routeQueries, routeSelector, statQueries } from "../../../src/stats/promql.ts";

test("windows become PromQL ranges: whole seconds, else milliseconds", () => {
  expect(promRange(60_000)).toBe("60s");
  expect(promRange(300_000)).toBe("300s");
  expect(promRange(1_500)).toBe("1500ms");
});

test("stat: counts by row key and classification; quantiles over the summed bucket rate", () => {
  expect(statQueries.outcomes("outbound", 60_000)).toBe('sum(increase(response_total{direction="outbound"}[60s])) by (authority, classification)');
  // Inbound has no authority label (Linkerd's default): rows are keyed by target_addr.
  expect(statQueries.outcomes("inbound", 10_000)).toBe('sum(increase(response_total{direction="inbound"}[10s])) by (target_addr, classification)');
  expect(statQueries.latency(0.95, "outbound", 60_000)).toBe(
    'histogram_quantile(0.95, sum(rate(response_latency_ms_bucket{direction="outbound"}[60s])) by (le, authority))',
  );
  expect(statQueries.tcp("inbound")).toBe('sum(tcp_open_connections{direction="inbound",peer="src"}) by (target_addr)');
  expect(statQueries.tcp("outbound")).toBe(
    'sum by (authority) ((0 * max by (instance, target_addr, authority) (request_total{direction="outbound"}) + 1) * on (instance, target_addr) group_left sum by (instance, target_addr) (tcp_open_connections{direction="outbound",peer="dst"}))',
  );
});

test("routes: inbound without --to; the client's outbound series for one dst with it, quoted as a PromQL string", () => {
  expect(routeSelector(undefined)).toBe('direction="inbound"');
  expect(routeSelector('we"b:80')).toBe('direction="outbound",dst="we\\"b:80"');
  expect(routeQueries.outcomes("route_response_total", "books:8080", 60_000)).toBe(
    'sum(increase(route_response_total{direction="outbound",dst="books:8080"}[60s])) by (dst, rt_route, classification)',
  );
  expect(routeQueries.outcomes("route_actual_response_total", undefined, 60_000)).toBe(
    'sum(increase(route_actual_response_total{direction="inbound"}[60s])) by (dst, rt_route, classification)',
  );
  expect(routeQueries.latency(0.5, undefined, 60_000)).toBe(
    'histogram_quantile(0.5, sum(rate(route_response_latency_ms_bucket{direction="inbound"}[60s])) by (le, dst, rt_route))',
  );
});
