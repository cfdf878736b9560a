// A tap subscriber that stops reading while many requests flow: the proxy drops (and counts) its
// events instead of queueing them, so its memory stays bounded and every request is still served.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Subprocess, spawn } from "bun";
import { readFileSync } from "node:fs";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

/** A header value large enough that each request event is ~12 KiB (under the backend's 16 KiB header limit): the volume dwarfs the memory margin. */
const PAD = "p".repeat(12 * 1024);
const REQUESTS = 5_000;
const CONCURRENCY = 8;
/** RSS growth allowed across the run; queueing every event for the stalled subscriber would need > 60 MiB. */
const RSS_MARGIN_BYTES = 32 * 1024 * 1024;

let backend: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;
let tapPort: number;

beforeAll(async () => {
  backend = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`, MESHLET_TAP_LISTEN: "127.0.0.1:0" });
  tapPort = Number(String((await proxy.waitForLog((l) => l.message === "tap listening")).address).split(":").pop());
});

afterAll(async () => {
  await proxy.stop();
  backend.stop(true);
});

/**
 * A WebSocket client that upgrades, subscribes to everything with header lines, and then never reads a byte: a python3
 * process with a 4 KiB receive buffer (no autotuning), so the proxy's sends back up almost at once.
 */
function stalledSubscriber(port: number): Subprocess<"pipe", "pipe", "inherit"> {
  const script = `
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", ${port}))
s.sendall(b"GET /tap HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n")
payload = b'{"headers":true}'
mask = b"\\x01\\x02\\x03\\x04"
s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
print("subscribed", flush=True)
sys.stdin.read()
`;
  return spawn(["python3", "-c", script], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.replace(/\D/g, "")) * 1024;
}

async function load(count: number): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const r = await fetch(`http://127.0.0.1:${proxy.inboundPort}/item`, { headers: { "x-pad": PAD } });
      await r.arrayBuffer();
      statuses.push(r.status);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return statuses;
}

test("a subscriber that stops reading loses events, counted; the proxy's memory stays bounded", async () => {
  const stalled = stalledSubscriber(tapPort);
  try {
    await proxy.waitForLog((l) => l.message === "tap subscriber");
    // Warm up (JIT, heap, pools) with the stalled subscriber already in place, then measure.
    expect(new Set(await load(500))).toEqual(new Set([200]));
    const before = rssBytes(proxy.pid);
    const droppedBefore = metricValue(await proxy.metrics(), "tap_dropped_events_total");

    const statuses = await load(REQUESTS);
    expect(statuses.length).toBe(REQUESTS);
    expect(new Set(statuses)).toEqual(new Set([200]));
    const after = rssBytes(proxy.pid);
    const dropped = metricValue(await proxy.metrics(), "tap_dropped_events_total") - droppedBefore;

    console.log(`rss before ${(before / 2 ** 20).toFixed(1)} MiB, after ${(after / 2 ** 20).toFixed(1)} MiB; dropped ${dropped} events`);
    // Nearly all of the 3 events per request were dropped: the stalled socket holds at most a few MiB.
    expect(dropped).toBeGreaterThan(REQUESTS * 3 * 0.9);
    expect(after - before).toBeLessThan(RSS_MARGIN_BYTES);
  } finally {
    stalled.stdin.end();
    await stalled.exited;
  }
});
