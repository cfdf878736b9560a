// Request-line validation through the whole proxy (RFC 9112 §3, as HAProxy does): a request-target
// with a control byte is refused with 400 and an HTTP version other than 1.0/1.1 with 505, and neither
// reaches the app; the HTTP/2 preface (PRI * HTTP/2.0) still goes to the HTTP/2 engine.
import { afterAll, beforeAll, expect, test } from "bun:test";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { type TestServer, exchange, listen } from "../../support/tcp.ts";

let app: TestServer;
let proxy: RunningProxy;
const appReceived: Buffer[] = [];

beforeAll(async () => {
  // A raw app: records what reaches it and answers every connection's first bytes with a 200.
  app = await listen((socket) => {
    socket.once("data", (d) => {
      appReceived.push(d as Buffer);
      socket.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
    });
  });
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}` });
});

afterAll(async () => {
  await proxy.stop();
  await app.close();
});

const refused: Array<[string, string, number]> = [
  ["NUL in the target", "GET /a\x00b HTTP/1.1\r\nHost: app\r\n\r\n", 400],
  ["ESC in the target", "GET /a\x1b[2Jb HTTP/1.1\r\nHost: app\r\n\r\n", 400],
  ["TAB in the target", "GET /a\tb HTTP/1.1\r\nHost: app\r\n\r\n", 400],
  ["DEL in the target", "GET /a\x7fb HTTP/1.1\r\nHost: app\r\n\r\n", 400],
  ["HTTP/2.0 in a request line", "GET / HTTP/2.0\r\nHost: app\r\n\r\n", 505],
  ["HTTP/1.2", "GET / HTTP/1.2\r\nHost: app\r\n\r\n", 505],
  ["HTTP/0.9", "GET / HTTP/0.9\r\nHost: app\r\n\r\n", 505],
];

for (const [name, request, status] of refused) {
  test(`${name} → ${status}, and the app sees nothing`, async () => {
    const before = app.accepted();
    const reply = await exchange(proxy.inboundPort, Buffer.from(request, "latin1"), { halfClose: false });
    expect(reply.received.toString("latin1")).toStartWith(`HTTP/1.1 ${status} `);
    expect(reply.closedBy).toBe("end");
    expect(app.accepted()).toBe(before);
  });
}

test("a valid request on the same proxy still reaches the app", async () => {
  const reply = await exchange(proxy.inboundPort, "GET /fine HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n", { halfClose: false });
  expect(reply.received.toString("latin1")).toStartWith("HTTP/1.1 200 ");
  expect(appReceived.at(-1)?.toString("latin1")).toStartWith("GET /fine HTTP/1.1\r\n");
});

test("the HTTP/2 preface is still detected as HTTP/2, not refused as a bad HTTP/1 version", async () => {
  const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const before = appReceived.length;
  const reply = await exchange(proxy.inboundPort, preface);
  expect(reply.received[3]).toBe(0x04); // the HTTP/2 engine's SETTINGS, not an HTTP/1 505
  expect(appReceived.length).toBe(before); // no stream was opened: nothing reached the app
  expect(metricValue(await proxy.metrics(), "inbound_tcp_detect_http_results_total", { result: "http/2" })).toBe(1);
});
