// Tap in the real sidecar process, over real sockets: a subscriber receives exactly the requests sent
// (count and fields, inbound and outbound), each filter selects in the proxy, a limit closes the
// stream, credential header values never leave the proxy, a retried response is shown once, a
// non-loopback client is refused, and a bad filter is refused with its code.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { unpackMultiple } from "msgpackr/unpack";

import { type RunningProxy, startProxy } from "../../support/proxy.ts";

let backend: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;
let tapAddress: string;
let dir: string;
let flakyCalls = 0;

beforeAll(async () => {
  backend = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      await req.arrayBuffer();
      if (path === "/flaky") return ++flakyCalls % 2 === 1 ? new Response("boom", { status: 503 }) : new Response("ok");
      if (path === "/login") return new Response("welcome", { headers: { "set-cookie": "session=SECRET-SET-COOKIE; HttpOnly" } });
      if (path === "/missing") return new Response("nope", { status: 404 });
      return new Response(`hello ${path}`);
    },
  });
  dir = mkdtempSync(join(tmpdir(), "meshlet-tap-"));
  writeFileSync(
    join(dir, "profile.yaml"),
    `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: localhost
spec:
  routes:
  - name: flaky
    condition: { method: GET, pathRegex: /flaky }
    isRetryable: true
  retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 100, ttl: 10s }
`,
  );
  proxy = await startProxy({
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`,
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${backend.port}`,
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_TAP_LISTEN: "127.0.0.1:0",
  });
  tapAddress = String((await proxy.waitForLog((l) => l.message === "tap listening")).address);
});

