// The inbound L4 policy in the native front door, with real sockets: denied opaque redis connections
// never reach redis, detected-TCP and silent connections are denied before dialing, a deny port
// refuses HTTP at accept while HTTP on a check port is still handed over, a push that withdraws
// permission resets open spliced connections (and only those), and IPv4-mapped clients match IPv4.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Subprocess, spawn } from "bun";
import net from "node:net";

import type { NativeInboundPolicy, NativePolicyEntry } from "../../../src/native/binding.ts";
import { HANDOFF_RESPONSE, type PolicyFrontDoor, startPolicyFrontDoor } from "../../support/policy-front-door.ts";
import { freePort } from "../../support/proxy.ts";
import { type TestServer, exchange, listen } from "../../support/tcp.ts";

const ALL_NETWORKS = [
  { cidr: "0.0.0.0/0", except: [] },
  { cidr: "::/0", except: [] },
];

function entry(id: number, mode: "deny" | "check", cidrs: Array<string | { cidr: string; except: string[] }>, audit = false): NativePolicyEntry {
  const networks = cidrs.map((c) => (typeof c === "string" ? { cidr: c, except: [] } : c));
  return { id, mode, rules: networks.length > 0 ? [{ networks, requireIdentity: false }] : [], audit };
}

let generation = 0;
function table(ports: Record<number, NativePolicyEntry>, defaultEntry = entry(0, "check", ALL_NETWORKS.map((n) => n.cidr))): NativeInboundPolicy {
  return { generation: ++generation, defaultEntry, entries: Object.entries(ports).map(([port, e]) => ({ port: Number(port), entry: e })) };
}

let redis: Subprocess;
let redisPort: number;
let tcpUpstream: TestServer; // counts bytes, answers nothing, closes after the client does
let tcpBytes = 0;
let echo: TestServer;
let echo2: TestServer;
let httpUpstream: TestServer;
let door: PolicyFrontDoor;
// Listener ports of `door`, one per target.
let toRedis: number;
let toTcp: number;
let toEcho: number;
let toEcho2: number;
let toHttp: number;

async function redisConnectionsReceived(): Promise<number> {
  const out = Bun.spawnSync(["redis-cli", "-p", String(redisPort), "info", "stats"]).stdout.toString();
  const match = /total_connections_received:(\d+)/.exec(out);
  if (!match) throw new Error(`no total_connections_received in redis INFO: ${out}`);
  return Number(match[1]);
}

beforeAll(async () => {
  redisPort = await freePort();
  redis = spawn(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "inherit" });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(redisPort, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) break;
    await Bun.sleep(50);
  }
  tcpUpstream = await listen((socket) => {
    socket.on("data", (d) => (tcpBytes += d.length));
    socket.on("end", () => socket.end());
  });
  echo = await listen((socket) => socket.pipe(socket));
  echo2 = await listen((socket) => socket.pipe(socket));
  httpUpstream = await listen((socket) => socket.end("HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nupstream"));
  door = await startPolicyFrontDoor({
    targets: [redisPort, tcpUpstream.port, echo.port, echo2.port, httpUpstream.port].map((p) => `127.0.0.1:${p}`),
    opaquePorts: [redisPort, echo.port, echo2.port],
    detectTimeoutMs: 300,
  });
  [toRedis, toTcp, toEcho, toEcho2, toHttp] = door.ports as [number, number, number, number, number];
});

afterAll(async () => {
  await door?.stop();
  redis?.kill();
  await Promise.all([tcpUpstream, echo, echo2, httpUpstream].map((s) => s?.close()));
});

/** RESP commands on one connection; resolves with the replies once `done` says so, or with how it closed. */
function redisExchange(port: number, commands: string, done: (reply: string) => boolean): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    let reply = "";
    const socket = net.connect(port, "127.0.0.1", () => socket.write(commands));
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`redis exchange timed out; got ${JSON.stringify(reply)}`))), 10_000);
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply, closed });
    };
    socket.on("data", (d) => {
      reply += d.toString();
      if (done(reply)) finish(false);
    });
    socket.on("close", () => finish(true));
    socket.on("error", () => {});
  });
}

