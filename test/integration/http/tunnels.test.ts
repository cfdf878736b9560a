// Upgrades and CONNECT become byte tunnels once the upstream agrees: a WebSocket echo through the proxy,
// a refused upgrade stays HTTP, and http_proxy-style CONNECT is terminated by the proxy.
import { expect, test } from "bun:test";
import { rawRequest, rawUpstream, splitResponses, startProxy } from "../../support/http-harness.ts";

test("WebSocket echo through the proxy (Bun.serve upstream, WebSocket client)", async () => {
  const upstream = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, server) {
      if (server.upgrade(req)) return undefined;
      return new Response("not a websocket", { status: 400 });
    },
    websocket: {
      message(ws, msg) {
        ws.send(`echo:${typeof msg === "string" ? msg : new TextDecoder().decode(msg)}`);
      },
    },
  });
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: upstream.port! } });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/chat`);
    const replies: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.onopen = () => {
        for (let i = 0; i < 5; i++) ws.send(`m${i}`);
        ws.send("x".repeat(200_000));
      };
      ws.onmessage = (e) => {
        replies.push(String(e.data));
        if (replies.length === 6) resolve();
      };
      ws.onerror = () => reject(new Error("websocket error"));
      setTimeout(() => reject(new Error("no echo within 5s")), 5000);
    });
    await done;
    expect(replies.slice(0, 5)).toEqual(["echo:m0", "echo:m1", "echo:m2", "echo:m3", "echo:m4"]);
    expect(replies[5]!.length).toBe(5 + 200_000);
    ws.close();
  } finally {
    proxy.stop();
    upstream.stop(true);
  }
});

test("an upgrade the upstream refuses stays HTTP and the connection closes after the answer", async () => {
  const up = rawUpstream((conn) => conn.socket.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"));
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
  try {
    const r = await rawRequest(proxy.port, "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    expect(splitResponses(r.data)[0]!.status).toBe(403);
    expect(r.closed).toBe(true);
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("h2c upgrade requests are forwarded without their upgrade headers", async () => {
  let head = "";
  const up = rawUpstream((conn) => {
    head = conn.received.toString();
    conn.socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const proxy = startProxy({ forwardTo: { host: "127.0.0.1", port: up.port } });
  try {
    const r = await rawRequest(
      proxy.port,
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
      { until: (d) => d.toString().endsWith("ok") },
    );
    expect(splitResponses(r.data)[0]!.status).toBe(200);
    expect(head).toBe("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  } finally {
    proxy.stop();
    up.stop();
  }
});

test("CONNECT through an authority-routed proxy: 200, then raw bytes both ways", async () => {
  const echo = rawUpstream((conn, chunk) => conn.socket.write(Buffer.concat([Buffer.from("<"), chunk, Buffer.from(">")])));
  const proxy = startProxy({ direction: "outbound" });
  try {
    const r = await rawRequest(proxy.port, [`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\n`, "raw-bytes"], {
      until: (d) => d.toString().endsWith(">"),
    });
    expect(r.text).toBe("HTTP/1.1 200 Connection Established\r\n\r\n<raw-bytes>");
  } finally {
    proxy.stop();
    echo.stop();
  }
});

test("CONNECT tunnel: a client half-close is passed on and the upstream's last bytes still arrive", async () => {
  const { connect } = await import("node:net");
  const up = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    allowHalfOpen: true,
    socket: {
      data(s, d) {
        (s as unknown as { got: string }).got = ((s as unknown as { got?: string }).got ?? "") + d.toString();
      },
      end(s) {
        s.write(`bye after ${(s as unknown as { got: string }).got}`);
        s.end();
      },
    },
  });
  const proxy = startProxy({ direction: "outbound" });
  try {
    const text = await new Promise<string>((resolve, reject) => {
      let got = "";
      const s = connect({ host: "127.0.0.1", port: proxy.port, allowHalfOpen: true }, () => {
        s.write(`CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
      });
      s.on("data", (d) => {
        got += d.toString();
        if (got === "HTTP/1.1 200 Connection Established\r\n\r\n") s.end("last words");
      });
      s.on("end", () => resolve(got));
      s.on("error", reject);
      setTimeout(() => reject(new Error(`no close within 5s: ${JSON.stringify(got)}`)), 5000);
    });
    expect(text).toBe("HTTP/1.1 200 Connection Established\r\n\r\nbye after last words");
  } finally {
    proxy.stop();
    up.stop(true);
  }
});
