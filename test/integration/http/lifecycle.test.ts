// Connection lifecycle: slowloris heads are cut by the head-read timeout without affecting others, idle
// keep-alive clients are closed, graceful drain, and the request pipeline's retry and per-attempt timeout phases.
import { expect, test } from "bun:test";
import { CONTINUE, FilterChain, type FilterChainSource, type HttpFilter, staticChain } from "../../../src/http/filter.ts";
import type { RequestCtx } from "../../../src/http/request-ctx.ts";
import { blackholePort, countHeads, eventually, hasResponses, okUpstream, rawRequest, rawUpstream, splitResponses, startProxy } from "../../support/http-harness.ts";

/** A chain of one stateless filter with the given phases. */
function testChain(phases: Omit<HttpFilter<undefined>, "name">): FilterChainSource {
  return staticChain(new FilterChain([{ name: "test", ...phases }]));
}

test("a trickled head is cut with 408 while another client is served", async () => {
  const up = okUpstream();
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port }, headReadTimeoutMs: 150 });
  try {
    const slow = rawRequest(proxy.port, ["GET / HTTP/1.1\r\n", "Ho", "st: a\r\n", "X: 1"], { timeoutMs: 5000 });
    const fast = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { until: hasResponses(1) });
    expect(splitResponses(fast.data)[0]!.status).toBe(200);
    const r = await slow;
    expect(splitResponses(r.data)[0]!.status).toBe(408);
    expect(r.closed).toBe(true);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("an idle keep-alive client connection is closed after clientIdleTimeoutMs", async () => {
  const up = okUpstream();
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port }, clientIdleTimeoutMs: 100 });
  try {
    const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 5000 });
    expect(r.closed).toBe(true);
    expect(splitResponses(r.data)[0]!.status).toBe(200);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("drain: idle connections close now, a busy one after its response (with connection: close)", async () => {
  let release!: () => void;
  const up = rawUpstream((conn) => {
    if (countHeads(conn.received) === 0) return;
    release = () => conn.socket.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate");
  });
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
  try {
    const idle = await Bun.connect({ hostname: "127.0.0.1", port: proxy.port, socket: { data() {} } });
    const busy = rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 5000 });
    await eventually(() => up.accepts() === 1 && release !== undefined, 5000, "request reached upstream");
    await eventually(() => proxy.server.openConnections === 2, 5000, "both connections open");
    const drained = proxy.server.drain(5000);
    await eventually(() => proxy.server.openConnections === 1, 5000, "idle connection closed");
    release();
    const r = await busy;
    await drained;
    expect(r.closed).toBe(true);
    expect(r.text.toLowerCase()).toContain("connection: close");
    expect(proxy.server.openConnections).toBe(0);
    idle.end();
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("filters: a buffered POST is retried after a 503 and the client sees the 200", async () => {
  let attempts = 0;
  const bodies: string[] = [];
  const up = rawUpstream((conn) => {
    const text = conn.received.toString();
    const end = text.indexOf("\r\n\r\n");
    if (end < 0 || text.length < end + 4 + 7) return;
    bodies.push(text.slice(end + 4));
    conn.received = Buffer.alloc(0);
    attempts++;
    conn.socket.write(attempts === 1 ? "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const seen: Array<{ attempt: number; status: number; route: string | undefined }> = [];
  const proxy = startProxy({
    forwardTo: { host: "127.0.0.1", port: up.port },
    chain: testChain({
      onRequestHead(ctx) {
        ctx.route = "POST /things";
        ctx.retainBodyBytes = 64 * 1024;
        return CONTINUE;
      },
      onResponseHead: (ctx, _state, res) => res.status === 503 && ctx.attempt < 3,
      onComplete: (ctx: RequestCtx) => void seen.push({ attempt: ctx.attempt, status: ctx.status, route: ctx.route }),
    }),
  });
  try {
    const r = await rawRequest(proxy.port, ["POST /things HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\npay", "load"], { until: hasResponses(1) });
    expect(splitResponses(r.data)[0]!.status).toBe(200);
    expect(bodies).toEqual(["payload", "payload"]);
    expect(seen).toEqual([{ attempt: 2, status: 200, route: "POST /things" }]);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("filters: a chunked body above retainBodyBytes that arrives with its head is not replayable", async () => {
  let attempts = 0;
  const up = rawUpstream((conn) => {
    if (!conn.received.includes("0\r\n\r\n")) return;
    conn.received = Buffer.alloc(0);
    attempts++;
    conn.socket.write(attempts === 1 ? "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n" : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const replayable: boolean[] = [];
  const proxy = startProxy({
    forwardTo: { host: "127.0.0.1", port: up.port },
    chain: testChain({
      onRequestHead(ctx) {
        ctx.retainBodyBytes = 1024;
        return CONTINUE;
      },
      onResponseHead(ctx, _state, res) {
        replayable.push(ctx.replayable);
        return res.status === 503;
      },
    }),
  });
  try {
    const body = "x".repeat(4096);
    const req = `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${(4096).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const r = await rawRequest(proxy.port, req, { until: hasResponses(1) });
    expect(splitResponses(r.data)[0]!.status).toBe(503);
    expect(attempts).toBe(1);
    expect(replayable).toEqual([false]);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("filters: responseTimeoutMs cancels the in-flight upstream request → 504", async () => {
  const up = rawUpstream(() => {});
  let timing: RequestCtx["timing"] | undefined;
  const proxy = startProxy({
    direction: "outbound",
    forwardTo: { host: "127.0.0.1", port: up.port },
    chain: testChain({
      onRequestHead(ctx) {
        ctx.responseTimeoutMs = 50;
        return CONTINUE;
      },
      onComplete: (ctx) => void (timing = { ...ctx.timing }),
    }),
  });
  try {
    const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 5000 });
    const res = splitResponses(r.data)[0]!;
    expect(res.status).toBe(504);
    expect(res.headers.get("l5d-proxy-error")).toContain("response timed out");
    await eventually(() => up.closes() === 1, 5000, "upstream request cancelled");
    expect(timing!.dispatchMs).toBeGreaterThan(0);
    expect(timing!.endMs).toBeGreaterThanOrEqual(timing!.startMs);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("filters: responseTimeoutMs also covers a connect that hangs, and a retry after it re-dials cleanly", async () => {
  const hole = await blackholePort();
  const errors: Array<[number, string]> = [];
  const proxy = startProxy({
    direction: "outbound",
    forwardTo: { host: "127.0.0.1", port: hole.port },
    connectTimeoutMs: 5000,
    chain: testChain({
      onRequestHead(ctx) {
        ctx.responseTimeoutMs = 50;
        return CONTINUE;
      },
      onAttemptError(ctx, _state, err) {
        errors.push([ctx.attempt, err.code]);
        return ctx.attempt < 2;
      },
    }),
  });
  try {
    const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 4000 });
    const responses = splitResponses(r.data);
    expect(responses.map((x) => x.status)).toEqual([504]);
    expect(responses[0]!.headers.get("l5d-proxy-error")).toBe("response timed out after 50ms");
    expect(errors).toEqual([
      [1, "PXY_ERR_HTTP_RESPONSE_TIMEOUT"],
      [2, "PXY_ERR_HTTP_RESPONSE_TIMEOUT"],
    ]);
  } finally {
    proxy.stop();
    hole.stop();
  }
});

test("a head trickled byte by byte and a pipeline split into tiny packets are both parsed correctly", async () => {
  const up = okUpstream();
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
  try {
    const text = "GET /a HTTP/1.1\r\nHost: a\r\nX-Long: " + "v".repeat(300) + "\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n";
    const parts: string[] = [];
    for (let i = 0; i < text.length; i += 7) parts.push(text.slice(i, i + 7));
    const r = await rawRequest(proxy.port, parts, { until: hasResponses(3), timeoutMs: 10_000 });
    expect(splitResponses(r.data).map((x) => x.status)).toEqual([200, 200, 200]);
  } finally {
    proxy.stop();
    up.stop();
  }
}, 15_000);