/** curl through the listener: its exit code and what it printed. Asynchronous, so servers in this process keep serving. */
async function curl(port: number): Promise<{ code: number; body: string }> {
  const proc = Bun.spawn(["curl", "-sS", "--max-time", "10", "-o", "-", `http://127.0.0.1:${port}/`], { stdout: "pipe", stderr: "ignore" });
  const body = await new Response(proc.stdout).text();
  return { code: await proc.exited, body };
}

/** An open connection through an echo listener, proven spliced by one round trip. */
async function openEchoConnection(port: number): Promise<{ socket: net.Socket; roundTrip(text: string): Promise<string>; closed: Promise<string> }> {
  const socket = net.connect(port, "127.0.0.1");
  let closedHow = "";
  const closed = new Promise<string>((resolve) => {
    socket.on("error", (err) => (closedHow = (err as NodeJS.ErrnoException).code ?? err.message));
    socket.on("close", () => resolve(closedHow || "end"));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  const roundTrip = (text: string) =>
    new Promise<string>((resolve, reject) => {
      let got = "";
      const timer = setTimeout(() => reject(new Error(`no echo of ${text}`)), 10_000);
      const onData = (d: Buffer) => {
        got += d.toString();
        if (got.length >= text.length) {
          clearTimeout(timer);
          socket.off("data", onData);
          resolve(got);
        }
      };
      socket.on("data", onData);
      socket.write(text);
    });
  return { socket, roundTrip, closed };
}

test("before any push everything is allowed and nothing is counted", async () => {
  const { reply } = await redisExchange(toRedis, "PING\r\n", (r) => r.includes("\r\n"));
  expect(reply).toBe("+PONG\r\n");
  expect((await door.stats()).counters).toEqual([]);
});

test("a malformed table is refused with a located error and changes nothing", async () => {
  const bad = table({ [redisPort]: entry(1, "check", ["10.0.0/8"]) });
  expect(await door.push(bad)).toEqual({ rc: -22, error: `entries[0].entry.rules[0].networks[0].cidr: not an IPv4 or IPv6 network: "10.0.0/8"` });
  expect(await door.push({ generation: 1, defaultEntry: { id: "0" }, entries: [] })).toEqual({ rc: -22, error: "defaultEntry.id: must be a number" });
  expect(await door.push("all")).toEqual({ rc: -22, error: "table: must be an object" });
  const { reply } = await redisExchange(toRedis, "PING\r\n", (r) => r.includes("\r\n"));
  expect(reply).toBe("+PONG\r\n");
  expect((await door.stats()).counters).toEqual([]);
});

test("a denied opaque redis connection is closed without a byte reaching redis", async () => {
  expect(await door.push(table({ [redisPort]: entry(1, "check", [{ cidr: "0.0.0.0/0", except: ["127.0.0.0/8"] }]) }))).toEqual({ rc: 0, error: "" });
  const before = await redisConnectionsReceived();
  const { reply, closed } = await redisExchange(toRedis, "SET denied yes\r\n", () => false);
  expect(closed).toBe(true);
  expect(reply).toBe("");
  // Only the second redis-cli connected in between: the proxy never dialed redis.
  expect(await redisConnectionsReceived()).toBe(before + 1);
  expect(Bun.spawnSync(["redis-cli", "-p", String(redisPort), "exists", "denied"]).stdout.toString().trim()).toBe("0");
  expect(await door.counters(1)).toEqual({ id: 1, allow: 0, deny: 1, terminate: 0 });
  const denials = (await door.logs()).filter((l) => l.message === "Connection denied");
  expect(denials).toHaveLength(1);
  expect(denials[0]).toMatchObject({ level: "info", target: `127.0.0.1:${redisPort}`, policyEntryId: 1 });
});

test("an allowed opaque redis connection works and is counted as allowed", async () => {
  expect((await door.push(table({ [redisPort]: entry(1, "check", ["10.0.0.0/8", "127.0.0.0/8"]) }))).rc).toBe(0);
  const before = await redisConnectionsReceived();
  const { reply } = await redisExchange(toRedis, "SET allowed yes\r\nGET allowed\r\n", (r) => r.includes("yes\r\n"));
  expect(reply).toBe("+OK\r\n$3\r\nyes\r\n");
  expect(await redisConnectionsReceived()).toBe(before + 2);
  expect(await door.counters(1)).toEqual({ id: 1, allow: 1, deny: 1, terminate: 0 });
});

test("audit allows what the rules deny and counts it as allowed", async () => {
  expect((await door.push(table({ [redisPort]: entry(2, "check", ["10.0.0.0/8"], true) }))).rc).toBe(0);
  const { reply } = await redisExchange(toRedis, "PING\r\n", (r) => r.includes("\r\n"));
  expect(reply).toBe("+PONG\r\n");
  expect(await door.counters(2)).toEqual({ id: 2, allow: 1, deny: 0, terminate: 0 });
});

test("detected TCP (not HTTP) and a silent client past the detect timeout are denied before dialing", async () => {
  expect((await door.push(table({ [tcpUpstream.port]: entry(3, "check", ["fd00::/8"]) }))).rc).toBe(0);
  const spoken = await exchange(toTcp, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]), { halfClose: false });
  expect(spoken.received.length).toBe(0);
  const silent = await exchange(toTcp, "", { halfClose: false });
  expect(silent.received.length).toBe(0);
  expect(tcpUpstream.accepted()).toBe(0);
  expect(tcpBytes).toBe(0);
  expect(await door.counters(3)).toEqual({ id: 3, allow: 0, deny: 2, terminate: 0 });
  // The same connection under a table that allows it reaches the upstream with its bytes.
  expect((await door.push(table({ [tcpUpstream.port]: entry(3, "check", ["127.0.0.1"]) }))).rc).toBe(0);
  const allowed = await exchange(toTcp, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]), { halfClose: true });
  expect(allowed.closedBy).toBe("end"); // the upstream closed after reading everything
  expect(tcpUpstream.accepted()).toBe(1);
  expect(tcpBytes).toBe(16);
  expect(await door.counters(3)).toEqual({ id: 3, allow: 1, deny: 2, terminate: 0 });
});

