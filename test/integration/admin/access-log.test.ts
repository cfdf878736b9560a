// MESHLET_ACCESS_LOG on a real meshlet: one line per inbound HTTP request in the json and apache formats,
// checked field by field (a request with a body and trace headers, HTTP/1.0, an app 404), none for
// outbound, requests that authorization denies or finds no route for; and a proxy whose stderr is a pipe nobody reads keeps serving while it drops and counts lines.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Subprocess, spawn, spawnSync } from "bun";
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BUN, CLI, metricValue, type RunningProxy, startProxy } from "../../support/proxy.ts";

let backend: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  backend = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = await req.text();
      if (new URL(req.url).pathname === "/missing") return new Response("no such thing", { status: 404 });
      return new Response(`got ${body.length} bytes`, { headers: { "content-type": "text/plain" } });
    },
  });
});

afterAll(() => backend.stop(true));

async function curl(args: readonly string[]): Promise<string> {
  const proc = spawn(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code} %{local_port}", ...args], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  return out;
}

const RFC3339_NANOS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;

describe("json", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startProxy({ MESHLET_ACCESS_LOG: "json", MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}` });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  test("one object per request, every field as Linkerd names it", async () => {
    const startedMs = Date.now();
    const inbound = `http://127.0.0.1:${proxy.inboundPort}`;
    const [getStatus, getPort] = (await curl(["-A", "agent-get/1", "-H", "x-b3-traceid: 80f198ee56343ba864fe8b2a57d3eff7", "-H", "x-request-id: req-1", `${inbound}/books?id=1&x=%20`])).split(" ");
    const [postStatus, postPort] = (await curl(["-A", "agent-post/2", "-H", "x-amzn-trace-id: Root=1-67891233-abcdef012345678912345678", "--data-binary", "hello world!", "-H", "Host: web.default.svc.cluster.local:8080", `${inbound}/upload`])).split(" ");
    const [oldStatus] = (await curl(["-0", "-A", "", `${inbound}/missing`])).split(" ");
    expect([getStatus, postStatus, oldStatus]).toEqual(["200", "200", "404"]);
    // The outbound side is not logged (Linkerd: inbound only).
    expect(await curl(["-x", `http://127.0.0.1:${proxy.outboundPorts[0]}`, `http://127.0.0.1:${backend.port}/outbound`])).toStartWith("200 ");

    const access = () => proxy.logs.filter((l) => "client.addr" in l);
    await proxy.waitForLog(() => access().length >= 3);
    const lines = access();
    expect(lines.map((l) => l.uri)).toEqual(["/books?id=1&x=%20", "/upload", "/missing"]);
    const [get, post, old] = lines as Record<string, unknown>[];

    expect(get).toEqual({
      "client.addr": `127.0.0.1:${getPort}`,
      "client.id": "-",
      timestamp: expect.stringMatching(RFC3339_NANOS),
      method: "GET",
      uri: "/books?id=1&x=%20",
      version: "HTTP/1.1",
      trace_id: "80f198ee56343ba864fe8b2a57d3eff7",
      request_bytes: "",
      status: 200,
      response_bytes: String("got 0 bytes".length),
      total_ns: expect.stringMatching(/^\d+$/),
      processing_ns: expect.stringMatching(/^\d+$/),
      user_agent: "agent-get/1",
      host: `127.0.0.1:${proxy.inboundPort}`,
    });
    expect(post).toMatchObject({
      "client.addr": `127.0.0.1:${postPort}`,
      method: "POST",
      trace_id: "Root=1-67891233-abcdef012345678912345678",
      request_bytes: "12",
      status: 200,
      response_bytes: String("got 12 bytes".length),
      user_agent: "agent-post/2",
      host: "web.default.svc.cluster.local:8080",
    });
    expect(old).toMatchObject({ method: "GET", version: "HTTP/1.0", status: 404, trace_id: "", user_agent: "", response_bytes: String("no such thing".length) });

    for (const line of lines) {
      const ms = Date.parse(String(line.timestamp));
      expect(ms).toBeGreaterThanOrEqual(startedMs - 1000);
      expect(ms).toBeLessThanOrEqual(Date.now() + 1000);
      expect(BigInt(String(line.processing_ns))).toBeLessThanOrEqual(BigInt(String(line.total_ns)));
      for (const [k, v] of Object.entries(line)) expect(typeof v).toBe(k === "status" ? "number" : "string");
    }
  });
});

