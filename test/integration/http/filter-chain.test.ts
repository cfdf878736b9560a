// The request pipeline on real loopback sockets: phase order, a rejection before any body byte moves
// (proved by a backend that counts every byte it receives), pause and resume, upstream selection,
// and header edits that leave every other byte of the head as the client or upstream sent it.
import { expect, test } from "bun:test";
import { ProxyError } from "../../../src/errors/proxy-error.ts";
import { CONTINUE, FilterChain, type FilterState, type HttpFilter, PAUSE, type SomeHttpFilter, staticChain } from "../../../src/http/filter.ts";
import { LoadShedError, ResponseHeadersTimeoutError } from "../../../src/http/proxy-errors.ts";
import type { RequestCtx } from "../../../src/http/request-ctx.ts";
import { countHeads, hasResponses, okUpstream, rawRequest, rawUpstream, splitResponses, startProxy } from "../../support/http-harness.ts";

/** A 403-like denial for tests (any ProxyError works; the rescue table maps unknown ones to 500). */
class TestDenied extends LoadShedError {}

function proxyWith(filters: SomeHttpFilter[], upstreamPort: number, direction: "inbound" | "outbound" = "outbound") {
  return startProxy({ direction, forwardTo: { host: "127.0.0.1", port: upstreamPort }, chain: staticChain(new FilterChain(filters)) });
}

