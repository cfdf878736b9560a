// 1,000 concurrent connections through the splice path, each echoing its own bytes exactly, and no
// descriptor left open in the proxy once they are closed.
import { expect, test } from "bun:test";

import { metricValue, startProxy } from "../../support/proxy.ts";
import { echoServer, exchange } from "../../support/tcp.ts";

const CONNECTIONS = 1000;
const BYTES_PER_CONNECTION = 32 * 1024;

test("1,000 concurrent spliced connections are byte-exact and leak no fd", async () => {
  const echo = await echoServer();
  const proxy = await startProxy({
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${echo.port}`,
    MESHLET_OPAQUE_PORTS: String(echo.port),
    // The echo server shares this busy test process; a SYN retransmit must not fail a connection.
    MESHLET_CONNECT_TIMEOUT: "10s",
  });
  try {
    await proxy.metrics(); // opens the admin keep-alive connection that later scrapes reuse
    const fdsBefore = proxy.openFds();
    const payloads = Array.from({ length: CONNECTIONS }, (_, i) => {
      const b = Buffer.alloc(BYTES_PER_CONNECTION);
      for (let j = 0; j < b.length; j += 4) b.writeUInt32LE((i * 7919 + j) >>> 0, j);
      return b;
    });
    const results = await Promise.all(payloads.map((p) => exchange(proxy.inboundPort, p, { timeoutMs: 60_000 })));
    let exact = 0;
    for (let i = 0; i < CONNECTIONS; i++) if (Buffer.compare(results[i]!.received, payloads[i]!) === 0) exact++;
    expect(exact).toBe(CONNECTIONS);

    // The proxy closes its side as the FINs arrive; give it a bounded moment to finish.
    for (let i = 0; i < 100 && metricValue(await proxy.metrics(), "tcp_open_connections", { peer: "src" }) > 0; i++) await Bun.sleep(50);
    const text = await proxy.metrics();
    expect(metricValue(text, "tcp_open_connections", { peer: "src" })).toBe(0);
    expect(metricValue(text, "tcp_close_total", { peer: "src", errno: "" })).toBe(CONNECTIONS);
    expect(proxy.openFds()).toBe(fdsBefore);
  } finally {
    await proxy.stop();
    await echo.close();
  }
}, 120_000);

test("idle spliced connections hold two fds each: pipes are opened only when needed", async () => {
  const echo = await echoServer();
  const proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${echo.port}`, MESHLET_OPAQUE_PORTS: String(echo.port) });
  const IDLE = 100;
  const sockets: import("node:net").Socket[] = [];
  try {
    await proxy.metrics();
    const fdsBefore = proxy.openFds();
    const net = await import("node:net");
    for (let i = 0; i < IDLE; i++) sockets.push(net.connect(proxy.inboundPort, "127.0.0.1"));
    for (let i = 0; i < 100 && metricValue(await proxy.metrics(), "tcp_open_connections", { peer: "dst" }) < IDLE; i++) await Bun.sleep(20);
    expect(metricValue(await proxy.metrics(), "tcp_open_connections", { peer: "dst" })).toBe(IDLE);
    expect(proxy.openFds() - fdsBefore).toBe(2 * IDLE); // client + upstream socket, no pipes
  } finally {
    for (const s of sockets) s.destroy();
    await proxy.stop();
    await echo.close();
  }
});
