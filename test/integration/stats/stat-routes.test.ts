// `meshlet stat` and `meshlet routes` against a real sidecar process after a known traffic mix:
// successes, 5xx failures, and a retryable profile route whose backend fails every other attempt,
// so effective (100%) and actual (50%) differ. The process is younger than the 1m window, so the
// admin ring counts from zero at start and every count is exact. Also: clear errors and exit codes
// when the admin server cannot be reached or answers garbage.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { StatsReport } from "../../../src/stats/rows.ts";
import { BUN, CLI, type RunningProxy, startProxy } from "../../support/proxy.ts";

let backend: ReturnType<typeof Bun.serve>;
let garbage: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;
let dir: string;
let flakyCalls = 0;

/** Runs the real CLI (asynchronously: the backends live in this process). */
async function meshlet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([BUN, CLI, ...args], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The whitespace-separated cells of the table line whose first cells are `first`. */
function rowOf(table: string, ...first: string[]): string[] {
  const rows = table.trim().split("\n").map((l) => l.trim().split(/\s+/));
  const found = rows.filter((cells) => first.every((f, i) => cells[i] === f));
  expect(found.length).toBe(1);
  return found[0]!;
}

beforeAll(async () => {
  backend = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/fail") return new Response("boom", { status: 500 });
      if (path === "/flaky") return ++flakyCalls % 2 === 1 ? new Response("busy", { status: 503 }) : new Response("ok");
      return new Response("ok");
    },
  });
  // Answers 200 with text, or with JSON of another shape for window=2m: neither is a stats report.
  garbage = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => (new URL(req.url).searchParams.get("window") === "2m" ? Response.json({ hello: "world" }) : new Response("hello")),
  });
  dir = mkdtempSync(join(tmpdir(), "meshlet-stats-"));
  writeFileSync(
    join(dir, "profile.yaml"),
    `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: localhost
spec:
  routes:
  - name: GET /ok
    condition: { method: GET, pathRegex: /ok }
  - name: GET /flaky
    condition: { method: GET, pathRegex: /flaky }
    isRetryable: true
  retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 100, ttl: 10s }
`,
  );
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_INBOUND_PROFILE: "localhost",
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`,
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${backend.port}`,
  });
  const out = `http://localhost:${proxy.outboundPorts[1]}`;
  const get = async (url: string) => (await (await fetch(url)).text(), undefined);
  for (let i = 0; i < 10; i++) await get(`${out}/ok`);
  for (let i = 0; i < 4; i++) await get(`${out}/fail`);
  for (let i = 0; i < 10; i++) await get(`${out}/flaky`);
  const inbound = `http://127.0.0.1:${proxy.inboundPort}`;
  for (let i = 0; i < 6; i++) await get(`${inbound}/ok`);
  for (let i = 0; i < 2; i++) await get(`${inbound}/fail`);
});

