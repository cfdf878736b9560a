// Proxy-generated errors on real sockets: 400/431 for bad requests (and the connection closes, other
// connections unaffected), conflicting framing rejected, 502/503/504 with l5d-proxy-error, and an
// upstream that dies mid-response shows up as a closed connection, never a hang.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  blackholePort,
  closedPort,
  hasResponses,
  okUpstream,
  rawRequest,
  rawUpstream,
  splitResponses,
  startProxy,
  type RawUpstream,
  type TestProxy,
} from "../../support/http-harness.ts";

function expectError(r: { data: Buffer; closed: boolean }, status: number, closes = true) {
  const res = splitResponses(r.data)[0];
  expect(res?.status).toBe(status);
  expect(res!.headers.get("l5d-proxy-error")).toBeTruthy();
  expect(res!.headers.get("content-type")).toContain("text/plain");
  expect(res!.body.length).toBeGreaterThan(0);
  if (closes) {
    expect(res!.headers.get("connection")).toBe("close");
    expect(r.closed).toBe(true);
  }
  return res!;
}

describe("bad requests", () => {
  let up: RawUpstream;
  let proxy: TestProxy;
  beforeAll(() => {
    up = okUpstream();
    proxy = startProxy({ direction: "outbound", forwardTo: { host: "127.0.0.1", port: up.port } });
  });
  afterAll(() => {
    proxy.stop();
    up.stop();
  });

  const cases: Array<[string, string, number]> = [
    ["malformed request line", "GARBAGE\r\n\r\n", 400],
    ["bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400],
    ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", 400],
    ["missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
    ["CL + TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ["differing duplicate CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400],
    ["unknown transfer coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400],
    ["chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400],
    ["TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ["invalid chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400],
    ["bare LF in chunked body", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400],
    ["head over 64 KiB", `GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(70_000)}\r\n\r\n`, 431],
    ["101 header fields", `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join("")}\r\n`, 431],
  ];
  for (const [name, payload, status] of cases) {
    test(`${name} → ${status} and close`, async () => {
      expectError(await rawRequest(proxy.port, payload), status);
    });
  }

  test("a smuggled second request inside a rejected one never reaches the upstream", async () => {
    const before = up.accepts();
    const smuggle = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n";
    const r = await rawRequest(proxy.port, smuggle);
    expect(splitResponses(r.data).map((x) => x.status)).toEqual([400]);
    expect(up.accepts()).toBe(before);
  });

  test("a bad request does not disturb another connection", async () => {
    let good: ReturnType<typeof Bun.connect> extends Promise<infer S> ? S : never;
    let received = "";
    good = await Bun.connect({
      hostname: "127.0.0.1",
      port: proxy.port,
      socket: { data: (_s, d) => void (received += d.toString()) },
    });
    good.write("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
    await rawRequest(proxy.port, "\x00\x01\x02 nonsense\r\n\r\n");
    good.write("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    for (let i = 0; i < 500 && splitResponses(Buffer.from(received)).length < 2; i++) await Bun.sleep(10);
    expect(splitResponses(Buffer.from(received)).map((x) => x.status)).toEqual([200, 200]);
    good.end();
  });
});

describe("upstream failures", () => {
  test("connection refused → 502", async () => {
    const proxy = startProxy({ direction: "outbound", forwardTo: { host: "127.0.0.1", port: closedPort() } });
    try {
      const res = expectError(await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 502);
      expect(res.headers.get("l5d-proxy-error")).toContain("connect to 127.0.0.1:");
      expect(res.headers.get("l5d-proxy-connection")).toBe("close");
      // A dispatch error is counted as Linkerd does: failure, error="unclassified", and no status_code
      // (the 502 is the proxy's answer, not an upstream response).
      const m = await proxy.registry.metrics();
      expect(m).toContain('tls="disabled",classification="failure",grpc_status="",error="unclassified"} 1');
      expect(m).not.toContain('status_code="502"');
    } finally {
      proxy.stop();
    }
  });

  test("reset before the response → 502", async () => {
    const up = rawUpstream((conn) => conn.socket.terminate());
    const proxy = startProxy({ direction: "outbound", forwardTo: { host: "127.0.0.1", port: up.port } });
    try {
      expectError(await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 502);
    } finally {
      proxy.stop();
      up.stop();
    }
  });

  test("an invalid response → 502", async () => {
    const up = rawUpstream((conn) => conn.socket.write("SSH-2.0-nope\r\n\r\n"));
    const proxy = startProxy({ direction: "outbound", forwardTo: { host: "127.0.0.1", port: up.port } });
    try {
      expectError(await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 502);
    } finally {
      proxy.stop();
      up.stop();
    }
  });

  test("connect timeout → 504", async () => {
    const hole = await blackholePort();
    const proxy = startProxy({ direction: "outbound", forwardTo: { host: "127.0.0.1", port: hole.port }, connectTimeoutMs: 100 });
    try {
      const res = expectError(await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 504);
      expect(res.headers.get("l5d-proxy-error")).toContain("timed out");
    } finally {
      proxy.stop();
      hole.stop();
    }
  });

  test("no endpoint (unresolvable authority) → 503", async () => {
    const proxy = startProxy({ direction: "outbound" });
    try {
      const res = expectError(await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: nothing-here.invalid:80\r\n\r\n"), 503);
      expect(res.headers.get("l5d-proxy-error")).toContain("no endpoint");
    } finally {
      proxy.stop();
    }
  });

  test("connection cap with a full queue → 503 (load shed); queued too long → 504 (failfast)", async () => {
    const hang = rawUpstream(() => {});
    const proxy = startProxy({
      direction: "outbound",
      forwardTo: { host: "127.0.0.1", port: hang.port },
      maxConnectionsPerUpstream: 1,
      maxQueuedRequestsPerUpstream: 1,
      poolQueueTimeoutMs: 100,
    });
    try {
      const first = rawRequest(proxy.port, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 5000 }).catch(() => null);
      for (let i = 0; i < 500 && hang.accepts() < 1; i++) await Bun.sleep(5);
      const queued = rawRequest(proxy.port, "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
      await Bun.sleep(20);
      const shed = await rawRequest(proxy.port, "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
      const shedRes = expectError(shed, 503);
      expect(shedRes.headers.get("l5d-proxy-error")).toContain("overloaded");
      expectError(await queued, 504);
      void first;
    } finally {
      proxy.stop();
      hang.stop();
    }
  });

  test("upstream closing mid-response → the client sees the connection close, not a hang", async () => {
    const up = rawUpstream((conn) => {
      conn.socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
      setTimeout(() => conn.socket.end(), 10);
    });
    const proxy = startProxy({ direction: "outbound", forwardTo: { host: "127.0.0.1", port: up.port } });
    try {
      const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 5000 });
      expect(r.closed).toBe(true);
      expect(r.text).toStartWith("HTTP/1.1 200 OK\r\n");
      expect(r.text).toEndWith("partial");
      const m = await proxy.registry.metrics();
      expect(m).toContain('status_code="200",classification="failure",grpc_status="",error="unclassified"} 1');
    } finally {
      proxy.stop();
      up.stop();
    }
  });

  test("a close-delimited response is relayed and then the client connection closes", async () => {
    const up = rawUpstream((conn) => {
      conn.socket.write("HTTP/1.1 200 OK\r\n\r\nuntil-eof");
      setTimeout(() => conn.socket.end(), 10);
    });
    const proxy = startProxy({ direction: "outbound", forwardTo: { host: "127.0.0.1", port: up.port } });
    try {
      const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 5000 });
      expect(r.closed).toBe(true);
      expect(r.text.toLowerCase()).toContain("connection: close");
      expect(r.text).toEndWith("\r\n\r\nuntil-eof");
    } finally {
      proxy.stop();
      up.stop();
    }
  });
});

test("keep-alive survives a synthetic error only where Linkerd keeps it (none of 502/503/504 do)", async () => {
  const proxy = startProxy({ direction: "outbound", forwardTo: { host: "127.0.0.1", port: closedPort() } });
  try {
    const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", { until: hasResponses(2) });
    expect(splitResponses(r.data).length).toBe(1);
    expect(r.closed).toBe(true);
  } finally {
    proxy.stop();
  }
});
