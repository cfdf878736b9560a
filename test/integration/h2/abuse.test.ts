// HTTP/2 abuse through the whole proxy: a raw-socket client floods one connection (rapid reset, PING,
// SETTINGS, empty DATA, CONTINUATION); the proxy answers GOAWAY(ENHANCE_YOUR_CALM) and closes it, did
// bounded work for it (answers and upstream streams counted), counts it in
// meshlet_http2_abuse_goaway_total{direction,kind} with one warning, and keeps serving other connections.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import http2 from "node:http2";
import { H2_ERROR, h2ErrorName } from "../../../src/h2/errors.ts";
import { CLIENT_PREFACE, FLAG, FRAME } from "../../../src/h2/frame-types.ts";
import { FrameReader } from "../../../src/h2/frames-reader.ts";
import { continuationFrame, dataFrame, headersFrame, pingFrame, rstStreamFrame, settingsAckFrame, settingsFrame } from "../../../src/h2/frames-writer.ts";
import { HpackEncoder } from "../../../src/h2/hpack-encoder.ts";
import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

/** What a flooding connection got back before the proxy closed it. */
interface FloodResult {
  goawayCode: string | null;
  pingAcks: number;
  settingsAcks: number;
  closedByProxy: boolean;
}

/** Connects, does the handshake, sends `frames` (in writes of up to 64 KiB), and collects frames until the proxy closes. */
async function flood(port: number, frames: Uint8Array[]): Promise<FloodResult> {
  const result: FloodResult = { goawayCode: null, pingAcks: 0, settingsAcks: 0, closedByProxy: false };
  const reader = new FrameReader();
  reader.maxFrameBytes = 1 << 24;
  const payload = Buffer.concat(frames);
  let closed!: () => void;
  const done = new Promise<void>((resolve) => (closed = resolve));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, bytes) {
        reader.push(bytes, {
          frame(f) {
            if (f.type === FRAME.GOAWAY) result.goawayCode = h2ErrorName(f.errorCode);
            if (f.type === FRAME.PING && f.has(FLAG.ACK)) result.pingAcks++;
            if (f.type === FRAME.SETTINGS && f.has(FLAG.ACK)) result.settingsAcks++;
          },
          streamError() {},
        });
      },
      end(s) {
        s.end();
      },
      close() {
        closed();
      },
      error() {
        closed();
      },
    },
  });
  socket.write(Buffer.concat([CLIENT_PREFACE, settingsFrame([]), settingsAckFrame()]));
  for (let at = 0; at < payload.length; at += 65_536) {
    const piece = payload.subarray(at, at + 65_536);
    let written = 0;
    // The proxy may close mid-flood; stop writing then.
    for (let tries = 0; written < piece.length && tries < 1000 && result.goawayCode === null; tries++) {
      written += socket.write(piece.subarray(written));
      if (written < piece.length) await Bun.sleep(1);
    }
    if (result.goawayCode !== null) break;
  }
  // The proxy closes (FIN, or RST when our flood was still arriving); after 10 s we give up on it.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    socket.end();
  }, 10_000);
  await done;
  clearTimeout(timer);
  result.closedByProxy = !timedOut;
  return result;
}

const GET = (path: string, authority: string) => [":method", "GET", ":scheme", "http", ":path", path, ":authority", authority];

let app: http2.Http2Server;
let appStreams = 0;
let proxy: RunningProxy;
let authority: string;