test("a deny port refuses an HTTP client at accept; HTTP on a check port is handed over whatever the networks", async () => {
  const handoffsBefore = (await door.stats()).handoffs;
  expect((await door.push(table({ [httpUpstream.port]: entry(4, "deny", ALL_NETWORKS) }))).rc).toBe(0);
  const refused = await curl(toHttp);
  expect([52, 56]).toContain(refused.code); // empty reply or reset: not a byte was written
  expect(refused.body).toBe("");
  expect((await door.stats()).handoffs).toBe(handoffsBefore);
  expect(await door.counters(4)).toEqual({ id: 4, allow: 0, deny: 1, terminate: 0 });

  // A check entry whose rules match no client: HTTP is still handed to TypeScript (decided per request there).
  expect((await door.push(table({ [httpUpstream.port]: entry(5, "check", []) }))).rc).toBe(0);
  const handed = await curl(toHttp);
  expect(handed.code).toBe(0);
  expect(handed.body).toBe(HANDOFF_RESPONSE.slice(HANDOFF_RESPONSE.indexOf("\r\n\r\n") + 4));
  expect((await door.stats()).handoffs).toBe(handoffsBefore + 1);
  expect(await door.counters(5)).toEqual({ id: 5, allow: 0, deny: 0, terminate: 0 });
  expect(httpUpstream.accepted()).toBe(0);
});

