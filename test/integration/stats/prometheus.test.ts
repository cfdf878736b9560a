// `meshlet stat --prometheus` and `meshlet routes --prometheus` against a real Prometheus server
// (Debian package prometheus) scraping two real sidecars every second: the rows aggregate both, and
// success rates come out exact (both sidecars carry the same mix). increase() extrapolates, so counts
// are not asserted; rates only as > 0. Prometheus runs in a temp dir and is killed at the end.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Subprocess, spawn } from "bun";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BUN, CLI, type RunningProxy, freePort, startProxy } from "../../support/proxy.ts";

const PROMETHEUS = "/usr/bin/prometheus";
const WAIT_MS = 40_000;
const AUTHORITY = "books:8080";

let backend: ReturnType<typeof Bun.serve>;
let sidecars: RunningProxy[] = [];
let prometheus: Subprocess | undefined;
let prometheusLog = "";
let promUrl = "";
let dir: string;
let flakyCalls = 0;

async function meshlet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([BUN, CLI, ...args], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Polls `probe` until it returns a value (bounded); the last failure explains a timeout. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await Bun.sleep(250);
  }
  throw new Error(`${what}: not within ${WAIT_MS} ms (last error: ${String(last)}); prometheus log:\n${prometheusLog.slice(-2000)}`);
}

async function promQuery(query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const body = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.data.result;
}

