// Proxy loops through other spellings: a request to the outbound port whose authority names one of
// meshlet's own listeners — in any spelling of its address — gets 508 and meshlet never dials itself
// (no upstream connection opens, the fd count stays flat). Real meshlet processes, curl-free raw sockets.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hostname, networkInterfaces } from "node:os";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { rawRequest, splitResponses } from "../../support/http-harness.ts";

// A DNS name for 127.0.0.1 that only the resolver knows (the machine's name, via /etc/hosts): it reaches
// the pool's check on the resolved address, past the early check on spellings.
const HOSTNAME = hostname();
const hostnameIsLoopback = await Bun.dns.lookup(HOSTNAME, { backend: "system" }).then(
  (answers) => answers.find((a) => a.family === 4)?.address === "127.0.0.1",
  () => false,
);

/** Sends one request naming `authority` to meshlet's outbound port; returns the status. */
async function statusFor(port: number, authority: string, absoluteForm = false): Promise<number> {
  const line = absoluteForm ? `GET http://${authority}/ HTTP/1.1` : "GET / HTTP/1.1";
  const r = await rawRequest(port, `${line}\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`, { timeoutMs: 10_000 });
  return splitResponses(r.data)[0]?.status ?? 0;
}

/** Asserts that meshlet opened no upstream connection and holds no more fds than `fdsBefore` (+ slack for Bun's own). */
async function expectNoSelfDial(proxy: RunningProxy, fdsBefore: number): Promise<void> {
  const text = await proxy.metrics();
  expect(metricValue(text, "tcp_open_total", { direction: "outbound", peer: "dst" })).toBe(0);
  expect(proxy.openFds()).toBeLessThan(fdsBefore + 20);
}

describe("outbound listener on 127.0.0.1", () => {
  let proxy: RunningProxy;
  let fdsBefore = 0;
  beforeAll(async () => {
    proxy = await startProxy({ MESHLET_OUTBOUND_LISTEN: "127.0.0.1:0" });
    await proxy.metrics();
    fdsBefore = proxy.openFds();
  });
  afterAll(async () => {
    await proxy.stop();
  });

  const spellings = (port: number): string[] => [
    `127.0.0.1:${port}`,
    `localhost:${port}`,
    `LOCALHOST:${port}`,
    `LocalHost.:${port}`,
    `127.1:${port}`,
    `127.000.000.001:${port}`,
    `2130706433:${port}`,
    `0x7f000001:${port}`,
    `0x7F.0.0.1:${port}`,
    `0177.0.0.1:${port}`,
    `[::ffff:127.0.0.1]:${port}`,
    `[::FFFF:7f00:1]:${port}`,
    `0.0.0.0:${port}`,
    `0:${port}`,
  ];

  test("every spelling of its own address is a 508, origin-form and absolute-form", async () => {
    const port = proxy.outboundPorts[0]!;
    for (const authority of spellings(port)) {
      expect({ authority, status: await statusFor(port, authority) }).toEqual({ authority, status: 508 });
      expect({ authority, status: await statusFor(port, authority, true) }).toEqual({ authority, status: 508 });
    }
    await expectNoSelfDial(proxy, fdsBefore);
  });

  test.skipIf(!hostnameIsLoopback)("a name that resolves to its address is a 508 once resolved", async () => {
    const port = proxy.outboundPorts[0]!;
    expect(await statusFor(port, `${HOSTNAME}:${port}`)).toBe(508);
    expect(await statusFor(port, `${HOSTNAME.toUpperCase()}:${port}`)).toBe(508);
    await expectNoSelfDial(proxy, fdsBefore);
  });

  test("its inbound listener is one of its own too", async () => {
    const port = proxy.outboundPorts[0]!;
    expect(await statusFor(port, `127.1:${proxy.inboundPort}`)).toBe(508);
    await expectNoSelfDial(proxy, fdsBefore);
  });
});

describe("outbound listener on the 0.0.0.0 wildcard", () => {
  let proxy: RunningProxy;
  let fdsBefore = 0;
  beforeAll(async () => {
    proxy = await startProxy({ MESHLET_OUTBOUND_LISTEN: "0.0.0.0:0" });
    await proxy.metrics();
    fdsBefore = proxy.openFds();
  });
  afterAll(async () => {
    await proxy.stop();
  });

  test("any loopback address and every local interface address is its own", async () => {
    const port = proxy.outboundPorts[0]!;
    const local = Object.values(networkInterfaces())
      .flatMap((addresses) => addresses ?? [])
      .filter((a) => a.family === "IPv4")
      .map((a) => a.address);
    for (const ip of ["127.0.0.2", "127.9.8.7", ...local]) {
      expect({ ip, status: await statusFor(port, `${ip}:${port}`) }).toEqual({ ip, status: 508 });
    }
    await expectNoSelfDial(proxy, fdsBefore);
  });
});
