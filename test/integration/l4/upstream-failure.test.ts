// Upstream failures on the splice path: a refused or unreachable upstream closes the client's
// connection and is counted with its errno, while other connections keep working.
import { expect, test } from "bun:test";
import { spawn } from "bun";

import { freePort, metricValue, startProxy } from "../../support/proxy.ts";
import { echoServer, exchange } from "../../support/tcp.ts";

test("refused upstream: the connection closes, counted as ECONNREFUSED; others keep working", async () => {
  const deadPort = await freePort();
  const echo = await echoServer();
  const proxy = await startProxy({
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${deadPort}`,
    MESHLET_OPAQUE_PORTS: String(deadPort),
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${echo.port}`,
  });
  try {
    const refused = await exchange(proxy.inboundPort, "hello", { halfClose: false });
    expect(refused.received.length).toBe(0);
    const text = await proxy.metrics();
    expect(metricValue(text, "tcp_close_total", { direction: "inbound", peer: "src", errno: "ECONNREFUSED" })).toBe(1);

    const ok = await exchange(proxy.outboundPorts[1]!, "still fine");
    expect(ok.received.toString()).toBe("still fine");
  } finally {
    await proxy.stop();
    await echo.close();
  }
});

test("unreachable upstream (SYNs dropped): the connect timeout closes the connection, counted as ETIMEDOUT", async () => {
  // A listener whose accept queue is full drops further SYNs, so connecting to it hangs like an
  // unreachable host, without sending traffic anywhere but loopback.
  const port = await freePort();
  const blackhole = spawn(
    ["python3", "-c", `import socket,time\ns=socket.socket();s.bind(("127.0.0.1",${port}));s.listen(0)\nc=[socket.create_connection(("127.0.0.1",${port})) for _ in range(1)]\nprint("ready",flush=True)\ntime.sleep(60)`],
    { stdout: "pipe" },
  );
  const reader = (blackhole.stdout as ReadableStream<Uint8Array>).getReader();
  await reader.read(); // "ready"
  const proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${port}`, MESHLET_OPAQUE_PORTS: String(port), MESHLET_CONNECT_TIMEOUT: "300ms" });
  try {
    const result = await exchange(proxy.inboundPort, "hello", { halfClose: false, timeoutMs: 10_000 });
    expect(result.received.length).toBe(0);
    expect(metricValue(await proxy.metrics(), "tcp_close_total", { direction: "inbound", errno: "ETIMEDOUT" })).toBe(1);
  } finally {
    await proxy.stop();
    blackhole.kill();
  }
});
