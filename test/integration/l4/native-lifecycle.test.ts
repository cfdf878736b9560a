// The addon's lifecycle and argument checks, in this process on real loopback sockets: every export
// answers a wrong-typed argument with -EINVAL (never a crash), start/stop/start serves again, stop()
// closes the handoffs not yet delivered, and calls after stop close the fds they were given.
import { afterEach, expect, test } from "bun:test";
import { closeSync, fstatSync, openSync } from "node:fs";
import { connect } from "node:net";

import { type HandoffRecord, type NativeListenerSpec, Protocol, native } from "../../../src/native/binding.ts";

const EINVAL = 22;
const ENOTCONN = 107;

const SPEC: NativeListenerSpec = {
  id: 1,
  bindIp: "127.0.0.1",
  bindPort: 0,
  direction: 0,
  detectTimeoutMs: 10_000,
  connectTimeoutMs: 1_000,
  idleTimeoutMs: 0,
  handoffMask: 1 << Protocol.Http1,
  pipeBytes: 65_536,
  acceptKeepaliveMs: 0,
  connectKeepaliveMs: 0,
  userTimeoutMs: 0,
};

function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => native.stop());

test("every export answers wrong-typed arguments with -EINVAL", () => {
  const call = native as unknown as Record<string, (...args: unknown[]) => unknown>;
  expect(call.start!(42)).toBe(-EINVAL);
  expect(call.start!()).toBe(-EINVAL);
  expect(native.start(() => {})).toBe(0);
  expect(call.listen!(null)).toBe(-EINVAL);
  expect(call.listen!([])).toBe(-EINVAL);
  expect(call.listen!({})).toBe(-EINVAL);
  for (const [key, bad] of [
    ["id", "1"], ["bindIp", 127], ["bindIp", "localhost"], ["bindPort", 70_000], ["bindPort", 1.5], ["direction", 2],
    ["detectTimeoutMs", -1], ["connectTimeoutMs", Number.NaN], ["idleTimeoutMs", undefined], ["handoffMask", "2"],
    ["pipeBytes", null], ["acceptKeepaliveMs", {}], ["connectKeepaliveMs", 2 ** 32], ["userTimeoutMs", undefined],
    ["targetIp", "127.0.0.1"], ["targetPort", 80],
  ] as const) {
    expect({ key, rc: call.listen!({ ...SPEC, [key]: bad }) }).toEqual({ key, rc: -EINVAL });
  }
  expect(call.setTarget!("1", "127.0.0.1", 80)).toBe(-EINVAL);
  expect(call.setTarget!(1, 5, 80)).toBe(-EINVAL);
  expect(call.setTarget!(1, "127.0.0.1", 65_536)).toBe(-EINVAL);
  expect(call.setOpaquePorts!(new Uint16Array(4096))).toBe(-EINVAL);
  expect(call.setOpaquePorts!(Array.from({ length: 8192 }, () => 0))).toBe(-EINVAL);
  expect(call.setOpaquePorts!(new Uint8Array(8191))).toBe(-EINVAL);
  expect(call.forward!("3", 1, "127.0.0.1", 80, 4)).toBe(-EINVAL);
  expect(call.forward!(-1, 1, "127.0.0.1", 80, 4)).toBe(-EINVAL);
  expect(call.setTcpLiveness!("x", 0, 0)).toBe(-EINVAL);
  expect(call.setTcpLiveness!(0, -5, 0)).toBe(-EINVAL);
  expect(call.errnoName!("111")).toBe(-EINVAL);
  expect(call.setInboundPolicy!(null)).toBe(-EINVAL);
  expect(call.histogramCreate!([1, 2])).toBe(-EINVAL);
  expect(call.histogramCreate!(new Float32Array([1, 2]))).toBe(-EINVAL);
  const id = native.histogramCreate(new Float64Array([1, 10]));
  expect(id).toBeGreaterThanOrEqual(0);
  expect(call.histogramRecordMany!(String(id), new Float64Array(1), 1)).toBe(-EINVAL);
  expect(call.histogramRecordMany!(id, [1], 1)).toBe(-EINVAL);
  expect(call.histogramRecordMany!(id, new Float64Array(1), -1)).toBe(-EINVAL);
  expect(call.histogramSnapshot!(String(id))).toBe(-EINVAL);
  expect(call.histogramSnapshot!(1e9)).toBe(-EINVAL);
  // The right types still work after all that.
  expect(native.histogramRecordMany(id, new Float64Array([0, 5, 50]), 3)).toBe(0);
  expect(native.histogramSnapshot(id)).toEqual({ counts: [1, 1, 1], sum: 55, count: 3 });
  expect(native.errnoName(111)).toBe("ECONNREFUSED");
  expect(native.listen(SPEC)).toBeGreaterThan(0);
});

