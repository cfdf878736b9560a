// Service profiles in the real sidecar process: a ServiceProfile from MESHLET_CONFIG_DIR makes the
// outbound retry a flaky route (effective success 100%, actual 50%) and time out a slow one (504),
// and `meshlet check` reports a broken directory with file and line.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BUN, CLI, type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

let backend: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;
let flakyCalls = 0;

beforeAll(async () => {
  backend = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/flaky") return ++flakyCalls % 2 === 1 ? new Response("boom", { status: 503 }) : new Response("ok");
      if (path === "/slow") await Bun.sleep(2_000);
      return new Response("ok");
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "meshlet-profiles-"));
  writeFileSync(
    join(dir, "backend.yaml"),
    `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: localhost
spec:
  routes:
  - name: flaky
    condition: { method: GET, pathRegex: /flaky }
    isRetryable: true
  - name: slow
    condition: { pathRegex: /slow }
    timeout: 200ms
  retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 100, ttl: 10s }
`,
  );
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${backend.port}`,
  });
});

afterAll(async () => {
  await proxy.stop();
  backend.stop(true);
});

test("a retryable route hides every other failure: effective success 100%, actual 50%", async () => {
  const url = `http://localhost:${proxy.outboundPorts[1]}/flaky`;
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push((await fetch(url)).status);
  expect(statuses).toEqual(Array(20).fill(200));
  const m = await proxy.metrics();
  const route = { direction: "outbound", rt_route: "flaky" };
  expect(metricValue(m, "route_response_total", { ...route, classification: "success" })).toBe(20);
  expect(metricValue(m, "route_actual_response_total", { ...route, classification: "success" })).toBe(20);
  expect(metricValue(m, "route_actual_response_total", { ...route, classification: "failure" })).toBe(20);
  expect(flakyCalls).toBe(40);
  // Endpoint metrics sit below retries, as in Linkerd: every attempt is a request and a response.
  expect(metricValue(m, "request_total", { direction: "outbound" })).toBe(40);
  expect(metricValue(m, "response_total", { direction: "outbound", status_code: "503", classification: "failure" })).toBe(20);
  expect(metricValue(m, "response_total", { direction: "outbound", status_code: "200", classification: "success" })).toBe(20);
});

test("a route timeout answers 504 with l5d-proxy-error", async () => {
  const res = await fetch(`http://localhost:${proxy.outboundPorts[1]}/slow`);
  expect(res.status).toBe(504);
  expect(res.headers.get("l5d-proxy-error")).toContain("timed out");
  const m = await proxy.metrics();
  expect(metricValue(m, "route_response_total", { rt_route: "slow", classification: "failure", error: "timeout" })).toBe(1);
});

test("meshlet check lists every problem of a broken directory with file:line and exits 64", async () => {
  const proc = spawn([BUN, CLI, "check", "--config-dir", join(import.meta.dir, "..", "..", "fixtures", "profiles", "broken")], {
    env: { PATH: process.env.PATH ?? "" },
    stderr: "pipe",
    stdout: "ignore",
  });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  expect(code).toBe(64);
  expect(stderr).toMatch(/broken\/[\w.-]+\.ya?ml:\d+:\d+: error: doc \d+: /);
  expect(stderr.split("\n").filter((l) => l.includes(": error: ")).length).toBeGreaterThan(10);
});
