// Retries of HTTP/2 requests with a body through the real proxy: on a ServiceProfile route with
// isRetryable, a POST whose first attempt the app answers 503 is re-sent with the same body, byte-exact
// (a node:http2 client and app); a body over the 64 KiB retain bound is not re-sent (the 503 is relayed).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** Each attempt the app received, by path: the body's hash and length. */
const attempts = new Map<string, { sha: string; bytes: number }[]>();
let app: http2.Http2Server;
let proxy: RunningProxy;
let dir: string;

beforeAll(async () => {
  app = http2.createServer();
  app.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const path = String(headers[":path"]);
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      const list = attempts.get(path) ?? [];
      list.push({ sha: sha(body), bytes: body.length });
      attempts.set(path, list);
      // Every first attempt fails; the second succeeds and says what it got.
      const status = list.length === 1 ? 503 : 200;
      stream.respond({ ":status": status });
      stream.end(`${list.length} ${body.length}\n`);
    });
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", () => resolve()));
  dir = mkdtempSync(join(tmpdir(), "meshlet-h2-retry-"));
  writeFileSync(
    join(dir, "upload.yaml"),
    `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: localhost
spec:
  routes:
  - name: upload
    condition: { method: POST, pathRegex: /upload/.* }
    isRetryable: true
  retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 100, ttl: 10s }
`,
  );
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${(app.address() as { port: number }).port}`,
  });
});

afterAll(async () => {
  await proxy.stop();
  app.close();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: Buffer): Promise<{ status: number; text: string }> {
  const port = proxy.outboundPorts[1]!;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": path, ":authority": `localhost:${port}` });
      let status = 0;
      const chunks: Buffer[] = [];
      req.on("response", (h) => (status = Number(h[":status"])));
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve({ status, text: Buffer.concat(chunks).toString() }));
      req.on("error", reject);
      // Several writes: the body crosses the proxy in more than one DATA frame.
      for (let at = 0; at < body.length; at += 10_000) req.write(body.subarray(at, at + 10_000));
      req.end();
    });
  } finally {
    session.close();
  }
}

test("a 60 KiB POST whose first attempt fails 503 is re-sent with the same body, byte-exact, and succeeds", async () => {
  const body = randomBytes(60 * 1024);
  const r = await post("/upload/small", body);
  expect(r).toEqual({ status: 200, text: `2 ${body.length}\n` });
  expect(attempts.get("/upload/small")).toEqual([
    { sha: sha(body), bytes: body.length },
    { sha: sha(body), bytes: body.length },
  ]);
  // The route counts one request and two attempts.
  const metrics = await proxy.metrics();
  expect(metricValue(metrics, "route_request_total", { rt_route: "upload" })).toBe(1);
  expect(metricValue(metrics, "route_actual_request_total", { rt_route: "upload" })).toBe(2);
});

test("a body over the 64 KiB retain bound is not re-sent: the first attempt's 503 reaches the client", async () => {
  const body = randomBytes(100 * 1024);
  const r = await post("/upload/large", body);
  expect(r.status).toBe(503);
  expect(attempts.get("/upload/large")).toEqual([{ sha: sha(body), bytes: body.length }]);
});
