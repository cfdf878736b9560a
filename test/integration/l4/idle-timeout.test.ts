// MESHLET_TCP_IDLE_TIMEOUT: a spliced connection with no bytes either way for that long is closed
// (counted as ETIMEDOUT); one that keeps talking is not.
import { expect, test } from "bun:test";
import net from "node:net";

import { metricValue, startProxy } from "../../support/proxy.ts";
import { echoServer } from "../../support/tcp.ts";

test("idle spliced connections are closed after the idle timeout; busy ones stay", async () => {
  const echo = await echoServer();
  const proxy = await startProxy({
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${echo.port}`,
    MESHLET_OPAQUE_PORTS: String(echo.port),
    MESHLET_TCP_IDLE_TIMEOUT: "1s",
  });
  try {
    const idle = net.connect(proxy.inboundPort, "127.0.0.1");
    const idleClosed = new Promise<void>((resolve) => idle.on("close", () => resolve()));
    idle.on("error", () => {});

    // The busy connection echoes a message every 100 ms for ~2 s: longer than the timeout in total,
    // never idle for as long as it.
    const busy = net.connect(proxy.inboundPort, "127.0.0.1");
    let echoes = 0;
    busy.on("data", () => echoes++);
    for (let i = 0; i < 20; i++) {
      busy.write(`ping ${i}\n`);
      await Bun.sleep(100);
    }
    await idleClosed;
    expect(busy.destroyed).toBe(false);
    expect(echoes).toBeGreaterThan(0);
    busy.destroy();
    expect(metricValue(await proxy.metrics(), "tcp_close_total", { peer: "src", errno: "ETIMEDOUT" })).toBe(1);
  } finally {
    await proxy.stop();
    await echo.close();
  }
});