test("forward takes the fd in every case: a malformed call closes it", () => {
  expect(native.start(() => {})).toBe(0);
  const fd = openSync("/dev/null", "r");
  expect((native.forward as (...a: unknown[]) => number)(fd, "1", "127.0.0.1", 80, 4)).toBe(-EINVAL);
  expect(isOpen(fd)).toBe(false);
});

test("after stop, listen refuses and forward closes the fd it was given", () => {
  expect(native.start(() => {})).toBe(0);
  native.stop();
  expect(native.listen(SPEC)).toBe(-ENOTCONN);
  const fd = openSync("/dev/null", "r");
  expect(native.forward(fd, 1, "127.0.0.1", 80, Protocol.NotHttp)).toBe(-ENOTCONN);
  expect(isOpen(fd)).toBe(false);
  native.stop(); // twice is fine
});

test("start / stop / start: the restarted front door accepts and hands off again", async () => {
  for (let round = 0; round < 2; round++) {
    let delivered: (record: HandoffRecord) => void = () => {};
    const handoff = new Promise<HandoffRecord>((resolve) => (delivered = resolve));
    expect(native.start((batch) => delivered(batch[0]!))).toBe(0);
    const port = native.listen(SPEC);
    expect(port).toBeGreaterThan(0);
    const client = connect(port, "127.0.0.1");
    const closed = new Promise<void>((resolve) => client.on("close", () => resolve()));
    client.on("error", () => {});
    client.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const record = await handoff;
    expect(record.protocol).toBe(Protocol.Http1);
    expect(record.listenerId).toBe(SPEC.id);
    expect(record.clientPort).toBe(client.localPort!);
    closeSync(record.fd); // ours now: closing it ends the client's connection
    await closed;
    native.stop();
  }
});

test("stop closes the handoffs still queued for JavaScript", async () => {
  const received: HandoffRecord[] = [];
  expect(native.start((batch) => received.push(...batch))).toBe(0);
  const port = native.listen(SPEC);
  expect(port).toBeGreaterThan(0);
  // The client runs in its own process, so this thread can stay busy (and never run the callback)
  // until the handoff is queued; it prints what its socket saw after our stop().
  const client = Bun.spawn(
    [
      "python3",
      "-c",
      `import socket
s = socket.create_connection(("127.0.0.1", ${port}))
s.sendall(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")
s.settimeout(20)
try:
    print("closed" if s.recv(1) == b"" else "data")
except ConnectionResetError:
    print("closed")
except socket.timeout:
    print("open")`,
    ],
    { stdout: "pipe" },
  );
  // Detected, then queued: openConnections() drops to 0 only after the handoff is pushed.
  const queued = () =>
    native.detectResults().some(([direction, protocol, count]) => direction === 0 && protocol === Protocol.Http1 && count === 1) &&
    native.openConnections() === 0;
  for (let i = 0; i < 10_000 && !queued(); i++) Bun.sleepSync(1);
  expect(queued()).toBe(true);
  native.stop();
  expect((await new Response(client.stdout).text()).trim()).toBe("closed");
  expect(await client.exited).toBe(0);
  expect(received).toEqual([]);
});
