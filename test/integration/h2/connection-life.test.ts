// HTTP/2 connection life through the whole proxy (small keep-alive settings, no timing assertions):
// an upstream that stops answering PINGs has its connection closed and its stream fails as a proxy error
// (502 with l5d-proxy-error outbound); an upstream that answers PINGs keeps a slow stream alive; and a
// drain (SIGTERM) sends the graceful double GOAWAY: 2^31-1 first, then the real last-stream-id.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import http2 from "node:http2";
import { CLIENT_PREFACE, FLAG, FRAME } from "../../../src/h2/frame-types.ts";
import { FrameReader } from "../../../src/h2/frames-reader.ts";
import { settingsAckFrame, settingsFrame } from "../../../src/h2/frames-writer.ts";
import { H2Session } from "../../../src/h2/session.ts";
import { type RunningProxy, startProxy } from "../../support/proxy.ts";

/** An h2 server that does the SETTINGS exchange and then never answers anything (PINGs included). */
function silentUpstream(): TCPSocketListener<{ greeted: boolean }> {
  return Bun.listen<{ greeted: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { greeted: false };
      },
      data(socket) {
        if (socket.data.greeted) return;
        socket.data.greeted = true;
        socket.write(Buffer.concat([settingsFrame([]), settingsAckFrame()]));
      },
    },
  });
}

/** An h2 server on this codec that answers each request after `delayMs`, counting the PINGs it is sent. */
type SlowConn = { session: H2Session; reader: FrameReader; prefaceLeft: number };

function slowUpstream(delayMs: number, counts: { pings: number }): TCPSocketListener<SlowConn> {
  return Bun.listen<SlowConn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket: Socket<SlowConn>) {
        const session: H2Session = new H2Session({
          role: "server",
          write: (bytes) => socket.write(bytes),
          handler: {
            onHeaders(id, _headers, kind) {
              if (kind === "request") setTimeout(() => session.respond(id, [":status", "200"], true), delayMs);
            },
          },
        });
        socket.data = { session, reader: new FrameReader(), prefaceLeft: CLIENT_PREFACE.length };
      },
      data(socket, bytes) {
        const skip = Math.min(socket.data.prefaceLeft, bytes.length); // the preface is no frame
        socket.data.prefaceLeft -= skip;
        socket.data.reader.push(bytes.subarray(skip), {
          frame: (f) => {
            if (f.type === FRAME.PING && !f.has(FLAG.ACK)) counts.pings++;
          },
          streamError() {},
        });
        socket.data.session.receive(bytes);
      },
    },
  });
}

let silent: TCPSocketListener<{ greeted: boolean }>;
let slow: TCPSocketListener<SlowConn>;
const slowCounts = { pings: 0 };
let app: http2.Http2Server;
let proxy: RunningProxy;

beforeAll(async () => {
  silent = silentUpstream();
  slow = slowUpstream(600, slowCounts);
  app = http2.createServer();
  app.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ":status": 200 });
    stream.end("ok\n");
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", () => resolve()));
  proxy = await startProxy({
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${(app.address() as { port: number }).port}`,
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${silent.port},127.0.0.1:0=127.0.0.1:${slow.port}`,
    MESHLET_HTTP2_KEEPALIVE_INTERVAL: "100ms",
    MESHLET_HTTP2_KEEPALIVE_TIMEOUT: "100ms",
    MESHLET_SHUTDOWN_GRACE_PERIOD: "5s",
  });
});

afterAll(async () => {
  await proxy.stop();
  silent.stop(true);
  slow.stop(true);
  app.close();
});

async function get(port: number, path: string): Promise<{ status: number; headers: http2.IncomingHttpHeaders }> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ":path": path });
      let headers: http2.IncomingHttpHeaders = {};
      req.on("response", (h) => (headers = h));
      req.on("data", () => {});
      req.on("end", () => resolve({ status: Number(headers[":status"]), headers }));
      req.on("error", reject);
    });
  } finally {
    session.close();
  }
}

test("an upstream that does not answer keep-alive PINGs: its connection is closed and the stream fails 502", async () => {
  const r = await get(proxy.outboundPorts[1]!, "/hangs");
  expect(r.status).toBe(502);
  expect(String(r.headers["l5d-proxy-error"])).toContain(`127.0.0.1:${silent.port}`);
  await proxy.waitForLog((l) => l.level === "warn" && String(l.message).includes("keep-alive PING") && l.addr === `127.0.0.1:${silent.port}`);
});

test("an upstream that answers PINGs keeps a slow stream (several intervals long) alive", async () => {
  const r = await get(proxy.outboundPorts[2]!, "/slow");
  expect(r.status).toBe(200);
  expect(slowCounts.pings).toBeGreaterThan(0);
});

test("drain: GOAWAY 2^31-1 and a PING, then GOAWAY with the last stream served; the connection then closes", async () => {
  const goaways: number[] = [];
  let closed!: () => void;
  const whenClosed = new Promise<void>((resolve) => (closed = resolve));
  let answered!: () => void;
  const whenAnswered = new Promise<void>((resolve) => (answered = resolve));
  let session!: H2Session;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port: proxy.inboundPort,
    socket: {
      data: (_s, bytes) => session.receive(bytes),
      close: () => closed(),
      error: () => closed(),
    },
  });
  session = new H2Session({
    role: "client",
    write: (bytes) => socket.write(bytes),
    handler: {
      onGoaway: (last) => goaways.push(last),
      onData: (id, d) => session.consume(id, d.length),
      onEnd: () => answered(),
    },
  });
  session.request([":method", "GET", ":scheme", "http", ":path", "/before-drain", ":authority", `127.0.0.1:${proxy.inboundPort}`], true);
  await whenAnswered;
  proxy.process.kill("SIGTERM");
  await whenClosed;
  expect(goaways).toEqual([2 ** 31 - 1, 1]);
  expect(await proxy.process.exited).toBe(0);
});
