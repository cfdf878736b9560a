// What a real proxy logs (JSON lines) when things fail: an app that refuses connections gives a few
// rate-limited warn lines with cause, peer and target instead of one per request, and the count of the
// rest; a non-HTTP client without an original destination and a refused splice are warned about too;
// trace adds one line per exchange and hand-off, which info does not show.
import { expect, test } from "bun:test";

import { DEFAULT_LOG_LINES_PER_INTERVAL } from "../../../src/log/rate-limiter.ts";
import { type RunningProxy, freePort, startProxy } from "../../support/proxy.ts";
import { exchange } from "../../support/tcp.ts";

const REQUESTS = 200;
const CONCURRENCY = 20;

/** Stops the proxy and waits (bounded) until its last line, "stopped", has been read. */
async function stopAndCollect(proxy: RunningProxy): Promise<Record<string, unknown>[]> {
  expect(await proxy.stop()).toBe(0);
  for (let waited = 0; waited < 5_000 && !proxy.logs.some((l) => l.message === "stopped"); waited += 20) await Bun.sleep(20);
  expect(proxy.logs.some((l) => l.message === "stopped")).toBe(true);
  return proxy.logs;
}

test(`an app refusing connections: ${REQUESTS} failed requests → at most ${DEFAULT_LOG_LINES_PER_INTERVAL} warn lines with cause, peer and target, and the rest counted`, async () => {
  const deadPort = await freePort();
  const proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${deadPort}` });
  let logs: Record<string, unknown>[];
  try {
    const request = "GET /books HTTP/1.1\r\nHost: books.example.test\r\n\r\n";
    for (let sent = 0; sent < REQUESTS; sent += CONCURRENCY) {
      const replies = await Promise.all(Array.from({ length: CONCURRENCY }, () => exchange(proxy.inboundPort, request, { halfClose: false })));
      for (const reply of replies) expect(reply.received.toString("latin1")).toStartWith("HTTP/1.1 502 Bad Gateway\r\n");
    }
  } finally {
    logs = await stopAndCollect(proxy);
  }

  const target = `127.0.0.1:${deadPort}`;
  const failed = logs.filter((l) => l.message === "request failed");
  expect(failed.length).toBeGreaterThanOrEqual(1);
  expect(failed.length).toBeLessThanOrEqual(DEFAULT_LOG_LINES_PER_INTERVAL);
  for (const line of failed) {
    expect(line).toMatchObject({ level: "warn", scope: "inbound", status: 502, code: "PXY_ERR_HTTP_CONNECT_REFUSED", target });
    expect(String(line.error)).toContain(target); // the cause's message, as a field
    expect(String(line.client)).toMatch(/^127\.0\.0\.1:\d+$/); // the peer
  }
  // Every failure is either a line or counted: on a later line (`suppressed`) or in a summary line.
  const summaries = logs.filter((l) => l.message === "repeated log lines suppressed" && String(l.key).includes(target));
  for (const s of summaries) expect(s).toMatchObject({ level: "warn", scope: "inbound" });
  const suppressed = [...failed, ...summaries].reduce((n, l) => n + Number(l.suppressed ?? 0), 0);
  expect(suppressed).toBeGreaterThan(0);
  expect(failed.length + suppressed).toBe(REQUESTS);
  // info level: no per-exchange lines.
  expect(logs.filter((l) => l.level === "trace")).toEqual([]);
});

test("a non-HTTP client on the outbound port without an original destination: a warn line with its address", async () => {
  const proxy = await startProxy();
  try {
    const reply = await exchange(proxy.outboundPorts[0]!, "hello, not http\n");
    expect(reply.received.length).toBe(0); // nowhere to send it: closed
    const line = await proxy.waitForLog((l) => l.message === "no target for a non-HTTP connection; closed");
    expect(line).toMatchObject({ level: "warn", scope: "outbound", reason: "no original destination", errno: "EDESTADDRREQ", protocol: "not_http" });
    expect(String(line.client)).toMatch(/^127\.0\.0\.1:\d+$/);
  } finally {
    await proxy.stop();
  }
});

test("a spliced connection that ends in an error: a warn line with direction, target and errno", async () => {
  const deadPort = await freePort();
  const proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${deadPort}`, MESHLET_OPAQUE_PORTS: String(deadPort) });
  try {
    await exchange(proxy.inboundPort, "opaque bytes", { halfClose: false });
    const line = await proxy.waitForLog((l) => l.message === "tcp connection closed" && l.errno === "ECONNREFUSED");
    expect(line).toMatchObject({ level: "warn", scope: "inbound", target: `127.0.0.1:${deadPort}`, protocol: "opaque" });
  } finally {
    await proxy.stop();
  }
});

test("trace shows each hand-off and each exchange's end", async () => {
  const app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  const proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}`, MESHLET_LOG_LEVEL: "trace" });
  try {
    const res = await fetch(`http://127.0.0.1:${proxy.inboundPort}/books`);
    expect(await res.text()).toBe("ok");
    const handoff = await proxy.waitForLog((l) => l.message === "connection handed off");
    expect(handoff).toMatchObject({ level: "trace", scope: "native", direction: "inbound", handler: true });
    const done = await proxy.waitForLog((l) => l.message === "http exchange done");
    expect(done).toMatchObject({ level: "trace", scope: "inbound", method: "GET", status: 200, attempts: 1, target: `127.0.0.1:${app.port}` });
  } finally {
    await proxy.stop();
    app.stop(true);
  }
});
