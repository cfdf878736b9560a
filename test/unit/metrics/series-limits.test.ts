// The series limits: defaults are the SETTINGS table's (Linkerd's 10m window), bad values are located
// config problems, and configureMetrics() reaches metrics objects created before it was called.
import { afterEach, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { ConfigError, parseConfig } from "../../../src/config/env.ts";
import { HttpMetrics } from "../../../src/metrics/http.ts";
import { configureMetrics, metricsLimits } from "../../../src/metrics/series-limits.ts";

const original = { ...metricsLimits() };
afterEach(() => configureMetrics(original));

test("defaults: idle series kept 10 minutes (Linkerd's), 1000 label sets per family and direction", () => {
  expect(metricsLimits()).toEqual({ retainIdleMs: 600_000, maxSeriesPerFamily: 1000 });
  const config = parseConfig({ MESHLET_METRICS_RETAIN_IDLE: "1s", MESHLET_METRICS_MAX_SERIES_PER_FAMILY: "50" });
  expect([config.metricsRetainIdleMs, config.metricsMaxSeriesPerFamily]).toEqual([1_000, 50]);
});

test("bad values are config problems naming the setting", () => {
  let problems: readonly { name: string }[] = [];
  try {
    parseConfig({ MESHLET_METRICS_RETAIN_IDLE: "10", MESHLET_METRICS_MAX_SERIES_PER_FAMILY: "0" });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems = err.problems;
  }
  expect(problems.map((p) => p.name)).toEqual(["MESHLET_METRICS_RETAIN_IDLE", "MESHLET_METRICS_MAX_SERIES_PER_FAMILY"]);
});

test("configureMetrics applies to process-wide metrics objects that already exist", async () => {
  const registry = new Registry();
  const m = new HttpMetrics(registry);
  configureMetrics({ retainIdleMs: 600_000, maxSeriesPerFamily: 1 });
  const target = (authority: string) => m.target({ direction: "outbound", authority, targetAddr: "10.0.0.1:80", targetIp: "10.0.0.1", targetPort: 80 });
  target("a:80").recordRequest();
  target("b:80").recordRequest();
  const text = await registry.metrics();
  expect(text).toContain('request_total{direction="outbound",authority="overflow",target_addr="overflow",target_ip="overflow",target_port="overflow",tls="disabled"} 1');
  expect(text).toContain('meshlet_metrics_series_overflow_total{family="http_endpoint",direction="outbound"} 1');
});
