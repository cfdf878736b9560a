// h2c prior knowledge through the whole proxy (front door → H2 engine → pooled upstream h2): curl
// --http2-prior-knowledge inbound and outbound, request and response bodies byte-exact with trailers,
// many concurrent streams on one client connection, a stalled stream beside live ones, proxy errors
// per stream (HTTP 502 / gRPC 14 with l5d-proxy-error outbound), and the per-stream metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, freePort, metricValue, startProxy } from "../../support/proxy.ts";

const LARGE_BYTES = 4 * 1024 * 1024;
const LARGE = randomBytes(LARGE_BYTES);
const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** An h2c app: /echo returns the request body with trailers, /large a 4 MiB body, else method and path. */
function startApp(): Promise<http2.Http2Server> {
  const app = http2.createServer();
  app.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const path = String(headers[":path"]);
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      if (path === "/large") {
        stream.respond({ ":status": 200 });
        stream.end(LARGE);
        return;
      }
      if (path.startsWith("/echo")) {
        stream.respond({ ":status": 200, "x-request-bytes": String(Buffer.concat(chunks).length) }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "x-trailer": "done" }));
        stream.end(Buffer.concat(chunks));
        return;
      }
      stream.respond({ ":status": path === "/fail" ? 503 : 200, "content-type": "text/plain" });
      stream.end(`${headers[":method"]} ${path} authority=${headers[":authority"]}\n`);
    });
  });
  return new Promise((resolve) => app.listen(0, "127.0.0.1", () => resolve(app)));
}

async function curl(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const p = Bun.spawn(["curl", "-sS", "--max-time", "20", "--http2-prior-knowledge", ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout: Buffer.from(stdout), stderr };
}

interface Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Uint8Array): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => (head = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve({ status: Number(head[":status"]), headers: head, body: Buffer.concat(chunks), trailers }));
    req.on("error", reject);
    if (body !== undefined) req.end(body);
  });
}

let app: http2.Http2Server;
let appPort: number;
let proxy: RunningProxy;
let deadPort: number;

beforeAll(async () => {
  app = await startApp();
  appPort = (app.address() as { port: number }).port;
  deadPort = await freePort();
  proxy = await startProxy({
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${appPort}`,
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${appPort},127.0.0.1:0=127.0.0.1:${deadPort}`,
  });
});

afterAll(async () => {
  await proxy.stop();
  app.close();
});

describe("curl --http2-prior-knowledge", () => {
  test("inbound: GET and a 1 MiB POST echoed byte-exact with trailers", async () => {
    const get = await curl([`http://127.0.0.1:${proxy.inboundPort}/books?id=7`]);
    expect(get.stderr).toBe("");
    expect(get.stdout.toString()).toBe(`GET /books?id=7 authority=127.0.0.1:${proxy.inboundPort}\n`);

    const body = randomBytes(1024 * 1024);
    const file = join(tmpdir(), `meshlet-h2-${process.pid}.bin`);
    writeFileSync(file, body);
    const post = await curl(["-D", "-", "--data-binary", `@${file}`, `http://127.0.0.1:${proxy.inboundPort}/echo`]);
    expect(post.code).toBe(0);
    const text = post.stdout.toString("latin1");
    expect(text).toStartWith("HTTP/2 200");
    expect(text).toContain(`x-request-bytes: ${body.length}`);
    const bodyStart = text.indexOf("\r\n\r\n") + 4;
    expect(sha(post.stdout.subarray(bodyStart, bodyStart + body.length))).toBe(sha(body));
  });

  test("outbound (a MESHLET_OUTBOUND_UPSTREAMS listener): GET relayed, and an unreachable app is 502 with l5d-proxy-error", async () => {
    const ok = await curl([`http://127.0.0.1:${proxy.outboundPorts[1]}/shelf`]);
    expect(ok.stdout.toString()).toBe(`GET /shelf authority=127.0.0.1:${proxy.outboundPorts[1]}\n`);
    const dead = await curl(["-D", "-", "-o", "/dev/null", `http://127.0.0.1:${proxy.outboundPorts[2]}/x`]);
    const head = dead.stdout.toString("latin1");
    expect(head).toStartWith("HTTP/2 502");
    expect(head).toContain("l5d-proxy-error: connect to 127.0.0.1:");
  });
});

describe("streams on one client connection", () => {
  test("64 concurrent streams with distinct bodies come back byte-exact with their trailers", async () => {
    const session = http2.connect(`http://127.0.0.1:${proxy.inboundPort}`);
    try {
      const bodies = Array.from({ length: 64 }, (_, i) => randomBytes(1000 + i * 997));
      const replies = await Promise.all(bodies.map((b, i) => request(session, { ":method": "POST", ":path": `/echo/${i}` }, b)));
      for (let i = 0; i < bodies.length; i++) {
        expect(replies[i]!.status).toBe(200);
        expect(sha(replies[i]!.body)).toBe(sha(bodies[i]!));
        expect(replies[i]!.trailers["x-trailer"]).toBe("done");
      }
    } finally {
      session.close();
    }
  });

  test("a stalled stream (its reader paused) does not stop the streams beside it, and completes intact once read", async () => {
    const session = http2.connect(`http://127.0.0.1:${proxy.inboundPort}`);
    try {
      const stalled = session.request({ ":method": "GET", ":path": "/large" });
      const chunks: Buffer[] = [];
      let firstChunk!: () => void;
      const started = new Promise<void>((r) => (firstChunk = r));
      let paused = false;
      stalled.on("data", (c: Buffer) => {
        chunks.push(c);
        if (paused) return;
        paused = true;
        stalled.pause(); // read one chunk, then stop reading: the windows fill up behind it
        firstChunk();
      });
      await started;
      const live = await Promise.all(Array.from({ length: 20 }, (_, i) => request(session, { ":method": "POST", ":path": `/echo/live${i}` }, Buffer.from(`live ${i}`))));
      for (let i = 0; i < live.length; i++) expect(live[i]!.body.toString()).toBe(`live ${i}`);
      const done = new Promise<void>((r) => stalled.on("end", () => r()));
      stalled.resume();
      await done;
      expect(sha(Buffer.concat(chunks))).toBe(sha(LARGE));
    } finally {
      session.close();
    }
  });
});

test("every stream is counted per endpoint: request_total and response_total with classification", async () => {
  const session = http2.connect(`http://127.0.0.1:${proxy.outboundPorts[1]}`);
  try {
    for (const path of ["/ok1", "/ok2", "/fail"]) await request(session, { ":method": "GET", ":path": path });
  } finally {
    session.close();
  }
  const metrics = await proxy.metrics();
  const target = { direction: "outbound", target_addr: `127.0.0.1:${appPort}` };
  expect(metricValue(metrics, "response_total", { ...target, status_code: "503", classification: "failure" })).toBe(1);
  expect(metricValue(metrics, "response_total", { ...target, status_code: "200", classification: "success" })).toBeGreaterThanOrEqual(2);
  expect(metricValue(metrics, "inbound_tcp_detect_http_results_total", { result: "http/2" })).toBeGreaterThanOrEqual(1);
});
