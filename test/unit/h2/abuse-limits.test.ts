// The session's abuse limits, driven frame by frame on a fake clock: rapid reset (CVE-2023-44487),
// resets for the peer's own errors, PING / SETTINGS floods (by rate and while the peer does not read),
// empty-frame and CONTINUATION floods. Each breach is GOAWAY(ENHANCE_YOUR_CALM) tagged with its kind;
// traffic inside the limits is never cut.
import { describe, expect, test } from "bun:test";
import { RateBucket } from "../../../src/h2/abuse-limits.ts";
import { H2_ERROR } from "../../../src/h2/errors.ts";
import { continuationFrame, dataFrame, headersFrame, pingFrame, rawFrame, rstStreamFrame, settingsFrame } from "../../../src/h2/frames-writer.ts";
import { FakeTimers, FRAME, GET, RawPeer } from "./session-pair.ts";

const POST = [":method", "POST", ":scheme", "http", ":path", "/upload", ":authority", "example.test"];

function peer(opts: ConstructorParameters<typeof RawPeer>[0] = {}): { p: RawPeer; clock: FakeTimers } {
  const clock = new FakeTimers();
  const p = new RawPeer({ timers: clock, ...opts, session: { nowMs: () => clock.now, ...opts.session } });
  return { p, clock };
}

function calm(p: RawPeer): { code: string; kind: string | undefined } | null {
  const g = p.goaway();
  if (g === null) return null;
  return { code: g.code, kind: p.events.errors[0]?.abuse };
}

describe("RateBucket", () => {
  test("a burst, then one token per 1/rate seconds, and credit up to the burst", () => {
    const b = new RateBucket(3, 10);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(50)).toBe(false); // half a token
    expect(b.take(100)).toBe(true); // 100 ms at 10/s: one more
    b.credit(100);
    expect([b.take(100), b.take(100), b.take(100), b.take(100)]).toEqual([true, true, true, false]);
  });
});

describe("rapid reset", () => {
  test("streams opened and reset before any response: the 21st reset is GOAWAY(ENHANCE_YOUR_CALM) rapid_reset", () => {
    const { p } = peer();
    let id = 1;
    for (; id <= 2 * 20 - 1; id += 2) p.send(p.headers(id, GET, { endStream: true }), rstStreamFrame(id, H2_ERROR.CANCEL));
    expect(p.goaway()).toBeNull();
    p.send(p.headers(id, GET, { endStream: true }), rstStreamFrame(id, H2_ERROR.CANCEL));
    expect(calm(p)).toEqual({ code: "ENHANCE_YOUR_CALM", kind: "rapid_reset" });
    expect(p.session.isDead).toBe(true);
  });

  test("resets after the response head began, and resets mixed with answered streams, are not abuse", () => {
    const { p } = peer({ handler: {} });
    // Every stream answered (head sent) before the client resets it: never counted.
    for (let id = 1; id < 400; id += 2) {
      p.send(p.headers(id, POST));
      p.session.respond(id, [":status", "200"]);
      p.send(rstStreamFrame(id, H2_ERROR.CANCEL));
    }
    expect(p.goaway()).toBeNull();
    // Half the streams answered and done, half reset unanswered: each answered stream earns its reset back.
    for (let id = 401; id < 1200; id += 4) {
      p.send(p.headers(id, GET, { endStream: true }));
      p.session.respond(id, [":status", "204"], true);
      p.send(p.headers(id + 2, GET, { endStream: true }), rstStreamFrame(id + 2, H2_ERROR.CANCEL));
    }
    expect(p.goaway()).toBeNull();
  });

  test("the bucket refills with time: 20 resets per second forever are allowed at a refill of 20/s", () => {
    const { p, clock } = peer({ session: { abuseLimits: { rapidResetPerSecond: 20 } } });
    let id = 1;
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 20; i++, id += 2) p.send(p.headers(id, GET, { endStream: true }), rstStreamFrame(id, H2_ERROR.CANCEL));
      clock.advance(1000);
    }
    expect(p.goaway()).toBeNull();
  });
});