test("phases run in order, once each, and completion sees the final status", async () => {
  const up = okUpstream();
  const calls: string[] = [];
  const tracer = (name: string): HttpFilter<undefined> => ({
    name,
    onRequestHead: () => (calls.push(`${name}:head`), CONTINUE),
    selectUpstream: () => void calls.push(`${name}:select`),
    onResponseHead: (_c, _s, res) => (calls.push(`${name}:response:${res.status}`), false),
    onComplete: (ctx) => void calls.push(`${name}:complete:${ctx.status}`),
  });
  const proxy = proxyWith([tracer("a"), tracer("b")], up.port);
  try {
    const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { until: hasResponses(1) });
    expect(splitResponses(r.data)[0]!.status).toBe(200);
    expect(calls).toEqual(["a:head", "b:head", "a:select", "b:select", "a:response:200", "b:response:200", "a:complete:200", "b:complete:200"]);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("completion sees the bytes both ways: request body as received, response head and body as sent", async () => {
  const up = rawUpstream((conn) => {
    if (!conn.received.toString("latin1").endsWith("hello")) return;
    conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nworld");
  });
  const seen: Array<[number, number]> = [];
  const bytes: HttpFilter<undefined> = { name: "bytes", onComplete: (ctx) => void seen.push([ctx.requestBodyBytes, ctx.responseBytes]) };
  const proxy = proxyWith([bytes], up.port);
  try {
    const r = await rawRequest(proxy.port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel", "lo"], { until: hasResponses(1) });
    expect(splitResponses(r.data)[0]!.status).toBe(200);
    // The response as the client received it: everything the proxy wrote for this exchange.
    expect(seen).toEqual([[5, r.data.length]]);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("a request rejected at its head: no byte of its body reaches the backend, every filter completes once", async () => {
  let received = 0;
  const up = rawUpstream((conn, chunk) => {
    received += chunk.length;
    conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  });
  const completed: number[] = [];
  const deny: HttpFilter<undefined> = { name: "deny", onRequestHead: (ctx) => (ctx.path === "/secret" ? new TestDenied("x") : CONTINUE) };
  const after: HttpFilter<undefined> = { name: "after", onRequestHead: () => CONTINUE, onComplete: (ctx) => void completed.push(ctx.status) };
  const proxy = proxyWith([deny, after], up.port);
  try {
    const body = "s".repeat(100_000);
    const r = await rawRequest(proxy.port, [`POST /secret HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`, body.slice(0, 50_000), body.slice(50_000)], { timeoutMs: 5000 });
    expect(splitResponses(r.data)[0]!.status).toBe(503);
    await Bun.sleep(50);
    expect(received).toBe(0);
    expect(up.accepts()).toBe(0);
    expect(completed).toEqual([503]);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("a rejection that keeps the connection open lets the next pipelined request through", async () => {
  const up = okUpstream();
  const deny: HttpFilter<undefined> = {
    name: "deny",
    // A rescue row that keeps the connection (a policy response timeout: 504, not closed).
    onRequestHead: (ctx) => (ctx.path === "/no" ? new ResponseHeadersTimeoutError(1) : CONTINUE),
  };
  const proxy = proxyWith([deny], up.port);
  try {
    const r = await rawRequest(proxy.port, "GET /no HTTP/1.1\r\nHost: x\r\n\r\nGET /yes HTTP/1.1\r\nHost: x\r\n\r\n", { until: hasResponses(2), timeoutMs: 5000 });
    expect(splitResponses(r.data).map((x) => x.status)).toEqual([504, 200]);
    expect(r.closed).toBe(false);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("pause and resume: the body waits in the proxy until the filter resumes, then reaches the backend intact", async () => {
  const bodies: string[] = [];
  const up = rawUpstream((conn) => {
    const text = conn.received.toString("latin1");
    const end = text.indexOf("\r\n\r\n");
    if (end < 0 || text.length < end + 4 + 11) return;
    bodies.push(text.slice(end + 4));
    conn.received = Buffer.alloc(0);
    conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
  });
  let held: RequestCtx | undefined;
  const asyncDecision: HttpFilter<undefined> = {
    name: "async",
    onRequestHead(ctx) {
      held = ctx;
      return PAUSE;
    },
  };
  const proxy = proxyWith([asyncDecision], up.port);
  try {
    const pending = rawRequest(proxy.port, ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello", " world"], { until: hasResponses(1), timeoutMs: 5000 });
    for (let i = 0; i < 200 && held === undefined; i++) await Bun.sleep(5);
    await Bun.sleep(30);
    expect(up.accepts()).toBe(0); // nothing dialed while paused
    held!.resume();
    const r = await pending;
    expect(splitResponses(r.data)[0]!.status).toBe(200);
    expect(bodies).toEqual(["hello world"]);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("a paused request can be rejected later (an asynchronous denial)", async () => {
  const up = okUpstream();
  const asyncDeny: HttpFilter<undefined> = {
    name: "async-deny",
    onRequestHead(ctx) {
      setTimeout(() => ctx.cancel(new TestDenied("later")), 20);
      return PAUSE;
    },
  };
  const proxy = proxyWith([asyncDeny], up.port);
  try {
    const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { until: hasResponses(1), timeoutMs: 5000 });
    expect(splitResponses(r.data)[0]!.status).toBe(503);
    expect(up.accepts()).toBe(0);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("upstream selection: the first filter that answers wins; an error answer is rescued", async () => {
  const a = okUpstream("from-a");
  const b = okUpstream("from-b");
  const pick: HttpFilter<undefined> = {
    name: "pick",
    selectUpstream: (ctx) => (ctx.path === "/b" ? { host: "127.0.0.1", port: b.port } : ctx.path === "/none" ? new TestDenied("no backend") : undefined),
  };
  const never: HttpFilter<undefined> = { name: "never", selectUpstream: () => ({ host: "127.0.0.1", port: 1 }) };
  const proxy = proxyWith([pick, never], a.port);
  try {
    const r = await rawRequest(proxy.port, "GET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\n\r\n", { until: hasResponses(2), timeoutMs: 5000 });
    const [first, second] = splitResponses(r.data);
    expect(first!.body.toString()).toBe("from-b");
    expect(second!.status).toBe(503);
  } finally {
    proxy.stop();
    a.stop();
    b.stop();
  }
});

test("header edits are byte-exact: dropped lines vanish, added lines appear, everything else is untouched", async () => {
  const heads: string[] = [];
  const up = rawUpstream((conn) => {
    const text = conn.received.toString("latin1");
    if (countHeads(conn.received) < 1) return;
    heads.push(text);
    conn.received = Buffer.alloc(0);
    conn.socket.write("HTTP/1.1 200 OK\r\nX-Keep:  spaced  value \r\nX-Secret: s\r\nx-secret: t\r\ncontent-length: 0\r\n\r\n");
  });
  const edit: HttpFilter<undefined> = {
    name: "edit",
    onRequestHead(ctx) {
      ctx.dropRequestHeader("x-drop");
      ctx.dropRequestHeader("l5d-client-id");
      ctx.addRequestHeader("x-added", "v1");
      return CONTINUE;
    },
    onResponseHead(ctx) {
      ctx.dropResponseHeader("x-secret");
      ctx.addResponseHeader("x-from-proxy", "yes\r\nInjected: no");
      return false;
    },
  };
  const proxy = proxyWith([edit], up.port);
  try {
    const r = await rawRequest(
      proxy.port,
      "GET /p?q=1 HTTP/1.1\r\nHost: x\r\nX-Drop: 1\r\nX-Weird:\t tab\t\r\nL5D-Client-Id: spoof\r\nx-drop: 2\r\nAccept: */*\r\n\r\n",
      { until: hasResponses(1) },
    );
    expect(heads[0]).toBe("GET /p?q=1 HTTP/1.1\r\nHost: x\r\nX-Weird:\t tab\t\r\nAccept: */*\r\nx-added: v1\r\n\r\n");
    const head = r.text.slice(0, r.text.indexOf("\r\n\r\n") + 4);
    expect(head).toBe("HTTP/1.1 200 OK\r\nX-Keep:  spaced  value \r\ncontent-length: 0\r\nx-from-proxy: yes  Injected: no\r\n\r\n");
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("state slots: one object per filter and connection, reset before each request (no per-request allocation)", async () => {
  const up = okUpstream();
  const created: object[] = [];
  const seenStates: object[] = [];
  class Counter implements FilterState {
    requests = 0;
    reset(): void {
      this.requests = 0;
    }
  }
  const counting: HttpFilter<Counter> = {
    name: "counting",
    newState: () => {
      const c = new Counter();
      created.push(c);
      return c;
    },
    onRequestHead(_ctx, s) {
      s.requests++;
      seenStates.push(s);
      return s.requests === 1 ? CONTINUE : new TestDenied("state leaked between requests");
    },
  };
  const proxy = proxyWith([counting], up.port);
  try {
    const three = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3);
    const r = await rawRequest(proxy.port, three, { until: hasResponses(3) });
    expect(splitResponses(r.data).map((x) => x.status)).toEqual([200, 200, 200]);
    expect(created.length).toBe(1);
    expect(new Set(seenStates).size).toBe(1);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("a filter that throws is a bug the engine contains: 500 for that request, the proxy keeps serving", async () => {
  const up = okUpstream();
  const buggy: HttpFilter<undefined> = {
    name: "buggy",
    onRequestHead: (ctx) => {
      if (ctx.path === "/boom") throw new Error("bug");
      return CONTINUE;
    },
  };
  const proxy = proxyWith([buggy], up.port);
  try {
    const bad = await rawRequest(proxy.port, "GET /boom HTTP/1.1\r\nHost: x\r\n\r\n", { timeoutMs: 5000 });
    expect(splitResponses(bad.data)[0]!.status).toBe(500);
    const good = await rawRequest(proxy.port, "GET /fine HTTP/1.1\r\nHost: x\r\n\r\n", { until: hasResponses(1) });
    expect(splitResponses(good.data)[0]!.status).toBe(200);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("ProxyError verdicts are matched by brand, so any error class can reject", () => {
  expect(new TestDenied("x")).toBeInstanceOf(ProxyError);
});