describe("requests that authorization refuses", () => {
  let proxy: RunningProxy;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "meshlet-access-log-authz-"));
    // A Server with one route and no authorization for it: /closed is denied (403), anything else unrouted (404).
    writeFileSync(
      join(dir, "policy.yaml"),
      `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web}
spec:
  podSelector: {matchLabels: {app: web}}
  port: ${backend.port}
  proxyProtocol: HTTP/1
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: closed}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules: [{matches: [{path: {type: PathPrefix, value: /closed}}]}]
`,
    );
    proxy = await startProxy({ MESHLET_ACCESS_LOG: "json", MESHLET_CONFIG_DIR: dir, MESHLET_POD_LABELS: "app=web", MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}` });
  });
  afterAll(async () => {
    await proxy.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("are logged with the status the client got (Linkerd's access log is outside its policy layer)", async () => {
    const inbound = `http://127.0.0.1:${proxy.inboundPort}`;
    const [denied] = (await curl(["-A", "denied/1", `${inbound}/closed/door`])).split(" ");
    const [unrouted] = (await curl(["-A", "unrouted/1", `${inbound}/elsewhere`])).split(" ");
    expect([denied, unrouted]).toEqual(["403", "404"]);
    const access = () => proxy.logs.filter((l) => "client.addr" in l);
    await proxy.waitForLog(() => access().length >= 2);
    expect(access().map((l) => [l.uri, l.status, l.user_agent])).toEqual([
      ["/closed/door", 403, "denied/1"],
      ["/elsewhere", 404, "unrouted/1"],
    ]);
  });
});

describe("apache", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    proxy = await startProxy({ MESHLET_ACCESS_LOG: "apache", MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}` });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  test('<client.addr> <client.id> - [<timestamp>] "<METHOD> <uri> <version>" <status>', async () => {
    const inbound = `http://127.0.0.1:${proxy.inboundPort}`;
    const [, port1] = (await curl([`${inbound}/a?b=c`])).split(" ");
    const [, port2] = (await curl(["-0", "-X", "DELETE", `${inbound}/missing`])).split(" ");
    const APACHE = /^(\S+) (\S+) - \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3})$/;
    const access = () => proxy.logs.map((l) => String(l.message)).filter((m) => APACHE.test(m));
    await proxy.waitForLog(() => access().length >= 2);
    const [a, b] = access().map((m) => APACHE.exec(m)!.slice(1));
    expect(a).toEqual([`127.0.0.1:${port1}`, "-", expect.stringMatching(RFC3339_NANOS), "GET", "/a?b=c", "HTTP/1.1", "200"]);
    expect(b).toEqual([`127.0.0.1:${port2}`, "-", expect.stringMatching(RFC3339_NANOS), "DELETE", "/missing", "HTTP/1.0", "404"]);
  });
});

describe("stderr is a pipe nobody reads", () => {
  let dir: string;
  let proc: Subprocess | undefined;
  let readFd = -1;

  afterAll(async () => {
    proc?.kill("SIGKILL");
    await proc?.exited;
    if (readFd >= 0) closeSync(readFd);
    rmSync(dir, { recursive: true, force: true });
  });

  test("the proxy keeps serving and counts the lines it drops", async () => {
    dir = mkdtempSync(join(tmpdir(), "meshlet-access-log-"));
    const fifo = join(dir, "stderr");
    expect(spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY);
    proc = spawn([BUN, CLI, "proxy"], {
      env: {
        PATH: process.env.PATH ?? "",
        MESHLET_INBOUND_LISTEN: "127.0.0.1:0",
        MESHLET_OUTBOUND_LISTEN: "127.0.0.1:0",
        MESHLET_ADMIN_LISTEN: "127.0.0.1:0",
        MESHLET_TAP_LISTEN: "127.0.0.1:0",
        MESHLET_LOG_FORMAT: "json",
        MESHLET_ACCESS_LOG: "json",
        MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`,
      },
      stdout: "ignore",
      stderr: writeFd,
    });
    closeSync(writeFd);

    // Read only until the ready line, then never again: the pipe (64 KiB) fills.
    let text = "";
    const chunk = Buffer.alloc(65536);
    for (let waited = 0; !text.includes('"meshlet ready"'); waited += 20) {
      if (waited > 10_000) throw new Error(`no ready line: ${text}`);
      try {
        const n = readSync(readFd, chunk);
        text += chunk.toString("utf8", 0, n);
      } catch (err) {
        if ((err as { code?: string }).code !== "EAGAIN") throw err;
        await Bun.sleep(20);
      }
    }
    const ready = JSON.parse(text.split("\n").find((l) => l.includes('"meshlet ready"'))!);
    const port = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));
    const inbound = `http://127.0.0.1:${port(ready.inbound)}`;
    const metrics = `http://127.0.0.1:${port(ready.admin)}/metrics`;

    // ~6 KB per line: the pipe and the sink's 256 K-character buffer hold ~55 lines; 300 requests overflow them.
    const userAgent = "a".repeat(4000);
    const path = `/${"p".repeat(2000)}`;
    const REQUESTS = 300;
    let served = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const res = await fetch(`${inbound}${path}?i=${i}`, { headers: { "user-agent": userAgent } });
      await res.text();
      if (res.status === 200) served++;
    }
    expect(served).toBe(REQUESTS);
    const exposition = await (await fetch(metrics)).text();
    const dropped = metricValue(exposition, "meshlet_access_log_dropped_lines_total");
    expect(dropped).toBeGreaterThan(REQUESTS / 2);
    expect(dropped).toBeLessThanOrEqual(REQUESTS);
    expect(metricValue(exposition, "request_total", { direction: "inbound" })).toBe(REQUESTS);
  });
});