beforeAll(async () => {
  app = http2.createServer();
  app.on("stream", (stream: http2.ServerHttp2Stream) => {
    appStreams++;
    stream.on("error", () => {});
    stream.respond({ ":status": 200 });
    stream.end("ok\n");
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", () => resolve()));
  const appPort = (app.address() as { port: number }).port;
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${appPort}` });
  authority = `127.0.0.1:${proxy.inboundPort}`;
});

afterAll(async () => {
  await proxy.stop();
  app.close();
});

/** A GET on a fresh connection: the proxy still serves. */
async function stillServes(): Promise<number> {
  const session = http2.connect(`http://${authority}`);
  try {
    return await new Promise<number>((resolve, reject) => {
      const req = session.request({ ":path": "/alive" });
      let status = 0;
      req.on("response", (h) => (status = Number(h[":status"])));
      req.on("data", () => {});
      req.on("end", () => resolve(status));
      req.on("error", reject);
    });
  } finally {
    session.close();
  }
}

async function abuseCount(kind: string): Promise<number> {
  return metricValue(await proxy.metrics(), "meshlet_http2_abuse_goaway_total", { direction: "inbound", kind });
}

describe("a flood on one connection is GOAWAY(ENHANCE_YOUR_CALM); other connections are served", () => {
  test("rapid reset (CVE-2023-44487): 2000 streams opened and reset at once reach the app only a bounded number of times", async () => {
    const enc = new HpackEncoder();
    const frames: Uint8Array[] = [];
    for (let i = 0, id = 1; i < 2000; i++, id += 2) {
      frames.push(headersFrame(id, enc.encode(GET(`/r${i}`, authority)), { endStream: true }), rstStreamFrame(id, H2_ERROR.CANCEL));
    }
    const before = appStreams;
    const r = await flood(proxy.inboundPort, frames);
    expect(r.goawayCode).toBe("ENHANCE_YOUR_CALM");
    expect(r.closedByProxy).toBe(true);
    expect(await stillServes()).toBe(200);
    // At most the burst (20) plus the requests answered before the resets arrived went upstream, not 2000.
    expect(appStreams - before).toBeLessThan(200);
    expect(await abuseCount("rapid_reset")).toBe(1);
    await proxy.waitForLog((l) => l.level === "warn" && l.kind === "rapid_reset");
  });

  test("PING flood: 100,000 PINGs get at most the burst of answers", async () => {
    const frames = Array.from({ length: 100_000 }, (_, i) => pingFrame(Buffer.alloc(8, i & 0xff)));
    const r = await flood(proxy.inboundPort, frames);
    expect(r.goawayCode).toBe("ENHANCE_YOUR_CALM");
    expect(r.closedByProxy).toBe(true);
    expect(r.pingAcks).toBeLessThan(1000);
    expect(await stillServes()).toBe(200);
    expect(await abuseCount("ping_flood")).toBe(1);
  });

  test("SETTINGS flood: 50,000 SETTINGS get at most the burst of ACKs", async () => {
    const frames = Array.from({ length: 50_000 }, () => settingsFrame([]));
    const r = await flood(proxy.inboundPort, frames);
    expect(r.goawayCode).toBe("ENHANCE_YOUR_CALM");
    expect(r.settingsAcks).toBeLessThan(1000);
    expect(await stillServes()).toBe(200);
    expect(await abuseCount("settings_flood")).toBe(1);
  });

  test("empty DATA flood: 100,000 zero-length DATA frames on an open stream", async () => {
    const enc = new HpackEncoder();
    const frames: Uint8Array[] = [headersFrame(1, enc.encode([":method", "POST", ":scheme", "http", ":path", "/upload", ":authority", authority]))];
    for (let i = 0; i < 100_000; i++) frames.push(dataFrame(1, new Uint8Array(0)));
    const r = await flood(proxy.inboundPort, frames);
    expect(r.goawayCode).toBe("ENHANCE_YOUR_CALM");
    expect(r.closedByProxy).toBe(true);
    expect(await stillServes()).toBe(200);
    expect(await abuseCount("empty_frames")).toBe(1);
  });

  test("CONTINUATION flood: an endless header block is cut at its frame bound", async () => {
    const frames: Uint8Array[] = [headersFrame(1, new Uint8Array(0), { endHeaders: false })];
    for (let i = 0; i < 100_000; i++) frames.push(continuationFrame(1, new Uint8Array(0), false));
    const r = await flood(proxy.inboundPort, frames);
    expect(r.goawayCode).toBe("ENHANCE_YOUR_CALM");
    expect(await stillServes()).toBe(200);
    expect(await abuseCount("continuation_flood")).toBe(1);
  });
});
