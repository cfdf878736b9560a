// Hostile clients against the whole proxy: hundreds of connections sending garbage, truncated or
// oversized heads, and abrupt resets, while a well-behaved client keeps getting answers; afterwards
// the process is alive and holds no more descriptors than before.
import { expect, test } from "bun:test";
import net from "node:net";

import { startProxy } from "../../support/proxy.ts";
import { prng } from "../../support/prng.ts";

const HOSTILE_CONNECTIONS = 300;


function hostilePayload(i: number, next: () => number): Buffer {
  const garbage = Buffer.alloc(1 + (next() % 2048));
  for (let j = 0; j < garbage.length; j++) garbage[j] = next() & 0xff;
  switch (i % 6) {
    case 0:
      return garbage; // binary: forwarded as TCP, the app answers 400 itself
    case 1:
      return Buffer.concat([Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n"), garbage]); // a head that turns to garbage
    case 2:
      return Buffer.from("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"); // smuggling
    case 3:
      return Buffer.from(`GET /${"a".repeat(70 * 1024)} HTTP/1.1\r\n\r\n`); // head too large
    case 4:
      return Buffer.from("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort"); // body never completes
    default:
      return Buffer.from(`GET / HTTP/1.1\r\n${"X-A: b\r\n".repeat(150)}\r\n`); // too many fields
  }
}

test("garbage, smuggling attempts, oversized heads and resets do not hurt the proxy or other clients", async () => {
  const app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("fine") });
  const proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}` });
  try {
    const base = `http://127.0.0.1:${proxy.inboundPort}/`;
    expect(await (await fetch(base)).text()).toBe("fine");
    await proxy.metrics();
    const fdsBefore = proxy.openFds();

    const next = prng(0xbad5eed);
    const hostile = Array.from({ length: HOSTILE_CONNECTIONS }, (_, i) => {
      const payload = hostilePayload(i, next);
      const resetEarly = i % 5 === 0;
      return new Promise<void>((resolve) => {
        const s = net.connect(proxy.inboundPort, "127.0.0.1", () => {
          s.write(payload);
          if (resetEarly) s.resetAndDestroy();
          else setTimeout(() => s.destroy(), 200);
        });
        s.on("error", () => {});
        s.on("close", () => resolve());
      });
    });
    // A well-behaved client interleaved with the attack.
    const good: string[] = [];
    for (let i = 0; i < 20; i++) good.push(await (await fetch(base)).text());
    await Promise.all(hostile);
    expect(good).toEqual(Array(20).fill("fine"));

    // Everything the attack opened is closed again (bounded wait: the proxy closes on its timers).
    for (let i = 0; i < 100 && proxy.openFds() > fdsBefore; i++) await Bun.sleep(50);
    expect(proxy.openFds()).toBeLessThanOrEqual(fdsBefore);
    expect(proxy.process.exitCode).toBeNull();
    expect(await (await fetch(base)).text()).toBe("fine");
  } finally {
    await proxy.stop();
    app.stop(true);
  }
}, 60_000);
