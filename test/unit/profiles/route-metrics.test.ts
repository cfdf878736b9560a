// Route metric families as Prometheus text: Linkerd's names, labels and buckets; the default
// route has no rt_route label; errors have no status_code; retries and skipped retries.
import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";

import { LATENCY_BUCKETS_MS, routeMetrics } from "../../../src/metrics/route.ts";

function fresh() {
  const registry = new Registry();
  return { registry, metrics: routeMetrics(registry) };
}

const lines = async (registry: Registry, prefix: string) =>
  (await registry.metrics()).split("\n").filter((l) => l.startsWith(`${prefix}{`) || l.startsWith(`${prefix} `));

describe("route metrics", () => {
  test("one instance per registry; one stats object per (direction, dst, route)", () => {
    const { registry, metrics } = fresh();
    expect(routeMetrics(registry)).toBe(metrics);
    const t = { direction: "outbound", dst: "a:80", route: "r" } as const;
    expect(metrics.stats(t)).toBe(metrics.stats({ ...t }));
    expect(metrics.stats(t)).not.toBe(metrics.stats({ ...t, route: undefined }));
  });

  test("a named route: effective and actual counts, latency with status_code", async () => {
    const { registry, metrics } = fresh();
    const s = metrics.stats({ direction: "outbound", dst: "books.default.svc.cluster.local:8080", route: "GET /books/{id}" });
    s.request();
    s.actualRequest();
    s.actualResponse({ statusCode: 500, classification: "failure" });
    s.retryableResponse(true);
    s.actualRequest();
    s.actualResponse({ statusCode: 200, classification: "success" });
    s.response({ statusCode: 200, classification: "success" });
    s.latency(12, 200);

    const labels = 'direction="outbound",dst="books.default.svc.cluster.local:8080",rt_route="GET /books/{id}"';
    expect(await lines(registry, "route_request_total")).toEqual([`route_request_total{${labels}} 1`]);
    expect(await lines(registry, "route_actual_request_total")).toEqual([`route_actual_request_total{${labels}} 2`]);
    expect(await lines(registry, "route_response_total")).toEqual([
      `route_response_total{${labels},classification="success",status_code="200"} 1`,
    ]);
    expect(await lines(registry, "route_actual_response_total")).toEqual([
      `route_actual_response_total{${labels},classification="failure",status_code="500"} 1`,
      `route_actual_response_total{${labels},classification="success",status_code="200"} 1`,
    ]);
    expect(await lines(registry, "route_retryable_total")).toEqual([`route_retryable_total{${labels}} 1`]);
    const buckets = await lines(registry, "route_response_latency_ms_bucket");
    expect(buckets.map((l) => /le="([^"]+)"/.exec(l)?.[1])).toEqual([...LATENCY_BUCKETS_MS.map(String), "+Inf"]);
    expect(buckets).toContain(`route_response_latency_ms_bucket{le="20",${labels},status_code="200"} 1`);
    expect(buckets).toContain(`route_response_latency_ms_bucket{le="10",${labels},status_code="200"} 0`);
    expect(await lines(registry, "route_response_latency_ms_count")).toEqual([
      `route_response_latency_ms_count{${labels},status_code="200"} 1`,
    ]);
    expect(await lines(registry, "route_response_latency_ms_sum")).toEqual([
      `route_response_latency_ms_sum{${labels},status_code="200"} 12`,
    ]);
  });

  test("the default route carries no rt_route label at all", async () => {
    const { registry, metrics } = fresh();
    metrics.stats({ direction: "inbound", dst: "web:80", route: undefined }).request();
    expect(await lines(registry, "route_request_total")).toEqual(['route_request_total{direction="inbound",dst="web:80"} 1']);
  });

  test("a timeout: failure with error label and no status_code; a skipped retry", async () => {
    const { registry, metrics } = fresh();
    const s = metrics.stats({ direction: "outbound", dst: "b:80", route: "r" });
    s.response({ classification: "failure", error: "timeout" });
    s.response({ classification: "failure", error: "timeout" });
    s.retryableResponse(false);
    s.latency(100_000);
    const labels = 'direction="outbound",dst="b:80",rt_route="r"';
    expect(await lines(registry, "route_response_total")).toEqual([
      `route_response_total{${labels},classification="failure",error="timeout"} 2`,
    ]);
    expect(await lines(registry, "route_retryable_total")).toEqual([
      `route_retryable_total{${labels}} 1`,
      `route_retryable_total{${labels},skipped="no_budget"} 1`,
    ]);
    const buckets = await lines(registry, "route_response_latency_ms_bucket");
    expect(buckets).toContain(`route_response_latency_ms_bucket{le="50000",${labels}} 0`);
    expect(buckets).toContain(`route_response_latency_ms_bucket{le="+Inf",${labels}} 1`);
  });

  test("gRPC status label when classified by grpc-status", async () => {
    const { registry, metrics } = fresh();
    metrics.stats({ direction: "outbound", dst: "g:80", route: "rpc" }).response({
      statusCode: 200,
      classification: "failure",
      grpcStatus: 14,
    });
    expect(await lines(registry, "route_response_total")).toEqual([
      'route_response_total{direction="outbound",dst="g:80",rt_route="rpc",classification="failure",status_code="200",grpc_status="14"} 1',
    ]);
  });

  test("families are present (HELP/TYPE) before any traffic", async () => {
    const { registry } = fresh();
    const text = await registry.metrics();
    for (const name of [
      "route_request_total",
      "route_response_total",
      "route_response_latency_ms",
      "route_actual_request_total",
      "route_actual_response_total",
      "route_retryable_total",
    ]) {
      expect(text).toContain(`# TYPE ${name} ${name.endsWith("_ms") ? "histogram" : "counter"}`);
    }
  });
});
