// IPv6 end to end: listeners on [::1], an IPv6 forward target, and IPv6 addresses in the metrics.
import { expect, test } from "bun:test";
import net from "node:net";

import { metricValue, startProxy } from "../../support/proxy.ts";

test("an IPv6 listener splices to an IPv6 target and labels it [::1]:port", async () => {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, "::1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  const proxy = await startProxy({
    MESHLET_INBOUND_LISTEN: "[::1]:0",
    MESHLET_INBOUND_FORWARD: `[::1]:${port}`,
    MESHLET_OPAQUE_PORTS: String(port),
  });
  try {
    const echoed = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: "::1", port: proxy.inboundPort }, () => s.end("over ipv6"));
      let got = "";
      s.on("data", (d) => (got += d));
      s.on("end", () => resolve(got));
      s.on("error", reject);
    });
    expect(echoed).toBe("over ipv6");
    const metrics = await proxy.metrics();
    expect(metricValue(metrics, "tcp_open_total", { target_addr: `[::1]:${port}`, target_ip: "::1", peer: "dst" })).toBe(1);
  } finally {
    await proxy.stop();
    server.close();
  }
});
