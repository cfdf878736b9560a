// HTTP/1 through the whole proxy process: the native front door detects HTTP/1 and hands the fd to the
// HTTP engine (inbound to the app, outbound by authority as an http_proxy), errors become 502 with
// l5d-proxy-error, a bad request gets 400 without hurting others, and SIGTERM lets a response finish.
import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";

import { type RunningProxy, freePort, metricValue, startProxy } from "../../support/proxy.ts";

let app: ReturnType<typeof Bun.serve>;
let slowArrived: () => void = () => {};
let proxy: RunningProxy;

async function curl(args: string[]): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(["curl", "-sS", "--max-time", "10", ...args], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  return { code: await proc.exited, out };
}

beforeAll(async () => {
  app = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/slow") {
        slowArrived();
        await Bun.sleep(500);
      }
      return new Response(`app ${req.method} ${url.pathname} host=${req.headers.get("host")}`);
    },
  });
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}` });
});

afterAll(async () => {
  await proxy.stop();
  app.stop(true);
});

test("inbound: keep-alive requests on one client connection reach the app and are counted", async () => {
  const base = `http://127.0.0.1:${proxy.inboundPort}`;
  const { code, out } = await curl(["-w", "|%{num_connects}\\n", `${base}/a`, `${base}/b`, `${base}/c`]);
  expect(code).toBe(0);
  expect(out).toContain("app GET /a");
  expect(out).toContain("app GET /c");
  expect(out.split("\n").filter((l) => l.endsWith("|0")).length).toBe(2); // 2nd and 3rd reuse the connection
  const metrics = await proxy.metrics();
  expect(metricValue(metrics, "request_total", { direction: "inbound" })).toBeGreaterThanOrEqual(3);
  expect(metricValue(metrics, "response_total", { direction: "inbound", status_code: "200", classification: "success" })).toBeGreaterThanOrEqual(3);
  expect(metricValue(metrics, "meshlet_http_upstream_connections_opened_total", { direction: "inbound" })).toBe(1);
});

test("HTTP connections count in the transport families like spliced ones", async () => {
  const before = await proxy.metrics();
  const { code } = await curl([`http://127.0.0.1:${proxy.inboundPort}/t1`, `http://127.0.0.1:${proxy.inboundPort}/t2`]);
  expect(code).toBe(0);
  const src = { direction: "inbound", peer: "src", target_port: String(app.port) };
  const dst = { direction: "inbound", peer: "dst", target_port: String(app.port) };
  // Poll (bounded) until the client's close has been processed.
  let after = await proxy.metrics();
  for (let i = 0; i < 50 && metricValue(after, "tcp_close_total", src) === metricValue(before, "tcp_close_total", src); i++) {
    await Bun.sleep(20);
    after = await proxy.metrics();
  }
  expect(metricValue(after, "tcp_open_total", src) - metricValue(before, "tcp_open_total", src)).toBe(1);
  expect(metricValue(after, "tcp_close_total", { ...src, errno: "" }) - metricValue(before, "tcp_close_total", { ...src, errno: "" })).toBe(1);
  expect(metricValue(after, "tcp_read_bytes_total", src)).toBeGreaterThan(metricValue(before, "tcp_read_bytes_total", src));
  expect(metricValue(after, "tcp_write_bytes_total", src)).toBeGreaterThan(metricValue(before, "tcp_write_bytes_total", src));
  expect(metricValue(after, "tcp_read_bytes_total", dst)).toBeGreaterThan(metricValue(before, "tcp_read_bytes_total", dst));
  expect(metricValue(after, "tcp_open_total", dst)).toBeGreaterThanOrEqual(1); // the pooled upstream connection
  expect(metricValue(after, "tcp_open_connections", src)).toBe(0);
});

test("outbound as http_proxy: the request goes to its authority", async () => {
  const { code, out } = await curl(["-x", `http://127.0.0.1:${proxy.outboundPorts[0]}`, `http://127.0.0.1:${app.port}/via-proxy`]);
  expect(code).toBe(0);
  expect(out).toBe(`app GET /via-proxy host=127.0.0.1:${app.port}`);
});

test("an unreachable app answers 502: l5d-proxy-error to the local app (outbound), nothing internal to an unmeshed inbound client", async () => {
  const dead = await freePort();
  const p = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${dead}`, MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${dead}` });
  try {
    const inbound = await curl(["-i", `http://127.0.0.1:${p.inboundPort}/`]);
    expect(inbound.out).toStartWith("HTTP/1.1 502");
    expect(inbound.out.toLowerCase()).not.toContain("l5d-proxy-error:");
    expect(inbound.out).not.toContain(String(dead));
    const outbound = await curl(["-i", `http://127.0.0.1:${p.outboundPorts[1]}/`]);
    expect(outbound.out).toStartWith("HTTP/1.1 502");
    expect(outbound.out.toLowerCase()).toContain("l5d-proxy-error:");
  } finally {
    await p.stop();
  }
});

test("a malformed request gets 400 and the proxy keeps serving others", async () => {
  const reply = await new Promise<string>((resolve) => {
    let got = "";
    const s = net.connect(proxy.inboundPort, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"));
    s.on("data", (d) => (got += d));
    s.on("close", () => resolve(got));
    s.on("error", () => resolve(got));
  });
  expect(reply).toStartWith("HTTP/1.1 400");
  const { out } = await curl([`http://127.0.0.1:${proxy.inboundPort}/after`]);
  expect(out).toContain("app GET /after");
});

test("SIGTERM drains: an in-flight response completes, then the process exits 0", async () => {
  const p = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}` });
  const arrived = new Promise<void>((resolve) => (slowArrived = resolve));
  const inFlight = curl([`http://127.0.0.1:${p.inboundPort}/slow`]);
  await arrived; // the request is at the app
  p.process.kill("SIGTERM");
  const { code, out } = await inFlight;
  expect(code).toBe(0);
  expect(out).toContain("app GET /slow");
  expect(await p.process.exited).toBe(0);
});
