// The HTTP endpoint and route families are bounded: an idle series (with its latency histograms) is
// absent from the next scrape after the retain window, new label sets beyond the cap fold into one
// overflow series per direction, and meshlet_metrics_series_overflow_total counts the folds.
import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { HttpMetrics, JsLatencyHistogram } from "../../../src/metrics/http.ts";
import { RouteMetrics } from "../../../src/metrics/route.ts";
import { CoarseClock } from "../../../src/rt/coarse-clock.ts";

const TICK_MS = 250;

function fakeClock() {
  let now = 0;
  const clock = new CoarseClock({ nowMs: () => now }, TICK_MS);
  return {
    clock,
    advance(ms: number) {
      now += ms;
      clock.tick();
    },
  };
}

const sampleLines = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

describe("HttpMetrics series", () => {
  const endpoint = (authority: string) =>
    ({ direction: "outbound", authority, targetAddr: "10.0.0.1:80", targetIp: "10.0.0.1", targetPort: 80 }) as const;

  test("an idle target and its latency histograms leave the scrape after the window; a busy one stays", async () => {
    const registry = new Registry();
    const { clock, advance } = fakeClock();
    const m = new HttpMetrics(registry, () => new JsLatencyHistogram(), { clock, limits: { retainIdleMs: 60_000, maxSeriesPerFamily: 100 } });
    const idle = m.target(endpoint("idle:80"));
    const busy = m.target(endpoint("busy:80"));
    for (const s of [idle, busy]) {
      s.recordRequest();
      s.recordResponse(200, false);
      s.recordLatency(200, 3);
    }
    advance(60_000 + TICK_MS + 1);
    busy.recordRequest();
    const text = await registry.metrics();
    expect(text).toContain('authority="busy:80"');
    expect(text).not.toContain('authority="idle:80"');
    expect(idle.evicted).toBe(true);
    expect(busy.evicted).toBe(false);
    expect(m.target(endpoint("idle:80"))).not.toBe(idle);
  });

  test("beyond the cap: one overflow series per direction, labelled overflow, and the folds counted", async () => {
    const registry = new Registry();
    const { clock } = fakeClock();
    const m = new HttpMetrics(registry, () => new JsLatencyHistogram(), { clock, limits: { retainIdleMs: 60_000, maxSeriesPerFamily: 2 } });
    for (let i = 0; i < 50; i++) {
      const s = m.target(endpoint(`host-${i}:80`));
      s.recordRequest();
      s.recordResponse(200, false);
      s.recordLatency(200, 1);
    }
    const inbound = m.target({ direction: "inbound", targetAddr: "127.0.0.1:8080", targetIp: "127.0.0.1", targetPort: 8080 });
    inbound.recordRequest();
    const text = await registry.metrics();
    const requests = sampleLines(text).filter((l) => l.startsWith("request_total"));
    expect(requests).toEqual([
      'request_total{direction="inbound",target_addr="127.0.0.1:8080",target_ip="127.0.0.1",target_port="8080",tls="disabled"} 1',
      'request_total{direction="outbound",authority="host-0:80",target_addr="10.0.0.1:80",target_ip="10.0.0.1",target_port="80",tls="disabled"} 1',
      'request_total{direction="outbound",authority="host-1:80",target_addr="10.0.0.1:80",target_ip="10.0.0.1",target_port="80",tls="disabled"} 1',
      'request_total{direction="outbound",authority="overflow",target_addr="overflow",target_ip="overflow",target_port="overflow",tls="disabled"} 48',
    ]);
    expect(text).toContain('response_latency_ms_count{direction="outbound",authority="overflow",target_addr="overflow",target_ip="overflow",target_port="overflow",tls="disabled",status_code="200"} 48');
    expect(text).toContain('meshlet_metrics_series_overflow_total{family="http_endpoint",direction="outbound"} 48');
    expect(text).toContain('meshlet_metrics_series_overflow_total{family="http_endpoint",direction="inbound"} 0');
  });
});

describe("RouteMetrics series", () => {
  test("idle routes expire with their histograms; a full table folds into dst=overflow", async () => {
    const registry = new Registry();
    const { clock, advance } = fakeClock();
    const m = new RouteMetrics(registry, { clock, limits: { retainIdleMs: 1_000, maxSeriesPerFamily: 2 } });
    for (const port of [8001, 8002, 8003, 8004]) {
      const s = m.stats({ direction: "inbound", dst: `web.default.svc.cluster.local:${port}`, route: "GET /" });
      s.request();
      s.response({ statusCode: 200, classification: "success" });
      s.latency(2, 200);
    }
    let text = await registry.metrics();
    const requests = sampleLines(text).filter((l) => l.startsWith("route_request_total"));
    expect(requests).toEqual([
      'route_request_total{direction="inbound",dst="web.default.svc.cluster.local:8001",rt_route="GET /"} 1',
      'route_request_total{direction="inbound",dst="web.default.svc.cluster.local:8002",rt_route="GET /"} 1',
      'route_request_total{direction="inbound",dst="overflow",rt_route="overflow"} 2',
    ]);
    expect(text).toContain('meshlet_metrics_series_overflow_total{family="http_route",direction="inbound"} 2');

    advance(1_000 + TICK_MS + 1);
    text = await registry.metrics();
    expect(sampleLines(text).filter((l) => l.startsWith("route_"))).toEqual([]);
    // The fold counter is a counter: it stays.
    expect(text).toContain('meshlet_metrics_series_overflow_total{family="http_route",direction="inbound"} 2');
  });

  test("a route recorded within the window stays, through every record method", async () => {
    const registry = new Registry();
    const { clock, advance } = fakeClock();
    const m = new RouteMetrics(registry, { clock, limits: { retainIdleMs: 1_000, maxSeriesPerFamily: 10 } });
    const s = m.stats({ direction: "outbound", dst: "a:80", route: undefined });
    const touches = [
      () => s.request(),
      () => s.actualRequest(),
      () => s.retryableResponse(true),
      () => s.actualResponse({ statusCode: 500, classification: "failure" }),
      () => s.response({ statusCode: 200, classification: "success" }),
      () => s.latency(1, 200),
    ];
    for (const touch of touches) {
      advance(900);
      touch();
      advance(900);
      await registry.metrics();
      expect(s.evicted).toBe(false);
    }
    advance(1_000 + TICK_MS + 1);
    await registry.metrics();
    expect(s.evicted).toBe(true);
  });
});
