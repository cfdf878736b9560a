// A request header list over the proxy's SETTINGS_MAX_HEADER_LIST_SIZE (64 KiB) through the whole proxy,
// from a raw client connection: answered 431 (not a stream reset), never forwarded to the app, and the
// same connection goes on serving the next request.
import { afterAll, beforeAll, expect, test } from "bun:test";
import http2 from "node:http2";
import { type RunningProxy, startProxy } from "../../support/proxy.ts";
import { headerValue, rawExchange } from "./raw-client.ts";

let app: http2.Http2Server;
const appPaths: string[] = [];
let proxy: RunningProxy;

beforeAll(async () => {
  app = http2.createServer();
  app.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    appPaths.push(String(headers[":path"]));
    stream.respond({ ":status": 200 });
    stream.end("ok\n");
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", () => resolve()));
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${(app.address() as { port: number }).port}` });
});

afterAll(async () => {
  await proxy.stop();
  app.close();
});

test("a request header list over 64 KiB is answered 431 by the proxy, never forwarded; the next stream on the connection is served", async () => {
  const authority = `127.0.0.1:${proxy.inboundPort}`;
  const req = (path: string) => [":method", "GET", ":scheme", "http", ":path", path, ":authority", authority];
  // 30 × ~2.9 KB fields: ~88 KB decoded, a few KB on the wire (HPACK indexes the repeated field).
  const big = [...req("/big")];
  for (let i = 0; i < 30; i++) big.push("x-big", "b".repeat(2900));
  const heads = await rawExchange(proxy.inboundPort, [{ headers: big }, { headers: req("/small") }]);
  expect(heads.map((h) => [h.id, headerValue(h.headers, ":status")])).toEqual([
    [1, "431"],
    [3, "200"],
  ]);
  expect(appPaths).toEqual(["/small"]);
});