test("a connection TypeScript gives back to be spliced is decided by the table before dialing", async () => {
  const forwarding = await startPolicyFrontDoor({ targets: [`127.0.0.1:${httpUpstream.port}`], forwardHttp: true });
  try {
    const port = forwarding.ports[0]!;
    expect((await forwarding.push(table({ [httpUpstream.port]: entry(1, "check", ["10.0.0.0/8"]) }))).rc).toBe(0);
    const denied = await curl(port);
    expect([52, 56]).toContain(denied.code);
    expect((await forwarding.stats()).handoffs).toBe(1);
    expect(httpUpstream.accepted()).toBe(0);
    expect(await forwarding.counters(1)).toEqual({ id: 1, allow: 0, deny: 1, terminate: 0 });
    expect((await forwarding.push(table({ [httpUpstream.port]: entry(1, "check", ["127.0.0.0/8"]) }))).rc).toBe(0);
    expect(await curl(port)).toEqual({ code: 0, body: "upstream" });
    expect(httpUpstream.accepted()).toBe(1);
    expect(await forwarding.counters(1)).toEqual({ id: 1, allow: 1, deny: 1, terminate: 0 });
  } finally {
    await forwarding.stop();
  }
});

test("a push from allow to deny resets an open spliced connection and leaves allowed ones open", async () => {
  expect((await door.push(table({ [echo.port]: entry(6, "check", ["127.0.0.0/8"]), [echo2.port]: entry(7, "check", ["127.0.0.0/8"]) }))).rc).toBe(0);
  const doomed = await openEchoConnection(toEcho);
  const kept = await openEchoConnection(toEcho2);
  expect(await doomed.roundTrip("before")).toBe("before");
  expect(await kept.roundTrip("before")).toBe("before");

  // The new table denies the first echo port through a different entry id; that entry counts the termination.
  expect((await door.push(table({ [echo.port]: entry(8, "check", ["10.0.0.0/8"]), [echo2.port]: entry(7, "check", ["127.0.0.1"]) }))).rc).toBe(0);
  expect(await doomed.closed).toBe("ECONNRESET");
  expect(await kept.roundTrip("after")).toBe("after");
  expect(await door.counters(8)).toEqual({ id: 8, allow: 0, deny: 0, terminate: 1 });
  const terminations = (await door.logs()).filter((l) => l.message === "Connection terminated due to policy change");
  expect(terminations).toHaveLength(1);
  expect(terminations[0]).toMatchObject({ level: "info", target: `127.0.0.1:${echo.port}`, policyEntryId: 8 });
  expect(await door.counters(6)).toEqual({ id: 6, allow: 1, deny: 0, terminate: 0 });
  expect(await door.counters(7)).toEqual({ id: 7, allow: 1, deny: 0, terminate: 0 });
  kept.socket.destroy();
  await kept.closed;
});

test("on a dual-stack listener an IPv4 client (IPv4-mapped) matches IPv4 networks, not IPv6 ones", async () => {
  const dual = await startPolicyFrontDoor({ targets: [`127.0.0.1:${echo.port}`], bindHost: "::", opaquePorts: [echo.port] });
  try {
    const port = dual.ports[0]!;
    expect((await dual.push(table({ [echo.port]: entry(1, "check", ["127.0.0.0/8"]) }))).rc).toBe(0);
    const allowed = await openEchoConnection(port);
    expect(await allowed.roundTrip("mapped")).toBe("mapped");
    allowed.socket.destroy();
    await allowed.closed;
    await dual.waitForOpen(0); // so the next push finds no open connection to terminate
    // ::/0 and ::ffff:0:0/95 are IPv6 networks; an IPv4 client is in neither.
    expect((await dual.push(table({ [echo.port]: entry(1, "check", ["::/0", "::ffff:0:0/95"]) }))).rc).toBe(0);
    const denied = await exchange(port, "hello", { halfClose: false });
    expect(denied.received.length).toBe(0);
    expect(await dual.counters(1)).toEqual({ id: 1, allow: 1, deny: 1, terminate: 0 });
  } finally {
    await dual.stop();
  }
});