describe("resets for the peer's errors", () => {
  test("more than localErrorResets malformed streams: GOAWAY local_reset", () => {
    const { p } = peer({ session: { abuseLimits: { localErrorResets: 5 } } });
    const bad = [...GET, "connection", "close"]; // connection-specific field: a stream error each time
    for (let id = 1; id <= 9; id += 2) p.send(p.headers(id, bad, { endStream: true }));
    expect(p.resets().length).toBe(5);
    expect(p.goaway()).toBeNull();
    p.send(p.headers(11, bad, { endStream: true }));
    expect(calm(p)).toEqual({ code: "ENHANCE_YOUR_CALM", kind: "local_reset" });
  });
});

describe("PING and SETTINGS floods", () => {
  test("101 PINGs at once: 100 answered, then GOAWAY ping_flood; PINGs within the rate are always answered", () => {
    const { p } = peer();
    for (let i = 0; i < 101; i++) p.send(pingFrame(Buffer.alloc(8, i)));
    expect(p.framesOfType(FRAME.PING).length).toBe(100);
    expect(calm(p)).toEqual({ code: "ENHANCE_YOUR_CALM", kind: "ping_flood" });

    const slow = peer();
    for (let i = 0; i < 1000; i++) {
      slow.p.send(pingFrame(Buffer.alloc(8, i)));
      slow.clock.advance(20); // 50 per second: the refill rate
    }
    expect(slow.p.framesOfType(FRAME.PING).length).toBe(1000);
    expect(slow.p.goaway()).toBeNull();
  });

  test("PINGs answered while the peer does not read: the answers queued in a row are bounded", () => {
    let backlogged = false;
    const { p } = peer({ session: { isBacklogged: () => backlogged, abuseLimits: { pingBurst: 1e9, unreadControlAnswers: 10 } } });
    backlogged = true;
    for (let i = 0; i < 10; i++) p.send(pingFrame(Buffer.alloc(8, i)));
    backlogged = false; // the peer read: the run starts again
    p.send(pingFrame(Buffer.alloc(8, 99)));
    backlogged = true;
    for (let i = 0; i < 10; i++) p.send(pingFrame(Buffer.alloc(8, i)));
    expect(p.goaway()).toBeNull();
    p.send(pingFrame(Buffer.alloc(8, 11)));
    expect(calm(p)).toEqual({ code: "ENHANCE_YOUR_CALM", kind: "ping_flood" });
  });

  test("a SETTINGS flood: GOAWAY settings_flood after the burst", () => {
    const { p } = peer({ session: { abuseLimits: { settingsBurst: 30 } } });
    // The handshake's SETTINGS took one token.
    for (let i = 0; i < 29; i++) p.send(settingsFrame([]));
    expect(p.goaway()).toBeNull();
    p.send(settingsFrame([]));
    expect(calm(p)).toEqual({ code: "ENHANCE_YOUR_CALM", kind: "settings_flood" });
  });
});

describe("empty frames", () => {
  test("101 empty DATA frames in a row on an open stream: GOAWAY empty_frames", () => {
    const { p } = peer();
    p.send(p.headers(1, POST));
    for (let i = 0; i < 100; i++) p.send(dataFrame(1, new Uint8Array(0)));
    expect(p.goaway()).toBeNull();
    p.send(dataFrame(1, new Uint8Array(0)));
    expect(calm(p)).toEqual({ code: "ENHANCE_YOUR_CALM", kind: "empty_frames" });
  });

  test("unknown frame types count too; DATA with bytes between them ends the run", () => {
    const { p } = peer();
    p.send(p.headers(1, POST));
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) p.send(rawFrame(0xfa, 0, 0), dataFrame(1, new Uint8Array(0)));
      p.send(dataFrame(1, new Uint8Array([1])));
      p.session.consume(1, 1);
    }
    expect(p.goaway()).toBeNull();
    for (let i = 0; i < 101; i++) p.send(rawFrame(0xfa, 0, 0));
    expect(calm(p)).toEqual({ code: "ENHANCE_YOUR_CALM", kind: "empty_frames" });
  });
});

describe("CONTINUATION flood (already bounded)", () => {
  test("more than 64 CONTINUATION frames in one block: GOAWAY continuation_flood", () => {
    const { p } = peer();
    const frames = [headersFrame(1, new Uint8Array(0), { endHeaders: false })];
    for (let i = 0; i < 65; i++) frames.push(continuationFrame(1, new Uint8Array(0), false));
    p.send(...frames);
    expect(calm(p)).toEqual({ code: "ENHANCE_YOUR_CALM", kind: "continuation_flood" });
  });
});
