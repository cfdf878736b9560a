// End-to-end forwarding through the engine on real loopback sockets: curl and raw clients, keep-alive
// on both sides, hop-by-hop stripping, HTTP/1.0, HEAD, pipelining, authority routing and metrics.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  countHeads,
  curl,
  hasResponses,
  okUpstream,
  rawRequest,
  rawUpstream,
  splitResponses,
  startProxy,
  type RawUpstream,
  type TestProxy,
} from "../../support/http-harness.ts";

describe("forwarding to a fixed destination (inbound)", () => {
  let up: RawUpstream;
  let proxy: TestProxy;
  const seen: string[] = [];
  beforeAll(() => {
    up = rawUpstream((conn) => {
      const answered = (conn.state.answered as number | undefined) ?? 0;
      const text = conn.received.toString("latin1");
      const heads = text.split("\r\n\r\n").slice(0, -1);
      for (let i = answered; i < heads.length; i++) {
        seen.push(heads[i]!);
        const isHead = heads[i]!.startsWith("HEAD ");
        conn.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Up: 1\r\n\r\n${isHead ? "" : `r${i}-ok`}`);
      }
      conn.state.answered = heads.length;
    });
    proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
  });
  afterAll(() => {
    proxy.stop();
    up.stop();
  });

  test("curl gets the upstream response; both connections are reused", async () => {
    const before = up.accepts();
    const r = await curl(["-v", `http://127.0.0.1:${proxy.port}/a`, `http://127.0.0.1:${proxy.port}/b`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("r0-okr1-ok");
    expect(r.stderr).toContain("Re-using existing connection");
    expect(r.stderr).not.toMatch(/< Keep-Alive/i);
    expect(up.accepts() - before).toBe(1);
  });

  test("hop-by-hop request fields are removed, end-to-end ones kept", async () => {
    seen.length = 0;
    const r = await rawRequest(
      proxy.port,
      "GET /h HTTP/1.1\r\nHost: svc\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nProxy-Connection: x\r\nTE: trailers\r\nX-End: 2\r\n\r\n",
      { until: hasResponses(1) },
    );
    expect(splitResponses(r.data)[0]!.status).toBe(200);
    expect(seen[0]).toBe("GET /h HTTP/1.1\r\nHost: svc\r\nX-End: 2");
  });

  test("HTTP/1.0 clients: close by default, keep-alive when asked", async () => {
    const closed = await rawRequest(proxy.port, "GET /old HTTP/1.0\r\n\r\n");
    expect(closed.closed).toBe(true);
    expect(closed.text).toStartWith("HTTP/1.1 200 OK\r\n");
    expect(closed.text.toLowerCase()).toContain("connection: close");
    const ka = await rawRequest(proxy.port, "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", { until: hasResponses(1) });
    expect(ka.closed).toBe(false);
    expect(ka.text.toLowerCase()).toContain("connection: keep-alive");
  });

  test("HEAD responses have no body and the connection stays usable", async () => {
    const r = await rawRequest(proxy.port, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n", {
      until: (d) => d.toString().includes("-ok"),
    });
    const parts = r.text.split("HTTP/1.1 200 OK");
    expect(parts.length).toBe(3);
    expect(r.text).toEndWith("-ok");
  });

  test("pipelined requests are answered in order", async () => {
    seen.length = 0;
    const reqs = Array.from({ length: 10 }, (_, i) => `GET /p${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join("");
    const r = await rawRequest(proxy.port, reqs, { until: hasResponses(10) });
    expect(splitResponses(r.data).map((x) => x.status)).toEqual(Array(10).fill(200));
    expect(seen.map((h) => h.split(" ")[1])).toEqual(Array.from({ length: 10 }, (_, i) => `/p${i}`));
  });

  test("a client that half-closes after its request still gets the response", async () => {
    const { connect } = await import("node:net");
    const text = await new Promise<string>((resolve, reject) => {
      let got = "";
      const s = connect({ host: "127.0.0.1", port: proxy.port, allowHalfOpen: true }, () => {
        s.end("GET /half HTTP/1.1\r\nHost: a\r\n\r\n");
      });
      s.on("data", (d) => (got += d.toString()));
      s.on("end", () => resolve(got));
      s.on("error", reject);
      setTimeout(() => reject(new Error("no answer within 5s")), 5000);
    });
    expect(splitResponses(Buffer.from(text))[0]!.status).toBe(200);
  });

  test("Connection: close from the client closes after the response", async () => {
    const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(r.closed).toBe(true);
    expect(r.text.toLowerCase()).toContain("connection: close");
  });

  test("metrics: request_total / response_total / response_latency_ms for the target", async () => {
    const text = await proxy.registry.metrics();
    const labels = `direction="inbound",target_addr="127.0.0.1:${up.port}",target_ip="127.0.0.1",target_port="${up.port}",tls="disabled"`;
    expect(text).toMatch(new RegExp(`request_total\\{${labels}\\} \\d+`));
    expect(text).toContain(`response_total{${labels},status_code="200",classification="success",grpc_status="",error=""}`);
    expect(text).toContain(`response_latency_ms_count{${labels},status_code="200"}`);
    expect(text).not.toContain("authority=");
  });
});

describe("authority routing (outbound, http_proxy style)", () => {
  let up: RawUpstream;
  let proxy: TestProxy;
  beforeAll(() => {
    up = rawUpstream((conn) => {
      if (countHeads(conn.received) === 0) return;
      const head = conn.received.toString("latin1").split("\r\n\r\n")[0]!;
      const body = head.split("\r\n").filter((l) => !l.toLowerCase().startsWith("user-agent") && !l.toLowerCase().startsWith("accept")).join("|");
      conn.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      conn.received = Buffer.alloc(0);
    });
    proxy = startProxy({ direction: "outbound" });
  });
  afterAll(() => {
    proxy.stop();
    up.stop();
  });

  test("curl -x: absolute-form becomes origin-form with Host from the URI", async () => {
    const r = await curl(["-x", `http://127.0.0.1:${proxy.port}`, `http://127.0.0.1:${up.port}/path?q=1`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`GET /path?q=1 HTTP/1.1|host: 127.0.0.1:${up.port}`);
  });

  test("hostnames go through the system resolver", async () => {
    const r = await curl(["-x", `http://127.0.0.1:${proxy.port}`, `http://localhost:${up.port}/n`]);
    expect(r.stdout).toBe(`GET /n HTTP/1.1|host: localhost:${up.port}`);
  });

  test("an authority naming the proxy itself is a gateway loop (508), not a recursion", async () => {
    const r = await rawRequest(proxy.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`);
    expect(splitResponses(r.data)[0]!.status).toBe(508);
    expect(r.closed).toBe(true);
  });

  test("fetch() as a client, with http_proxy-style absolute-form through the proxy", async () => {
    const res = await fetch(`http://127.0.0.1:${up.port}/f`, { proxy: `http://127.0.0.1:${proxy.port}`, method: "POST", body: "x" });
    expect(res.status).toBe(200);
    expect(await res.text()).toStartWith("POST /f HTTP/1.1|");
  });

  test("origin-form requests route by Host; metrics carry the authority", async () => {
    const r = await rawRequest(proxy.port, `GET /h HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\n`, { until: hasResponses(1) });
    expect(splitResponses(r.data)[0]!.body).toBe(`GET /h HTTP/1.1|Host: 127.0.0.1:${up.port}`);
    expect(await proxy.registry.metrics()).toContain(`request_total{direction="outbound",authority="127.0.0.1:${up.port}"`);
  });
});

describe("upstream pool", () => {
  test("N sequential requests on separate client connections use one upstream connection", async () => {
    const up = okUpstream();
    const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
    try {
      for (let i = 0; i < 50; i++) {
        const r = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        expect(splitResponses(r.data)[0]!.body).toBe("ok");
      }
      expect(up.accepts()).toBe(1);
    } finally {
      proxy.stop();
      up.stop();
    }
  });
});
