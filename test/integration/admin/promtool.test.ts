// The /metrics exposition of a real meshlet carrying every kind of traffic (inbound HTTP allowed, denied
// and unrouted by a Server and AuthorizationPolicy, outbound HTTP through a ServiceProfile route with
// retries, an opaque TCP connection, the access log) passes `promtool check metrics` (Debian `prometheus`).
// Parse errors always fail; lint findings fail unless a (rule, metric) pair is in LINKERD_NAMES below.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { metricValue, type RunningProxy, startProxy } from "../../support/proxy.ts";

/**
 * Lint findings that Linkerd's own metric names cause; meshlet keeps the names so that Linkerd's
 * dashboards and `linkerd viz` queries work unchanged. Each entry: promtool's message, the metrics.
 */
const LINKERD_NAMES: ReadonlyArray<{ readonly rule: string; readonly metrics: readonly string[] }> = [
  // Linkerd's latency histograms are in milliseconds with `_ms` in the name (linkerd/metrics/src/latency.rs,
  // linkerd-behavior §5.1); `linkerd viz` queries response_latency_ms_bucket and route_response_latency_ms_bucket.
  { rule: "metric names should not contain abbreviated units", metrics: ["response_latency_ms", "route_response_latency_ms"] },
];

const SERVICE_PROFILE = `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: localhost}
spec:
  routes:
  - name: flaky
    condition: {method: GET, pathRegex: /flaky}
    isRetryable: true
  retryBudget: {retryRatio: 0.5, minRetriesPerSecond: 100, ttl: 10s}
`;

const POLICY = (port: number) => `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web}
spec:
  podSelector: {matchLabels: {app: web}}
  port: ${port}
  proxyProtocol: HTTP/1
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: open}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules: [{matches: [{path: {type: PathPrefix, value: /open}}]}]
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: closed}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules: [{matches: [{path: {type: PathPrefix, value: /closed}}]}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: {name: loopback}
spec:
  networks: [{cidr: 127.0.0.0/8}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: {name: pods}
spec:
  networks: [{cidr: 10.0.0.0/8}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: open-from-loopback}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: open}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: NetworkAuthentication, name: loopback}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: closed-from-pods}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: closed}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: NetworkAuthentication, name: pods}]
`;

let web: ReturnType<typeof Bun.serve>;
let echo: Bun.TCPSocketListener<undefined>;
let proxy: RunningProxy;
let flakyCalls = 0;
const dir = mkdtempSync(join(tmpdir(), "meshlet-promtool-"));

beforeAll(async () => {
  web = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      if (new URL(req.url).pathname === "/flaky") return ++flakyCalls % 2 === 1 ? new Response("boom", { status: 503 }) : new Response("ok");
      return new Response("ok");
    },
  });
  echo = Bun.listen<undefined>({ hostname: "127.0.0.1", port: 0, socket: { data: (s, d) => void s.write(d) } });
  writeFileSync(join(dir, "profile.yaml"), SERVICE_PROFILE);
  writeFileSync(join(dir, "policy.yaml"), POLICY(web.port!));
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_POD_LABELS: "app=web",
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${web.port}`,
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${web.port},127.0.0.1:0=127.0.0.1:${echo.port}`,
    MESHLET_OPAQUE_PORTS: String(echo.port),
    MESHLET_ACCESS_LOG: "json",
  });
});

afterAll(async () => {
  await proxy.stop();
  web.stop(true);
  echo.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

/** An opaque TCP round trip through the outbound upstream mapped to the echo server. */
async function echoThrough(port: number): Promise<string> {
  const got = Promise.withResolvers<string>();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, d) => got.resolve(Buffer.from(d).toString()),
      close: () => got.resolve(""),
    },
  });
  socket.write("ping");
  const reply = await got.promise;
  socket.end();
  return reply;
}

async function promtoolCheck(exposition: string): Promise<{ code: number; output: string }> {
  const proc = spawn(["promtool", "check", "metrics"], { stdin: Buffer.from(exposition), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code: await proc.exited, output: stdout + stderr };
}

test("every family, populated by real traffic, passes promtool check metrics", async () => {
  if (Bun.which("promtool") === null) {
    throw new Error("promtool not found: install the Debian package `prometheus` (test/run-all.sh and .ci/run do so as root)");
  }
  const inbound = `http://127.0.0.1:${proxy.inboundPort}`;
  const statuses = [];
  for (const path of ["/open/a", "/closed", "/nowhere"]) statuses.push((await fetch(`${inbound}${path}`)).status);
  expect(statuses).toEqual([200, 403, 404]);
  const outbound = `http://localhost:${proxy.outboundPorts[1]}`;
  for (let i = 0; i < 4; i++) expect((await fetch(`${outbound}/flaky`)).status).toBe(200);
  expect((await fetch(`${outbound}/other`)).status).toBe(200);
  expect(await echoThrough(proxy.outboundPorts[2]!)).toBe("ping");

  const exposition = await proxy.metrics();
  // The traffic above reached the families promtool is asked about (name, labels, at least).
  const populated: Array<[string, Record<string, string>, number]> = [
    ["request_total", { direction: "inbound" }, 1],
    ["response_latency_ms_count", { direction: "outbound" }, 5],
    ["route_response_latency_ms_count", { rt_route: "flaky" }, 4],
    ["route_actual_response_total", { rt_route: "flaky", classification: "failure" }, 1],
    ["route_retryable_total", { rt_route: "flaky" }, 1],
    ["inbound_http_authz_allow_total", { route_name: "open" }, 1],
    ["inbound_http_authz_deny_total", { route_name: "closed" }, 1],
    ["inbound_http_route_not_found_total", {}, 1],
    ["tcp_read_bytes_total", { direction: "outbound", target_port: String(echo.port) }, 4],
    ["outbound_tcp_detect_http_results_total", { result: "opaque" }, 1],
    ["process_cpu_seconds_total", {}, 0],
    ["proxy_build_info", {}, 1],
    ["meshlet_access_log_dropped_lines_total", {}, 0],
  ];
  for (const [name, labels, atLeast] of populated) {
    expect({ name, labels, present: exposition.includes(`\n${name}`) && metricValue(exposition, name, labels) >= atLeast }).toEqual({ name, labels, present: true });
  }

  const { code, output } = await promtoolCheck(exposition);
  const findings = output.split("\n").filter((l) => l.trim() !== "");
  // promtool exits 1 on a parse error ("error while linting: text format parsing error ..."), never acceptable;
  // 3 when it only has lint findings, each of which must be an allowed (rule, metric) pair.
  expect(findings.filter((l) => /error|parsing/i.test(l))).toEqual([]);
  expect(findings.filter((line) => !LINKERD_NAMES.some((a) => a.metrics.some((m) => line === `${m} ${a.rule}`)))).toEqual([]);
  expect(code).toBe(findings.length === 0 ? 0 : 3);
});
