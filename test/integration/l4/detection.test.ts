// Protocol detection on a non-opaque port: HTTP/1 (curl), HTTP/2 prior knowledge, TLS with SNI, and a
// server-speaks-first protocol whose banner arrives once the (shortened) detect timeout has passed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import net from "node:net";
import tls from "node:tls";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { type TestServer, listen } from "../../support/tcp.ts";

const H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

test("an HTTP/1 request is detected and reaches the app", async () => {
  const app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(`hello ${new URL(req.url).pathname}`) });
  const proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}` });
  try {
    const curl = Bun.spawn(["curl", "-sS", "--max-time", "10", `http://127.0.0.1:${proxy.inboundPort}/books`], { stdout: "pipe" });
    expect(await new Response(curl.stdout).text()).toBe("hello /books");
    expect(metricValue(await proxy.metrics(), "inbound_tcp_detect_http_results_total", { result: "http/1" })).toBe(1);
  } finally {
    await proxy.stop();
    app.stop(true);
  }
});

describeWithUpstream();

function describeWithUpstream() {
  let upstream: TestServer;
  let firstBytes: Buffer[] = [];
  let proxy: RunningProxy;

  beforeAll(async () => {
    // Records what each connection sends first, answers "ok", and closes.
    upstream = await listen((socket) => {
      socket.once("data", (d) => {
        firstBytes.push(d as Buffer);
        socket.end("ok");
      });
    });
    proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${upstream.port}`, MESHLET_LOG_LEVEL: "debug", MESHLET_DETECT_TIMEOUT: "300ms" });
  });
  afterAll(async () => {
    await proxy.stop();
    await upstream.close();
  });

  test("an HTTP/2 prior-knowledge preface is detected and served by the HTTP/2 engine, not spliced", async () => {
    firstBytes = [];
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(proxy.inboundPort, "127.0.0.1", () => s.end(H2_PREFACE));
      const got: Buffer[] = [];
      s.on("data", (d: Buffer) => got.push(d));
      s.on("end", () => resolve(Buffer.concat(got)));
      s.on("error", reject);
    });
    expect(reply[3]).toBe(0x04); // the server's first frame: SETTINGS (RFC 9113 §3.4)
    expect(firstBytes).toEqual([]); // no request was made: nothing reached the app
    expect(metricValue(await proxy.metrics(), "inbound_tcp_detect_http_results_total", { result: "http/2" })).toBe(1);
  });

  test("a TLS ClientHello is detected, its SNI recorded, and it passes through untouched", async () => {
    firstBytes = [];
    await new Promise<void>((resolve) => {
      const s = tls.connect({ host: "127.0.0.1", port: proxy.inboundPort, servername: "books.example.test", rejectUnauthorized: false });
      s.on("error", () => resolve()); // the upstream is not a TLS server: the handshake fails, as it should
      s.on("close", () => resolve());
    });
    expect(firstBytes[0]?.[0]).toBe(0x16); // the ClientHello reached the upstream
    expect(firstBytes[0]!.includes(Buffer.from("books.example.test"))).toBe(true);
    const logged = await proxy.waitForLog((l) => l.message === "tcp connection closed" && l.protocol === "tls");
    expect(logged.sni).toBe("books.example.test");
  });

  test("a server-speaks-first protocol works after the detect timeout", async () => {
    const smtp = await listen((socket) => {
      socket.write("220 smtp.example.test ready\r\n");
      socket.on("data", (d) => {
        if (d.toString().startsWith("QUIT")) socket.end("221 bye\r\n");
      });
    });
    const p = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${smtp.port}`, MESHLET_DETECT_TIMEOUT: "300ms" });
    try {
      const transcript = await new Promise<string>((resolve, reject) => {
        let got = "";
        const s = net.connect(p.inboundPort, "127.0.0.1");
        s.on("data", (d) => {
          got += d;
          if (got.includes("220 ")) s.write("QUIT\r\n");
        });
        s.on("end", () => resolve(got));
        s.on("error", reject);
      });
      expect(transcript).toBe("220 smtp.example.test ready\r\n221 bye\r\n");
      expect(metricValue(await p.metrics(), "inbound_tcp_detect_http_results_total", { result: "read_timeout" })).toBe(1);
    } finally {
      await p.stop();
      await smtp.close();
    }
  });

  test("bytes that cannot be HTTP are forwarded at once as TCP", async () => {
    firstBytes = [];
    const s = net.connect(proxy.inboundPort, "127.0.0.1", () => s.write("PING\r\n"));
    const reply = await new Promise<string>((resolve) => {
      let got = "";
      s.on("data", (d) => (got += d));
      s.on("end", () => resolve(got));
    });
    expect(reply).toBe("ok");
    expect(firstBytes[0]?.toString()).toBe("PING\r\n");
    expect(metricValue(await proxy.metrics(), "inbound_tcp_detect_http_results_total", { result: "not_http" })).toBeGreaterThanOrEqual(1);
  });
}
