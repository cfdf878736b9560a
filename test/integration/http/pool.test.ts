// The upstream pool under stress: a reused connection the server closed while idle never fails an
// idempotent request, idle connections are evicted, and the connection cap queues instead of failing.
import { expect, test } from "bun:test";
import { countHeads, eventually, hasResponses, okUpstream, rawRequest, rawUpstream, splitResponses, startProxy } from "../../support/http-harness.ts";

/** Answers the first request on each connection, then closes when the next one arrives (a keep-alive race). */
function oneShotUpstream() {
  return rawUpstream((conn) => {
    const heads = countHeads(conn.received);
    if (heads === 1 && !conn.state.answered) {
      conn.state.answered = true;
      conn.socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    } else if (heads >= 2) {
      conn.socket.end();
    }
  });
}

test("a stale pooled connection is re-dialed transparently for an idempotent request", async () => {
  const up = oneShotUpstream();
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
  try {
    for (let i = 0; i < 5; i++) {
      const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { until: hasResponses(1) });
      expect(splitResponses(r.data)[0]!.status).toBe(200);
    }
    expect(up.accepts()).toBeGreaterThanOrEqual(5);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("a non-idempotent request that already reached a stale connection is not re-sent (502)", async () => {
  const up = oneShotUpstream();
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
  try {
    await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { until: hasResponses(1) });
    const r = await rawRequest(proxy.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", { until: hasResponses(1) });
    // RFC 9110 §9.2.2 / Go's transport: the server may have acted on it, so it is not replayed.
    expect(splitResponses(r.data)[0]!.status).toBe(502);
    expect(up.accepts()).toBe(1);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("idle upstream connections are evicted after upstreamIdleTimeoutMs", async () => {
  const up = okUpstream();
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port }, upstreamIdleTimeoutMs: 50 });
  try {
    await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await eventually(() => up.closes() === 1, 5000, "upstream connection closed by eviction");
    const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(splitResponses(r.data)[0]!.status).toBe(200);
    expect(up.accepts()).toBe(2);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("at the connection cap, requests queue for a pooled connection instead of failing", async () => {
  const up = rawUpstream((conn) => {
    const answered = (conn.state.n as number | undefined) ?? 0;
    const heads = countHeads(conn.received);
    for (let i = answered; i < heads; i++) setTimeout(() => conn.socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), 5);
    conn.state.n = heads;
  });
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port }, maxConnectionsPerUpstream: 1 });
  try {
    const all = await Promise.all(
      Array.from({ length: 8 }, () => rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")),
    );
    expect(all.map((r) => splitResponses(r.data)[0]!.status)).toEqual(Array(8).fill(200));
    expect(up.accepts()).toBe(1);
  } finally {
    proxy.stop();
    up.stop();
  }
});
