// Half-close through the splice path: the client shuts its write side, the server reads to EOF and only
// then answers; the whole answer must arrive (FIN is forwarded only after the pipe is flushed).
import { afterAll, beforeAll, expect, test } from "bun:test";

import { type RunningProxy, startProxy } from "../../support/proxy.ts";
import { type TestServer, exchange, listen } from "../../support/tcp.ts";

const RESPONSE_BYTES = 3 * 1024 * 1024;
let server: TestServer;
let opaque: RunningProxy;
let detected: RunningProxy;

beforeAll(async () => {
  // Counts what it receives until EOF, then sends RESPONSE_BYTES and a trailer naming the count.
  server = await listen((socket) => {
    let received = 0;
    socket.on("data", (d) => (received += d.length));
    socket.on("end", () => {
      const body = Buffer.alloc(RESPONSE_BYTES, 0x61);
      socket.write(body);
      socket.end(`|received=${received}`);
    });
  });
  opaque = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${server.port}`, MESHLET_OPAQUE_PORTS: String(server.port) });
  detected = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${server.port}`, MESHLET_OPAQUE_PORTS: "" });
});

afterAll(async () => {
  await opaque.stop();
  await detected.stop();
  await server.close();
});

for (const [name, proxy] of [["opaque port", () => opaque], ["detected (not HTTP) port", () => detected]] as const) {
  test(`${name}: the server's full response arrives after the client half-closes`, async () => {
    // A leading NUL cannot start a request line, so the detected port forwards it as TCP.
    // (A long run of token characters would be a still-valid method and count as HTTP/1, as in Linkerd.)
    const request = Buffer.alloc(512 * 1024, 0x62);
    request[0] = 0x00;
    const { received, closedBy } = await exchange(proxy().inboundPort, request, { halfClose: true });
    expect(closedBy).toBe("end");
    expect(received.length).toBe(RESPONSE_BYTES + `|received=${request.length}`.length);
    expect(received.subarray(RESPONSE_BYTES).toString()).toBe(`|received=${request.length}`);
  });
}