afterAll(async () => {
  await proxy?.stop();
  backend?.stop(true);
  garbage?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const admin = () => ["--admin", `127.0.0.1:${proxy.adminPort}`];
const outboundAuthority = () => `localhost:${proxy.outboundPorts[1]}`;

test("stat -o json: exact counts per direction and authority; endpoint counts sit below retries", async () => {
  const { code, stdout, stderr } = await meshlet("stat", ...admin(), "-o", "json");
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const report = JSON.parse(stdout);
  expect(report.source).toBe("admin");
  expect(report.requestedWindowSeconds).toBe(60);
  expect(report.windowSeconds).toBeGreaterThan(0);
  expect(report.windowSeconds).toBeLessThan(60);
  const rows = report.authorities.map((r: Record<string, unknown>) => [r.direction, r.authority, r.requests, r.successes, r.failures]);
  expect(rows).toEqual([
    // Inbound rows are keyed by the target address (the app).
    ["inbound", `127.0.0.1:${backend.port}`, 8, 6, 2],
    // 10 ok + 4 failed + 10 flaky requests of which each was sent twice (the retry is a request here too).
    ["outbound", outboundAuthority(), 34, 20, 14],
  ]);
  const out = report.authorities[1];
  expect(out.successRate).toBeCloseTo(20 / 34, 12);
  expect(out.rps).toBeCloseTo(34 / report.windowSeconds, 9);
  for (const r of report.authorities) {
    expect(r.latencyMsP50).toBeGreaterThan(0);
    expect(r.latencyMsP99).toBeGreaterThanOrEqual(r.latencyMsP50);
  }
});

test("stat table: SUCCESS, RPS, latencies and TCP_CONN in viz's formats", async () => {
  const { code, stdout } = await meshlet("stat", ...admin());
  expect(code).toBe(0);
  expect(stdout.split("\n")[0]!.split(/\s+/)).toEqual(["DIRECTION", "AUTHORITY", "SUCCESS", "RPS", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99", "TCP_CONN"]);
  const inbound = rowOf(stdout, "inbound", `127.0.0.1:${backend.port}`);
  expect(inbound[2]).toBe("75.00%");
  const outbound = rowOf(stdout, "outbound", outboundAuthority());
  expect(outbound[2]).toBe("58.82%");
  for (const cells of [inbound, outbound]) {
    expect(cells[3]).toMatch(/^\d+\.\drps$/);
    for (const latency of cells.slice(4, 7)) expect(latency).toMatch(/^\d+(\.\d)?ms$/);
    // fetch keeps its connections alive: the sidecar holds at least one to each side.
    expect(Number(cells[7])).toBeGreaterThanOrEqual(1);
  }
});

test("routes --to -o wide: effective hides the retried failures, actual shows them; [DEFAULT] has the 5xx", async () => {
  const { code, stdout } = await meshlet("routes", ...admin(), "--to", outboundAuthority(), "-o", "wide");
  expect(code).toBe(0);
  expect(stdout.split("\n")[0]!.split(/\s+/)).toEqual([
    "ROUTE", "SERVICE", "EFFECTIVE_SUCCESS", "EFFECTIVE_RPS", "ACTUAL_SUCCESS", "ACTUAL_RPS", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99",
  ]);
  // Route names contain a space ("GET /flaky"): cells are matched from the start of the line.
  const flaky = rowOf(stdout, "GET", "/flaky", outboundAuthority());
  expect([flaky[3], flaky[5]]).toEqual(["100.00%", "50.00%"]);
  const ok = rowOf(stdout, "GET", "/ok", outboundAuthority());
  expect([ok[3], ok[5]]).toEqual(["100.00%", "100.00%"]);
  const fallback = rowOf(stdout, "[DEFAULT]", outboundAuthority());
  expect([fallback[2], fallback[4]]).toEqual(["0.00%", "0.00%"]);
  const lines = stdout.trim().split("\n");
  expect(lines[lines.length - 1]!.startsWith("[DEFAULT]")).toBe(true);
});

test("routes -o json: exact effective and actual counts; without --to the inbound routes", async () => {
  const outbound = JSON.parse((await meshlet("routes", ...admin(), "--to", outboundAuthority(), "-o", "json")).stdout);
  const counts = (r: { route: string; effective: { successes: number; failures: number }; actual: { successes: number; failures: number } }) => [
    r.route, r.effective.successes, r.effective.failures, r.actual.successes, r.actual.failures,
  ];
  expect(outbound.routes.map(counts)).toEqual([
    ["GET /flaky", 10, 0, 10, 10],
    ["GET /ok", 10, 0, 10, 0],
    ["[DEFAULT]", 0, 4, 0, 4],
  ]);
  const flaky = outbound.routes[0];
  expect(flaky.effective.rps).toBeCloseTo(10 / outbound.windowSeconds, 9);
  expect(flaky.actual.rps).toBeCloseTo(20 / outbound.windowSeconds, 9);
  expect(flaky.latencyMsP50).toBeGreaterThan(0);

  const inbound = JSON.parse((await meshlet("routes", ...admin(), "-o", "json")).stdout);
  expect(inbound.routes.map((r: { direction: string }) => r.direction)).toEqual(["inbound", "inbound"]);
  expect(inbound.routes.map(counts)).toEqual([
    ["GET /ok", 6, 0, 6, 0],
    ["[DEFAULT]", 0, 2, 0, 2],
  ]);
});

test("GET /stats.json: history=1 adds time series; a bad window is a 400 with one line", async () => {
  const body = (await (await fetch(`http://127.0.0.1:${proxy.adminPort}/stats.json?window=10s&history=1`)).json()) as StatsReport;
  expect(body.requestedWindowSeconds).toBe(10);
  expect(body.snapshotIntervalSeconds).toBe(5);
  for (const row of [...body.authorities, ...body.routes]) expect(Array.isArray(row.history)).toBe(true);
  const bad = await fetch(`http://127.0.0.1:${proxy.adminPort}/stats.json?window=forever`);
  expect(bad.status).toBe(400);
  expect(await bad.text()).toBe('window: invalid duration "forever" (expected a duration like 10s, 1m or 5m)\n');
});

test("an unreachable admin server: exit 69 and one line; garbage answers: exit 76 and one line; bad options: 64", async () => {
  const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = closed.port;
  closed.stop(true);
  const down = await meshlet("stat", "--admin", `127.0.0.1:${port}`);
  expect(down.code).toBe(69);
  expect(down.stdout).toBe("");
  expect(down.stderr).toBe(`meshlet stat: cannot reach the admin server at 127.0.0.1:${port}: ECONNREFUSED\n`);

  const text = await meshlet("routes", "--admin", `127.0.0.1:${garbage.port}`);
  expect(text.code).toBe(76);
  expect(text.stderr).toBe(`meshlet routes: the admin server at 127.0.0.1:${garbage.port} answered HTTP 200 with a body that is not JSON: "hello"\n`);

  const wrongJson = await meshlet("stat", "--admin", `127.0.0.1:${garbage.port}`, "--window", "2m");
  expect(wrongJson.code).toBe(76);
  expect(wrongJson.stderr).toBe(`meshlet stat: the admin server at 127.0.0.1:${garbage.port} answered GET /stats.json with no numeric windowSeconds\n`);

  // The admin server's own refusal is quoted.
  const tooLong = await meshlet("stat", ...admin(), "--window", "11m");
  expect(tooLong.code).toBe(76);
  expect(tooLong.stderr).toBe(`meshlet stat: the admin server at 127.0.0.1:${proxy.adminPort} answered HTTP 400: window: "11m" is out of range (more than 0, at most 600s)\n`);

  const prometheusDown = await meshlet("stat", "--prometheus", `http://127.0.0.1:${port}`);
  expect(prometheusDown.code).toBe(69);
  expect(prometheusDown.stderr).toBe(`meshlet stat: cannot reach Prometheus at http://127.0.0.1:${port}: ECONNREFUSED\n`);

  const both = await meshlet("stat", "--admin", "127.0.0.1:1", "--prometheus", "http://127.0.0.1:9090");
  expect(both.code).toBe(64);
  expect(both.stderr.split("\n")[0]).toBe("meshlet stat: --admin and --prometheus cannot be combined");
});