afterAll(async () => {
  await proxy.stop();
  backend.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

type Event = Record<string, unknown> & { type: string; id?: number };

interface Subscriber {
  readonly events: Event[];
  readonly frames: Uint8Array[];
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Subscribes and resolves once the proxy has registered the subscriber (its "tap subscriber" log line). */
async function subscribe(subscription: Record<string, unknown>, address = tapAddress): Promise<Subscriber> {
  const before = proxy.logs.filter((l) => l.message === "tap subscriber").length;
  const ws = new WebSocket(`ws://${address}/tap`);
  ws.binaryType = "arraybuffer";
  const events: Event[] = [];
  const frames: Uint8Array[] = [];
  ws.onmessage = (m) => {
    const bytes = new Uint8Array(m.data as ArrayBuffer);
    frames.push(bytes);
    events.push(...(unpackMultiple(bytes) as Event[]));
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  ws.send(JSON.stringify(subscription));
  await waitFor(() => proxy.logs.filter((l) => l.message === "tap subscriber").length > before, "the subscription to register");
  return { events, frames, closed, close: () => ws.close() };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Waits until `sub` has seen `n` end events. */
const ends = (sub: Subscriber, n: number) => waitFor(() => sub.events.filter((e) => e.type === "end").length >= n, `${n} end events`);

const inbound = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${proxy.inboundPort}${path}`, init).then(async (r) => [r.status, await r.text()] as const);
const outbound = (path: string, init?: RequestInit) => fetch(`http://localhost:${proxy.outboundPorts[1]}${path}`, init).then(async (r) => [r.status, await r.text()] as const);

test("a subscriber receives exactly the requests sent, with their fields, inbound and outbound", async () => {
  const sub = await subscribe({ headers: true });
  const plain = await subscribe({});
  expect(await inbound("/books/1?x=1")).toEqual([200, "hello /books/1"]);
  expect(await inbound("/authors", { method: "POST", body: "hello" })).toEqual([200, "hello /authors"]);
  expect(await inbound("/missing", { headers: { host: "web.example:8080" } })).toEqual([404, "nope"]);
  expect(await outbound("/out")).toEqual([200, "hello /out"]);
  await ends(sub, 4);
  await ends(plain, 4);
  sub.close();
  plain.close();
  // Header lines only for the subscriber that asked (decoding them is most of an event's cost) ... which
  // shares the packed frames with the other: an event is built once for everyone it matches.
  expect(plain.events.filter((e) => e.type === "request").map((e) => e.headers !== undefined)).toEqual([true, true, true, true]);

  const requests = sub.events.filter((e) => e.type === "request");
  expect(requests.map((r) => [r.direction, r.method, r.authority, r.path])).toEqual([
    ["inbound", "GET", `127.0.0.1:${proxy.inboundPort}`, "/books/1"],
    ["inbound", "POST", `127.0.0.1:${proxy.inboundPort}`, "/authors"],
    ["inbound", "GET", "web.example:8080", "/missing"],
    ["outbound", "GET", `localhost:${proxy.outboundPorts[1]}`, "/out"],
  ]);
  const ids = requests.map((r) => r.id!);
  expect(new Set(ids).size).toBe(4);
  for (const r of requests) {
    expect(r.tls).toBe("disabled");
    expect(r.clientId).toBeUndefined();
    expect(String(r.source)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(r.destination).toBe(`127.0.0.1:${backend.port}`);
    expect(typeof r.tsMs).toBe("number");
  }
  // Per request, in order: request, response, end — with the status, timings and byte counts.
  for (const [i, status] of [200, 200, 404, 200].entries()) {
    const id = ids[i]!;
    const own = sub.events.filter((e) => e.id === id);
    expect(own.map((e) => e.type)).toEqual(["request", "response", "end"]);
    const [, response, end] = own;
    expect(response!.status).toBe(status);
    expect(end!.status).toBe(status);
    expect(end!.error).toBeUndefined();
    expect(Number(end!.sinceRequestMs)).toBeGreaterThanOrEqual(Number(response!.sinceRequestMs));
    expect(Number(end!.responseBytes)).toBeGreaterThan(0);
  }
  expect(sub.events.find((e) => e.type === "end" && e.id === ids[1])!.requestBytes).toBe(5);
  expect((sub.events.find((e) => e.type === "request" && e.id === ids[1])!.headers as [string, string][]).some(([n, v]) => n.toLowerCase() === "content-length" && v === "5")).toBe(true);
});

test("without headers asked for, events carry no header lines", async () => {
  const sub = await subscribe({});
  await inbound("/books/9", { headers: { "x-trace": "abc" } });
  await ends(sub, 1);
  sub.close();
  expect(sub.events.filter((e) => e.type === "request" || e.type === "response").map((e) => e.headers)).toEqual([undefined, undefined]);
});

test("each filter is applied in the proxy: direction, method, authority, path", async () => {
  const outOnly = await subscribe({ direction: "outbound" });
  const posts = await subscribe({ method: "post" });
  const byAuthority = await subscribe({ authority: "Shop.Example:80" });
  const byPath = await subscribe({ path: "/books/[0-9]+" });
  const all = await subscribe({});

  await inbound("/books/7");
  await inbound("/books/seven");
  await inbound("/cart", { method: "POST", body: "x" });
  await inbound("/books/8", { headers: { host: "shop.example:80" } });
  await outbound("/books/9");
  await outbound("/cart", { method: "POST", body: "y" });
  await ends(all, 6);
  for (const s of [outOnly, posts, byAuthority, byPath, all]) s.close();

  const seen = (s: Subscriber) => s.events.filter((e) => e.type === "request").map((e) => `${e.direction === "inbound" ? "in" : "out"} ${e.method} ${e.path}`);
  expect(seen(all)).toEqual(["in GET /books/7", "in GET /books/seven", "in POST /cart", "in GET /books/8", "out GET /books/9", "out POST /cart"]);
  expect(seen(outOnly)).toEqual(["out GET /books/9", "out POST /cart"]);
  expect(seen(posts)).toEqual(["in POST /cart", "out POST /cart"]);
  expect(seen(byAuthority)).toEqual(["in GET /books/8"]);
  expect(seen(byPath)).toEqual(["in GET /books/7", "in GET /books/8", "out GET /books/9"]);
  // Every subscriber got the response and end of each of its requests, and nothing else.
  for (const s of [outOnly, posts, byAuthority, byPath]) {
    const ids = new Set(s.events.filter((e) => e.type === "request").map((e) => e.id));
    expect(s.events.every((e) => ids.has(e.id))).toBe(true);
    expect(s.events.length).toBe(ids.size * 3);
  }
});

test("a limit delivers that many requests, then closes the stream normally", async () => {
  const sub = await subscribe({ limit: 2 });
  await inbound("/one");
  await inbound("/two");
  expect(await sub.closed).toEqual({ code: 1000, reason: "limit reached" });
  await inbound("/three");
  expect(sub.events.map((e) => `${e.type} ${e.id === sub.events[0]!.id ? "first" : "second"}`)).toEqual([
    "request first",
    "response first",
    "end first",
    "request second",
    "response second",
    "end second",
  ]);
});

test("no value of Authorization, Proxy-Authorization, Cookie or Set-Cookie ever leaves the proxy", async () => {
  const sub = await subscribe({ headers: true });
  await inbound("/login", {
    headers: { authorization: "Bearer SECRET-AUTHORIZATION", "proxy-authorization": "Basic SECRET-PROXY", cookie: "session=SECRET-COOKIE" },
  });
  await outbound("/login", { headers: { Authorization: "Bearer SECRET-AUTHORIZATION-OUT", Cookie: "a=SECRET-COOKIE-OUT" } });
  await ends(sub, 2);
  sub.close();
  for (const frame of sub.frames) expect(Buffer.from(frame).toString("latin1")).not.toContain("SECRET");
  const headers = sub.events.flatMap((e) => (e.headers as [string, string][] | undefined) ?? []);
  const redacted = headers.filter(([, v]) => v === "<redacted>").map(([n]) => n.toLowerCase()).sort();
  expect(redacted).toEqual(["authorization", "authorization", "cookie", "cookie", "proxy-authorization", "set-cookie", "set-cookie"]);
});

test("a retried request shows once, with the response the client got", async () => {
  flakyCalls = 0;
  const sub = await subscribe({ path: "/flaky" });
  expect(await outbound("/flaky")).toEqual([200, "ok"]);
  await ends(sub, 1);
  sub.close();
  expect(flakyCalls).toBe(2);
  expect(sub.events.map((e) => [e.type, e.status ?? null, e.route ?? null])).toEqual([
    ["request", null, "flaky"],
    ["response", 200, null],
    ["end", 200, null],
  ]);
});

test("a bad filter is refused with an error event and close 1008", async () => {
  const ws = new WebSocket(`ws://${tapAddress}/tap`);
  ws.binaryType = "arraybuffer";
  const events: Event[] = [];
  ws.onmessage = (m) => events.push(...(unpackMultiple(new Uint8Array(m.data as ArrayBuffer)) as Event[]));
  const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
  ws.onopen = () => ws.send(JSON.stringify({ path: "(?<=a)b" }));
  expect(await closed).toBe(1008);
  expect(events).toHaveLength(1);
  expect(events[0]!.type).toBe("error");
  expect(events[0]!.code).toBe("MESHLET_ERR_TAP_PATH");
  expect(String(events[0]!.message)).toContain("lookbehind");
});

const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;

test.skipIf(external === undefined)("a client that is not on loopback gets 403 before any upgrade", async () => {
  const open = await startProxy({ MESHLET_TAP_LISTEN: "0.0.0.0:0", MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}` });
  try {
    const port = String((await open.waitForLog((l) => l.message === "tap listening")).address).split(":").pop();
    const refused = await fetch(`http://${external}:${port}/tap`, { headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("loopback");
    // The same server from loopback: the upgrade goes ahead.
    const local = await fetch(`http://127.0.0.1:${port}/tap`);
    expect(local.status).toBe(426);
  } finally {
    await open.stop();
  }
});