/** The same mix through each sidecar: outbound to books:8080 and inbound to the app. */
async function traffic(): Promise<void> {
  const get = async (url: string, host?: string) => {
    const res = await fetch(url, host === undefined ? {} : { headers: { host } });
    await res.text();
  };
  for (const s of sidecars) {
    const out = `http://127.0.0.1:${s.outboundPorts[1]}`;
    for (let i = 0; i < 3; i++) await get(`${out}/ok`, AUTHORITY);
    await get(`${out}/fail`, AUTHORITY);
    for (let i = 0; i < 2; i++) await get(`${out}/flaky`, AUTHORITY);
    const inbound = `http://127.0.0.1:${s.inboundPort}`;
    for (let i = 0; i < 3; i++) await get(`${inbound}/ok`);
    await get(`${inbound}/fail`);
  }
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
  dir = mkdtempSync(join(tmpdir(), "meshlet-prometheus-"));
  const configDir = join(dir, "meshlet.d");
  mkdirSync(configDir);
  writeFileSync(
    join(configDir, "books.yaml"),
    `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: books
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
  for (let i = 0; i < 2; i++) {
    sidecars.push(
      await startProxy({
        MESHLET_CONFIG_DIR: configDir,
        MESHLET_EXTERNAL_PROFILES: "true",
        MESHLET_INBOUND_PROFILE: "books",
        MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`,
        MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${backend.port}`,
      }),
    );
  }
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: meshlet
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: [${sidecars.map((s) => `"127.0.0.1:${s.adminPort}"`).join(", ")}]
`,
  );
  prometheus = spawn(
    [PROMETHEUS, `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "tsdb")}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdout: "ignore", stderr: "pipe" },
  );
  // Should the runner itself die, Prometheus goes with it.
  process.on("exit", () => prometheus?.kill("SIGKILL"));
  void (async () => {
    for await (const chunk of prometheus.stderr as ReadableStream<Uint8Array>) prometheusLog = (prometheusLog + new TextDecoder().decode(chunk)).slice(-20_000);
  })();
  await eventually("Prometheus ready", async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
  await eventually("both sidecars scraped and up", async () => {
    const up = await promQuery('up{job="meshlet"} == 1');
    return up.length === 2 ? true : undefined;
  });
  // Round one creates the series; Prometheus must see them before round two, or increase() has
  // nothing to compare the later counts with.
  await traffic();
  await eventually("round one scraped from both sidecars", async () => {
    const seen = await promQuery('count by (instance) (route_actual_response_total{direction="outbound",classification="failure"})');
    return seen.length === 2 ? true : undefined;
  });
  await traffic();
}, 120_000);

afterAll(async () => {
  if (prometheus !== undefined && prometheus.exitCode === null) {
    prometheus.kill("SIGTERM");
    const timer = setTimeout(() => prometheus?.kill("SIGKILL"), 5_000);
    await prometheus.exited;
    clearTimeout(timer);
  }
  await Promise.all(sidecars.map((s) => s.stop()));
  backend?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const prom = () => ["--prometheus", promUrl, "--window", "1m"];

test("stat --prometheus: one outbound row for books:8080 over both sidecars and one inbound row for the app, exact success rates", async () => {
  const rows = await eventually("round two in the stat rows", async () => {
    const { code, stdout, stderr } = await meshlet("stat", ...prom(), "-o", "json");
    if (code !== 0) throw new Error(stderr);
    const report = JSON.parse(stdout);
    const out = report.authorities.find((r: { direction: string; authority: string }) => r.direction === "outbound" && r.authority === AUTHORITY);
    const inb = report.authorities.find((r: { direction: string; authority: string }) => r.direction === "inbound" && r.authority === `127.0.0.1:${backend.port}`);
    return out?.requests > 0 && inb?.requests > 0 ? { report, out, inb } : undefined;
  });
  expect(rows.report.source).toBe("prometheus");
  expect(rows.report.windowSeconds).toBe(60);
  // Per sidecar and round: 3 ok + 1 failure + 2 flaky requests sent twice each (endpoint level): 5 of 8.
  expect(rows.out.successRate).toBeCloseTo(5 / 8, 6);
  expect(rows.inb.successRate).toBeCloseTo(3 / 4, 6);
  for (const r of [rows.out, rows.inb]) {
    expect(r.rps).toBeGreaterThan(0);
    expect(r.latencyMsP50).toBeGreaterThan(0);
    expect(r.latencyMsP99).toBeGreaterThanOrEqual(r.latencyMsP50);
    // Keep-alive: each sidecar still holds its pooled connection to the backend, and fetch's to it.
    expect(r.tcpConnections).toBeGreaterThanOrEqual(1);
  }

  const table = await meshlet("stat", ...prom());
  expect(table.code).toBe(0);
  const line = table.stdout.split("\n").find((l) => l.startsWith("outbound") && l.includes(AUTHORITY));
  expect(line?.split(/\s+/)[2]).toBe("62.50%");
});

test("routes --prometheus --to books:8080 -o wide: effective 100% and actual 50% on the retried route; inbound without --to", async () => {
  const routes = await eventually("round two in the route rows", async () => {
    const { code, stdout, stderr } = await meshlet("routes", ...prom(), "--to", AUTHORITY, "-o", "json");
    if (code !== 0) throw new Error(stderr);
    const r = JSON.parse(stdout).routes;
    return r.length === 3 && r.every((x: { actual: { requests: number } }) => x.actual.requests > 0) ? r : undefined;
  });
  const byName = Object.fromEntries(routes.map((r: { route: string }) => [r.route, r]));
  expect(Object.keys(byName).sort()).toEqual(["GET /flaky", "GET /ok", "[DEFAULT]"]);
  expect(byName["GET /flaky"].effective.successRate).toBeCloseTo(1, 6);
  expect(byName["GET /flaky"].actual.successRate).toBeCloseTo(0.5, 6);
  expect(byName["GET /flaky"].actual.rps).toBeGreaterThan(byName["GET /flaky"].effective.rps);
  expect(byName["GET /ok"].effective.successRate).toBeCloseTo(1, 6);
  expect(byName["[DEFAULT]"].effective.successRate).toBe(0);
  expect(byName["GET /ok"].latencyMsP50).toBeGreaterThan(0);

  const wide = await meshlet("routes", ...prom(), "--to", AUTHORITY, "-o", "wide");
  expect(wide.code).toBe(0);
  const flaky = wide.stdout.split("\n").find((l) => l.startsWith("GET /flaky"))!.split(/\s+/);
  expect([flaky[3], flaky[5]]).toEqual(["100.00%", "50.00%"]);

  const inbound = JSON.parse((await meshlet("routes", ...prom(), "-o", "json")).stdout).routes;
  expect(inbound.map((r: { direction: string; dst: string; route: string }) => [r.direction, r.route])).toEqual([
    ["inbound", "GET /ok"],
    ["inbound", "[DEFAULT]"],
  ]);
  expect(inbound[0].effective.successRate).toBeCloseTo(1, 6);
  expect(inbound[1].effective.successRate).toBe(0);
});

test("--prometheus pointed at something that is not Prometheus (a sidecar's admin port): one line and exit 76", async () => {
  const wrong = `http://127.0.0.1:${sidecars[0]!.adminPort}`;
  const res = await meshlet("stat", "--prometheus", wrong);
  expect(res.code).toBe(76);
  expect(res.stdout).toBe("");
  expect(res.stderr).toBe(`meshlet stat: Prometheus at ${wrong} answered HTTP 404 with a body that is not JSON\n`);
});
