// An h2spec-style conformance table: each case is named after the h2spec section it mirrors, drives a
// server session (or a client session, where marked) with raw frames, and asserts the exact answer —
// GOAWAY with its code (connection error), RST_STREAM with its code (stream error), or a normal reply.
import { describe, expect, test } from "bun:test";

import { H2_ERROR, type H2ErrorName } from "../../../src/h2/errors.ts";
import { CLIENT_PREFACE, FLAG, FRAME } from "../../../src/h2/frame-types.ts";
import {
  continuationFrame,
  dataFrame,
  goawayFrame,
  headersFrame,
  pingFrame,
  priorityFrame,
  pushPromiseFrame,
  rawFrame,
  rstStreamFrame,
  settingsFrame,
  windowUpdateFrame,
} from "../../../src/h2/frames-writer.ts";
import { HpackDecoder } from "../../../src/h2/hpack-decoder.ts";
import type { SessionHandler } from "../../../src/h2/session.ts";
import type { H2Settings } from "../../../src/h2/settings.ts";
import { GET, POST, RawPeer } from "./session-pair.ts";

type Expect = { goaway: H2ErrorName } | { rst: [number, H2ErrorName] } | { ok: (p: RawPeer) => void };

interface Case {
  section: string;
  title: string;
  expect: Expect;
  run(p: RawPeer): void;
  /** Server behaviour: "respond" answers each request that ended with 200 and END_STREAM; "silent" (the default) does nothing. */
  server?: "respond" | "silent";
  /** What the session under test advertises. */
  settings?: Partial<H2Settings>;
  role?: "client";
  /** false: the case itself sends the preface and first SETTINGS (or not). */
  handshake?: false;
}

const block = (p: RawPeer, h: string[]) => p.encoder.encode(h);
/** A block the session sent that uses only the static table (a fresh decoder). */
const decodeBlock = (b: Uint8Array): string[] => {
  const out: string[] = [];
  new HpackDecoder().decode(b, out);
  return out;
};

const CASES: Case[] = [
  // ---- 3.5 HTTP/2 Connection Preface
  {
    section: "3.5.2",
    title: "Sends invalid connection preface",
    handshake: false,
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(Buffer.from("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n")),
  },

  // ---- 4.1 Frame Format
  {
    section: "4.1.1",
    title: "Sends a frame with unknown type (ignored; PING still answered)",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.PING).length).toBe(1) },
    run: (p) => p.send(rawFrame(0xff, 0, 0, Buffer.from("x")), pingFrame(Buffer.alloc(8))),
  },
  {
    section: "4.1.2",
    title: "Sends a frame with undefined flag (ignored)",
    expect: { ok: (p) => expect(p.hasFlag(p.framesOfType(FRAME.PING)[0]!, FLAG.ACK)).toBe(true) },
    run: (p) => p.send(rawFrame(FRAME.PING, 0x16, 0, Buffer.alloc(8))),
  },
  {
    section: "4.1.3",
    title: "Sends a frame with reserved field bit (ignored)",
    server: "respond",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.HEADERS).map((f) => f.streamId)).toEqual([1]) },
    run: (p) => {
      const f = p.headers(1, GET, { endStream: true });
      f[5]! |= 0x80;
      p.send(f);
    },
  },

  // ---- 4.2 Frame Size
  {
    section: "4.2.1",
    title: "Sends a DATA frame with 2^14 octets in length (accepted)",
    expect: { ok: (p) => expect(p.events.bodies.get(1)?.reduce((n, b) => n + b.length, 0)).toBe(16_384) },
    run: (p) => p.send(p.headers(1, POST), dataFrame(1, Buffer.alloc(16_384), { endStream: true })),
  },
  {
    section: "4.2.2",
    title: "Sends a large size DATA frame that exceeds the SETTINGS_MAX_FRAME_SIZE",
    expect: { goaway: "FRAME_SIZE_ERROR" },
    run: (p) => p.send(p.headers(1, POST), dataFrame(1, Buffer.alloc(16_385))),
  },
  {
    section: "4.2.3",
    title: "Sends a large size HEADERS frame that exceeds the SETTINGS_MAX_FRAME_SIZE",
    expect: { goaway: "FRAME_SIZE_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.alloc(16_385), { endStream: true })),
  },

  // ---- 4.3 Header Compression and Decompression
  {
    section: "4.3.1",
    title: "Sends invalid header block fragment",
    expect: { goaway: "COMPRESSION_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.from([0x00, 0x85, 0xf2, 0xb2, 0x4a, 0x87, 0xff, 0xff, 0xff, 0xfd, 0x25, 0x42, 0x7f]), { endStream: true })),
  },
  {
    section: "4.3.2",
    title: "Sends a PRIORITY frame while sending the header blocks",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endHeaders: false }), priorityFrame(1, { exclusive: false, dependency: 0, weight: 16 })),
  },
  {
    section: "4.3.3",
    title: "Sends a HEADERS frame to another stream while sending the header blocks",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endHeaders: false }), p.headers(3, GET, { endStream: true })),
  },

  // ---- 5.1 Stream States
  { section: "5.1.1", title: "idle: Sends a DATA frame", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(dataFrame(1, Buffer.from("x"))) },
  { section: "5.1.2", title: "idle: Sends a RST_STREAM frame", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(rstStreamFrame(1, H2_ERROR.CANCEL)) },
  { section: "5.1.3", title: "idle: Sends a WINDOW_UPDATE frame", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(windowUpdateFrame(1, 100)) },
  { section: "5.1.4", title: "idle: Sends a CONTINUATION frame", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(continuationFrame(1, block(p, GET), true)) },
  {
    section: "5.1.5",
    title: "half closed (remote): Sends a DATA frame",
    server: "silent",
    expect: { rst: [1, "STREAM_CLOSED"] },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), dataFrame(1, Buffer.from("x"))),
  },
  {
    section: "5.1.6",
    title: "half closed (remote): Sends a HEADERS frame",
    server: "silent",
    expect: { rst: [1, "STREAM_CLOSED"] },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), p.headers(1, GET, { endStream: true })),
  },
  {
    section: "5.1.7",
    title: "half closed (remote): Sends a CONTINUATION frame",
    server: "silent",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), continuationFrame(1, block(p, ["x-a", "b"]), true)),
  },
  {
    section: "5.1.8",
    title: "closed: Sends a DATA frame after sending RST_STREAM frame",
    expect: { goaway: "STREAM_CLOSED" },
    run: (p) => p.send(p.headers(1, POST), rstStreamFrame(1, H2_ERROR.CANCEL), dataFrame(1, Buffer.from("x"))),
  },
  {
    section: "5.1.9",
    title: "closed: Sends a HEADERS frame after sending RST_STREAM frame",
    expect: { goaway: "STREAM_CLOSED" },
    run: (p) => p.send(p.headers(1, POST), rstStreamFrame(1, H2_ERROR.CANCEL), p.headers(1, ["x-t", "1"], { endStream: true })),
  },
  {
    section: "5.1.10",
    title: "closed: Sends a CONTINUATION frame after sending RST_STREAM frame",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, POST), rstStreamFrame(1, H2_ERROR.CANCEL), continuationFrame(1, block(p, ["x-a", "b"]), true)),
  },
  {
    section: "5.1.11",
    title: "closed: Sends a DATA frame",
    server: "respond",
    expect: { goaway: "STREAM_CLOSED" },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), dataFrame(1, Buffer.from("x"))),
  },
  {
    section: "5.1.12",
    title: "closed: Sends a HEADERS frame",
    server: "respond",
    expect: { goaway: "STREAM_CLOSED" },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), p.headers(1, GET, { endStream: true })),
  },
  {
    section: "5.1.13",
    title: "closed: Sends a CONTINUATION frame",
    server: "respond",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), continuationFrame(1, block(p, ["x-a", "b"]), true)),
  },
  {
    section: "5.1 (ours)",
    title: "frames in flight on a stream we reset are ignored, not errors",
    expect: { ok: (p) => expect(p.goaway()).toBeNull() },
    server: "silent",
    run: (p) => {
      p.send(p.headers(1, POST));
      p.session.reset(1, H2_ERROR.CANCEL);
      p.send(dataFrame(1, Buffer.from("late")), p.headers(1, ["x-t", "1"], { endStream: true }), windowUpdateFrame(1, 5), rstStreamFrame(1, 0));
    },
  },
  { section: "5.1.1.1", title: "Sends even-numbered stream identifier", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(p.headers(2, GET, { endStream: true })) },
  {
    section: "5.1.1.2",
    title: "Sends stream identifier that is numerically smaller than previous",
    server: "silent",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(5, GET, { endStream: true }), p.headers(3, GET, { endStream: true })),
  },
  {
    section: "5.1.2.1",
    title: "Sends HEADERS frames that causes their advertised concurrent stream limit to be exceeded",
    settings: { maxConcurrentStreams: 2 },
    server: "silent",
    expect: { rst: [5, "REFUSED_STREAM"] },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), p.headers(3, GET, { endStream: true }), p.headers(5, GET, { endStream: true })),
  },

  // ---- 5.3 / 5.4 / 5.5
  {
    section: "5.3.1.1",
    title: "Sends HEADERS frame that depends on itself",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p) => p.send(p.headers(1, GET, { endStream: true, priority: { exclusive: false, dependency: 1, weight: 16 } })),
  },
  {
    section: "5.3.1.2",
    title: "Sends PRIORITY frame that depend on itself",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    server: "silent",
    run: (p) => p.send(p.headers(1, POST), priorityFrame(1, { exclusive: false, dependency: 1, weight: 16 })),
  },
  {
    section: "5.4.1.1",
    title: "Sends an invalid PING frame for connection close (GOAWAY, then nothing more is processed)",
    expect: { goaway: "FRAME_SIZE_ERROR" },
    run: (p) => {
      p.send(rawFrame(FRAME.PING, 0, 0, Buffer.alloc(6)));
      const before = p.received.length;
      p.send(pingFrame(Buffer.alloc(8)));
      expect(p.received.length).toBe(before);
    },
  },
  {
    section: "5.5.1",
    title: "Sends an unknown extension frame (ignored)",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.PING).length).toBe(1) },
    run: (p) => p.send(rawFrame(0x16, 0, 0, Buffer.from("ext")), pingFrame(Buffer.alloc(8))),
  },
  {
    section: "5.5.2",
    title: "Sends an unknown extension frame in the middle of a header block",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endHeaders: false }), rawFrame(0x16, 0, 1, Buffer.from("ext"))),
  },

  // ---- 6.1 DATA
  { section: "6.1.1", title: "Sends a DATA frame with 0x0 stream identifier", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(rawFrame(FRAME.DATA, 0, 0, Buffer.from("x"))) },
  {
    section: "6.1.2",
    title: 'Sends a DATA frame on the stream that is not in "open" or "half-closed (local)" state',
    server: "silent",
    expect: { rst: [1, "STREAM_CLOSED"] },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), dataFrame(1, Buffer.from("x"))),
  },
  {
    section: "6.1.3",
    title: "Sends a DATA frame with invalid pad length",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, POST), rawFrame(FRAME.DATA, FLAG.PADDED | FLAG.END_STREAM, 1, Buffer.from([6, 1, 2, 3, 4, 5]))),
  },

  // ---- 6.2 HEADERS
  {
    section: "6.2.1",
    title: "Sends a HEADERS frame without the END_HEADERS flag, and a PRIORITY frame",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endHeaders: false }), priorityFrame(3, { exclusive: false, dependency: 0, weight: 16 })),
  },
  {
    section: "6.2.2",
    title: "Sends a HEADERS frame to another stream while sending a HEADERS frame",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endHeaders: false }), p.headers(3, GET, { endStream: true })),
  },
  { section: "6.2.3", title: "Sends a HEADERS frame with 0x0 stream identifier", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(p.headers(0, GET, { endStream: true })) },
  {
    section: "6.2.4",
    title: "Sends a HEADERS frame with invalid pad length",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => {
      const b = block(p, GET);
      p.send(rawFrame(FRAME.HEADERS, FLAG.PADDED | FLAG.END_HEADERS | FLAG.END_STREAM, 1, Buffer.concat([Buffer.from([b.length + 1]), b])));
    },
  },

  // ---- 6.3 PRIORITY
  { section: "6.3.1", title: "Sends a PRIORITY frame with 0x0 stream identifier", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(priorityFrame(0, { exclusive: false, dependency: 1, weight: 1 })) },
  {
    section: "6.3.2",
    title: "Sends a PRIORITY frame with a length other than 5 octets",
    server: "silent",
    expect: { rst: [1, "FRAME_SIZE_ERROR"] },
    run: (p) => p.send(p.headers(1, POST), rawFrame(FRAME.PRIORITY, 0, 1, Buffer.alloc(4))),
  },
  {
    section: "6.3 (ours)",
    title: "a PRIORITY frame on an idle stream is allowed and opens nothing",
    expect: { ok: (p) => (expect(p.goaway()).toBeNull(), expect(p.session.openStreams).toBe(0)) },
    run: (p) => p.send(priorityFrame(9, { exclusive: false, dependency: 0, weight: 16 })),
  },

  // ---- 6.4 RST_STREAM
  { section: "6.4.1", title: "Sends a RST_STREAM frame with 0x0 stream identifier", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(rstStreamFrame(0, H2_ERROR.CANCEL)) },
  { section: "6.4.2", title: "Sends a RST_STREAM frame on a idle stream", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(rstStreamFrame(3, H2_ERROR.CANCEL)) },
  {
    section: "6.4.3",
    title: "Sends a RST_STREAM frame with a length other than 4 octets",
    server: "silent",
    expect: { goaway: "FRAME_SIZE_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), rawFrame(FRAME.RST_STREAM, 0, 1, Buffer.alloc(3))),
  },

  // ---- 6.5 SETTINGS
  { section: "6.5.1", title: "Sends a SETTINGS frame with ACK flag and payload", expect: { goaway: "FRAME_SIZE_ERROR" }, run: (p) => p.send(rawFrame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(6))) },
  { section: "6.5.2", title: "Sends a SETTINGS frame with a stream identifier other than 0x0", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(rawFrame(FRAME.SETTINGS, 0, 1, Buffer.alloc(6))) },
  { section: "6.5.3", title: "Sends a SETTINGS frame with a length other than a multiple of 6 octets", expect: { goaway: "FRAME_SIZE_ERROR" }, run: (p) => p.send(rawFrame(FRAME.SETTINGS, 0, 0, Buffer.alloc(3))) },
  { section: "6.5.2.1", title: "SETTINGS_ENABLE_PUSH (0x2): Sends the value other than 0 or 1", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(settingsFrame([[2, 2]])) },
  {
    section: "6.5.2.2",
    title: "SETTINGS_INITIAL_WINDOW_SIZE (0x4): Sends the value above the maximum flow control window size",
    expect: { goaway: "FLOW_CONTROL_ERROR" },
    run: (p) => p.send(settingsFrame([[4, 0x80000000]])),
  },
  { section: "6.5.2.3", title: "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value below the initial value", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(settingsFrame([[5, 16_383]])) },
  {
    section: "6.5.2.4",
    title: "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value above the maximum allowed frame size",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(settingsFrame([[5, 16_777_216]])),
  },
  {
    section: "6.5.2.5",
    title: "Sends a SETTINGS frame with unknown identifier (ACKed)",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.SETTINGS).filter((f) => f.flags & FLAG.ACK).length).toBe(1) },
    run: (p) => p.send(settingsFrame([[0xff, 1]])),
  },
  {
    section: "6.5.3.1",
    title: "Sends multiple values of SETTINGS_INITIAL_WINDOW_SIZE (the last one applies)",
    server: "silent",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.DATA).map((f) => f.payload.length)).toEqual([1]) },
    run: (p) => {
      p.send(settingsFrame([[4, 100], [4, 1]]), p.headers(1, GET, { endStream: true }));
      p.session.respond(1, [":status", "200"]);
      p.session.sendData(1, Buffer.from("hello"), true);
    },
  },
  {
    section: "6.5.3.2",
    title: "Sends a SETTINGS frame without ACK flag (ACKed)",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.SETTINGS).filter((f) => f.flags & FLAG.ACK).length).toBe(1) },
    run: (p) => p.send(settingsFrame([[3, 10]])),
  },

  // ---- 6.7 PING
  {
    section: "6.7.1",
    title: "Sends a PING frame (ACK with the same payload)",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.PING).map((f) => [f.flags, f.payload.toString()])).toEqual([[FLAG.ACK, "h2spec!!"]]) },
    run: (p) => p.send(pingFrame(Buffer.from("h2spec!!"))),
  },
  {
    section: "6.7.2",
    title: "Sends a PING frame with ACK (no answer)",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.PING).length).toBe(0) },
    run: (p) => p.send(pingFrame(Buffer.from("h2spec!!"), true)),
  },
  { section: "6.7.3", title: "Sends a PING frame with a stream identifier field value other than 0x0", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(rawFrame(FRAME.PING, 0, 1, Buffer.alloc(8))) },
  { section: "6.7.4", title: "Sends a PING frame with a length field value other than 8", expect: { goaway: "FRAME_SIZE_ERROR" }, run: (p) => p.send(rawFrame(FRAME.PING, 0, 0, Buffer.alloc(9))) },

  // ---- 6.8 GOAWAY
  { section: "6.8.1", title: "Sends a GOAWAY frame with a stream identifier other than 0x0", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(rawFrame(FRAME.GOAWAY, 0, 1, Buffer.alloc(8))) },

  {
    section: "6.8 (ours)",
    title: "a stream the client opens after our GOAWAY is ignored, and so is its DATA",
    server: "silent",
    expect: { ok: (p) => (expect(p.events.heads.map((h) => h.id)).toEqual([1]), expect(p.session.isDead).toBe(false)) },
    run: (p) => {
      p.send(p.headers(1, POST));
      p.session.goaway();
      expect(p.goaway()).toEqual({ lastStreamId: 1, code: "NO_ERROR", debug: "" });
      p.received.length = 0;
      p.send(p.headers(3, POST), dataFrame(3, Buffer.from("ignored")), dataFrame(1, Buffer.from("still served")));
      expect(p.events.bodies.get(1)?.toString()).toBe("still served");
      p.session.goaway(); // a second GOAWAY never raises the last-stream-id
      expect(p.goaway()?.lastStreamId).toBe(1);
      p.received.length = 0;
    },
  },

  // ---- 6.9 WINDOW_UPDATE
  { section: "6.9.1", title: "Sends a WINDOW_UPDATE frame with a flow control window increment of 0", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(windowUpdateFrame(0, 0)) },
  {
    section: "6.9.2",
    title: "Sends a WINDOW_UPDATE frame with a flow control window increment of 0 on a stream",
    server: "silent",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p) => p.send(p.headers(1, POST), windowUpdateFrame(1, 0)),
  },
  { section: "6.9.3", title: "Sends a WINDOW_UPDATE frame with a length other than 4 octets", expect: { goaway: "FRAME_SIZE_ERROR" }, run: (p) => p.send(rawFrame(FRAME.WINDOW_UPDATE, 0, 0, Buffer.alloc(3))) },
  {
    section: "6.9.1.1",
    title: "Sends SETTINGS frame to set the initial window size to 1 and sends HEADERS frame (one DATA byte)",
    server: "silent",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.DATA).map((f) => f.payload.toString())).toEqual(["h"]) },
    run: (p) => {
      p.send(settingsFrame([[4, 1]]), p.headers(1, GET, { endStream: true }));
      p.session.respond(1, [":status", "200"]);
      p.session.sendData(1, Buffer.from("hello"), true);
    },
  },
  {
    section: "6.9.1.2",
    title: "Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1",
    expect: { goaway: "FLOW_CONTROL_ERROR" },
    run: (p) => p.send(windowUpdateFrame(0, 0x7fffffff), windowUpdateFrame(0, 0x7fffffff)),
  },
  {
    section: "6.9.1.3",
    title: "Sends multiple WINDOW_UPDATE frames increasing the flow control window to above 2^31-1 on a stream",
    server: "silent",
    expect: { rst: [1, "FLOW_CONTROL_ERROR"] },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), windowUpdateFrame(1, 0x7fffffff), windowUpdateFrame(1, 0x7fffffff)),
  },
  {
    section: "6.9.2.1",
    title: "Changes SETTINGS_INITIAL_WINDOW_SIZE after sending HEADERS frame (the window shrinks, then resumes)",
    server: "silent",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.DATA).map((f) => f.payload.length)).toEqual([10, 90]) },
    run: (p) => {
      p.send(settingsFrame([[4, 10]]), p.headers(1, GET, { endStream: true }));
      p.session.respond(1, [":status", "200"]);
      p.session.sendData(1, Buffer.alloc(100), true);
      p.send(settingsFrame([[4, 100]]));
    },
  },
  {
    section: "6.9.2.2",
    title: "Sends a SETTINGS frame for window size to be negative (nothing is sent until WINDOW_UPDATE makes it positive)",
    server: "silent",
    expect: { ok: (p) => expect(p.framesOfType(FRAME.DATA).map((f) => f.payload.length)).toEqual([50, 20]) },
    run: (p) => {
      p.send(settingsFrame([[4, 50]]), p.headers(1, GET, { endStream: true }));
      p.session.respond(1, [":status", "200"]);
      p.session.sendData(1, Buffer.alloc(70), true); // 50 go, 20 wait
      p.send(settingsFrame([[4, 20]])); // window 0 - 30 = -30
      expect(p.session.sendWindow(1)).toBe(-30);
      p.send(windowUpdateFrame(1, 30)); // back to 0: still nothing
      expect(p.framesOfType(FRAME.DATA).length).toBe(1);
      p.send(windowUpdateFrame(1, 20));
    },
  },
  {
    section: "6.9.2.3",
    title: "Sends a SETTINGS_INITIAL_WINDOW_SIZE settings with an exceeded maximum window size value",
    expect: { goaway: "FLOW_CONTROL_ERROR" },
    run: (p) => p.send(settingsFrame([[4, 2 ** 31]])),
  },
  {
    section: "6.9.2 (ours)",
    title: "a SETTINGS_INITIAL_WINDOW_SIZE increase that overflows an open stream's window",
    server: "silent",
    expect: { goaway: "FLOW_CONTROL_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), windowUpdateFrame(1, 0x7fffffff - 65_535), settingsFrame([[4, 65_536]])),
  },
  {
    section: "6.9 (ours)",
    title: "DATA beyond the stream's receive window",
    server: "silent",
    expect: { rst: [1, "FLOW_CONTROL_ERROR"] },
    settings: { initialWindowBytes: 65_535 },
    run: (p) => {
      p.send(p.headers(1, POST));
      for (let i = 0; i < 4; i++) p.send(dataFrame(1, Buffer.alloc(16_384)));
    },
  },
  {
    section: "6.9 (ours)",
    title: "DATA beyond the connection's receive window (unconsumed bytes of a finished stream still count)",
    server: "silent",
    expect: { goaway: "FLOW_CONTROL_ERROR" },
    settings: { maxConcurrentStreams: 2 },
    run: (p) => {
      // Connection window = 2 × 65535. Stream 1 fills its window and finishes, unread; stream 3 fills its
      // own; stream 5 (allowed once 1 closed) has no connection window left.
      const fill = (id: number, end: boolean) =>
        p.send(dataFrame(id, Buffer.alloc(16_384)), dataFrame(id, Buffer.alloc(16_384)), dataFrame(id, Buffer.alloc(16_384)), dataFrame(id, Buffer.alloc(16_383), { endStream: end }));
      p.send(p.headers(1, POST));
      fill(1, true);
      p.session.respond(1, [":status", "200"], true);
      expect(p.session.unconsumedBytes(1)).toBe(65_535);
      p.send(p.headers(3, POST));
      fill(3, false);
      p.send(p.headers(5, POST), dataFrame(5, Buffer.from("x")));
    },
  },

  // ---- 6.10 CONTINUATION
  {
    section: "6.10.1",
    title: "Sends multiple CONTINUATION frames preceded by a HEADERS frame",
    server: "respond",
    expect: { ok: (p) => expect(p.events.heads[0]!.headers.slice(-2)).toEqual(["x-c", "yes"]) },
    run: (p) => {
      const b = block(p, [...GET, "x-c", "yes"]);
      p.send(headersFrame(1, b.subarray(0, 3), { endStream: true, endHeaders: false }), continuationFrame(1, b.subarray(3, 6), false), continuationFrame(1, b.subarray(6), true));
    },
  },
  {
    section: "6.10.2",
    title: "Sends a CONTINUATION frame followed by any frame other than CONTINUATION",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => {
      const b = block(p, GET);
      p.send(headersFrame(1, b.subarray(0, 2), { endHeaders: false }), continuationFrame(1, b.subarray(2, 4), false), dataFrame(1, Buffer.from("x")));
    },
  },
  {
    section: "6.10.3",
    title: "Sends a CONTINUATION frame with 0x0 stream identifier",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => {
      const b = block(p, GET);
      p.send(headersFrame(1, b.subarray(0, 2), { endHeaders: false }), continuationFrame(0, b.subarray(2), true));
    },
  },
  {
    section: "6.10.4",
    title: "Sends a CONTINUATION frame preceded by a HEADERS frame with END_HEADERS flag",
    server: "silent",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, GET, { endStream: true }), continuationFrame(1, block(p, ["x-a", "b"]), true)),
  },
  {
    section: "6.10.5",
    title: "Sends a CONTINUATION frame preceded by a CONTINUATION frame with END_HEADERS flag",
    server: "silent",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => {
      const b = block(p, GET);
      p.send(headersFrame(1, b.subarray(0, 2), { endStream: true, endHeaders: false }), continuationFrame(1, b.subarray(2), true), continuationFrame(1, block(p, ["x-a", "b"]), true));
    },
  },
  {
    section: "6.10.6",
    title: "Sends a CONTINUATION frame preceded by a DATA frame",
    server: "silent",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(1, POST), dataFrame(1, Buffer.from("x")), continuationFrame(1, block(p, ["x-a", "b"]), true)),
  },
  {
    section: "6.10 (ours)",
    title: "a flood of empty CONTINUATION frames",
    expect: { goaway: "ENHANCE_YOUR_CALM" },
    run: (p) => {
      p.send(headersFrame(1, Buffer.alloc(0), { endHeaders: false }));
      for (let i = 0; i < 100 && p.goaway() === null; i++) p.send(continuationFrame(1, Buffer.alloc(0), false));
    },
  },

  // ---- 8.1 HTTP Request/Response Exchange
  {
    section: "8.1.1",
    title: "Sends a second HEADERS frame without the END_STREAM flag",
    server: "silent",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p) => p.send(p.headers(1, POST), p.headers(1, ["x-trailer", "1"])),
  },
  ...malformedRequests(),
  {
    section: "8.1.2.6.1",
    title: 'Sends a HEADERS frame with the "content-length" header field which does not equal the DATA frame payload length',
    server: "silent",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p) => p.send(p.headers(1, [...POST, "content-length", "1"]), dataFrame(1, Buffer.from("test"), { endStream: true })),
  },
  {
    section: "8.1.2.6.2",
    title: 'Sends a HEADERS frame with the "content-length" header field which does not equal the sum of the multiple DATA frames payload length',
    server: "silent",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p) => p.send(p.headers(1, [...POST, "content-length", "10"]), dataFrame(1, Buffer.from("test")), dataFrame(1, Buffer.from("test"), { endStream: true })),
  },
  {
    section: "8.1 (ours)",
    title: "a request header list larger than SETTINGS_MAX_HEADER_LIST_SIZE is answered 431 by the session; the HPACK state survives",
    settings: { maxHeaderListBytes: 1024 },
    server: "respond",
    expect: {
      ok: (p) => {
        expect(p.resets()).toEqual([]);
        const h = p.framesOfType(FRAME.HEADERS).find((f) => f.streamId === 1)!;
        expect(p.hasFlag(h, FLAG.END_STREAM)).toBe(true);
        expect(decodeBlock(h.payload)).toEqual([":status", "431"]);
        expect(p.events.heads.map((x) => x.id)).toEqual([3]);
      },
    },
    run: (p) => p.send(p.headers(1, [...GET, "x-big", "b".repeat(2000)], { endStream: true }), p.headers(3, GET, { endStream: true })),
  },
  {
    section: "8.1 (ours)",
    title: "an over-large request header list still sending its body: 431, then RST_STREAM(NO_ERROR); its DATA is ignored",
    settings: { maxHeaderListBytes: 1024 },
    server: "respond",
    expect: {
      ok: (p) => {
        expect(p.resets()).toEqual([[1, "NO_ERROR"]]);
        expect(p.goaway()).toBeNull();
        expect(p.events.heads.map((x) => x.id)).toEqual([3]);
      },
    },
    run: (p) => p.send(p.headers(1, [...POST, "x-big", "b".repeat(2000)]), dataFrame(1, Buffer.from("late"), { endStream: true }), p.headers(3, GET, { endStream: true })),
  },
  {
    section: "8.1 (ours)",
    title: "over-large trailers still reset the stream (PROTOCOL_ERROR): the response may have begun",
    settings: { maxHeaderListBytes: 1024 },
    server: "silent",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p) => p.send(p.headers(1, POST), p.headers(1, ["x-big", "b".repeat(2000)], { endStream: true })),
  },

  // ---- 8.2 Server Push
  { section: "8.2.1", title: "Sends a PUSH_PROMISE frame (to a server)", expect: { goaway: "PROTOCOL_ERROR" }, run: (p) => p.send(p.headers(1, GET, { endStream: true }), pushPromiseFrame(1, 2, block(p, GET))) },

  // ---- HPACK (h2spec "hpack" group)
  {
    section: "hpack 2.3.3.1",
    title: "Sends a indexed header field representation with invalid index",
    expect: { goaway: "COMPRESSION_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.from([0x82, 0x86, 0x84, 0xbe]), { endStream: true })),
  },
  {
    section: "hpack 2.3.3.2",
    title: "Sends a literal header field representation with invalid index",
    expect: { goaway: "COMPRESSION_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.from([0x82, 0x86, 0x84, 0x7e, 0x01, 0x61]), { endStream: true })),
  },
  {
    section: "hpack 4.2.1",
    title: "Sends a dynamic table size update at the end of header block",
    expect: { goaway: "COMPRESSION_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.concat([block(p, GET), Buffer.from([0x3f, 0xe1, 0x1f])]), { endStream: true })),
  },
  {
    section: "hpack 5.2.1",
    title: "Sends a Huffman-encoded string literal representation with padding longer than 7 bits",
    expect: { goaway: "COMPRESSION_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.concat([block(p, GET), Buffer.from([0x40, 0x83, 0x8d, 0x6b, 0xff, 0x81, 0x00])]), { endStream: true })),
  },
  {
    section: "hpack 5.2.2",
    title: "Sends a Huffman-encoded string literal representation padded by zero",
    expect: { goaway: "COMPRESSION_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.concat([block(p, GET), Buffer.from([0x40, 0x82, 0x8d, 0x68, 0x81, 0x00])]), { endStream: true })),
  },
  {
    section: "hpack 5.2.3",
    title: "Sends a Huffman-encoded string literal representation containing the EOS symbol",
    expect: { goaway: "COMPRESSION_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.concat([block(p, GET), Buffer.from([0x40, 0x84, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00])]), { endStream: true })),
  },
  {
    section: "hpack 6.1.1",
    title: "Sends a indexed header field representation with index 0",
    expect: { goaway: "COMPRESSION_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.from([0x82, 0x86, 0x84, 0x80]), { endStream: true })),
  },
  {
    section: "hpack 6.3.1",
    title: "Sends a dynamic table size update larger than the value of SETTINGS_HEADER_TABLE_SIZE",
    expect: { goaway: "COMPRESSION_ERROR" },
    run: (p) => p.send(headersFrame(1, Buffer.concat([Buffer.from([0x3f, 0xe2, 0x1f]), block(p, GET)]), { endStream: true })),
  },

  // ---- the client role
  {
    section: "client 6.5.2",
    title: "a server sends SETTINGS_ENABLE_PUSH = 1",
    role: "client",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(settingsFrame([[2, 1]])),
  },
  {
    section: "client 8.4",
    title: "a server sends PUSH_PROMISE although the client disabled push",
    role: "client",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => {
      const id = p.session.request(GET, true);
      p.send(pushPromiseFrame(id, 2, block(p, GET)));
    },
  },
  {
    section: "client 8.3.2",
    title: "a response without :status",
    role: "client",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p) => {
      p.session.request(GET, true);
      p.send(p.headers(1, ["content-type", "text/plain"], { endStream: true }));
    },
  },
  {
    section: "client 8.1",
    title: "DATA before the response head",
    role: "client",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p) => {
      p.session.request(GET, true);
      p.send(dataFrame(1, Buffer.from("x")));
    },
  },
  {
    section: "client 5.1",
    title: "HEADERS on a stream the client never opened",
    role: "client",
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(p.headers(3, [":status", "200"], { endStream: true })),
  },
  {
    section: "client 3.4",
    title: "the server's first frame is not SETTINGS",
    role: "client",
    handshake: false,
    expect: { goaway: "PROTOCOL_ERROR" },
    run: (p) => p.send(pingFrame(Buffer.alloc(8))),
  },
];

/** h2spec 8.1.2.x: malformed request heads, each a stream error PROTOCOL_ERROR. */
function malformedRequests(): Case[] {
  const base = [":method", "POST", ":scheme", "http", ":path", "/", ":authority", "a"];
  const drop = (name: string) => {
    const out: string[] = [];
    for (let i = 0; i < base.length; i += 2) if (base[i] !== name) out.push(base[i]!, base[i + 1]!);
    return out;
  };
  const rows: Array<[string, string, string[]]> = [
    ["8.1.2.1", "Sends a HEADERS frame that contains the header field name in uppercase letters", [...base, "X-Upper", "1"]],
    ["8.1.2.1.1", "Sends a HEADERS frame that contains a unknown pseudo-header field", [...base, ":unknown", "1"]],
    ["8.1.2.1.2", "Sends a HEADERS frame that contains the pseudo-header field defined for response", [...base, ":status", "200"]],
    ["8.1.2.1.4", "Sends a HEADERS frame that contains a pseudo-header field that appears in a header block after a regular header field", [":method", "GET", ":scheme", "http", "x-a", "1", ":path", "/"]],
    ["8.1.2.2.1", "Sends a HEADERS frame that contains the connection-specific header field", [...base, "connection", "keep-alive"]],
    ["8.1.2.2.2", 'Sends a HEADERS frame that contains the TE header field with any value other than "trailers"', [...base, "te", "trailers, deflate"]],
    ["8.1.2.3.1", 'Sends a HEADERS frame with empty ":path" pseudo-header field', [":method", "GET", ":scheme", "http", ":path", "", ":authority", "a"]],
    ["8.1.2.3.2", 'Sends a HEADERS frame that omits ":method" pseudo-header field', drop(":method")],
    ["8.1.2.3.3", 'Sends a HEADERS frame that omits ":scheme" pseudo-header field', drop(":scheme")],
    ["8.1.2.3.4", 'Sends a HEADERS frame that omits ":path" pseudo-header field', drop(":path")],
    ["8.1.2.3.5", 'Sends a HEADERS frame with duplicated ":method" pseudo-header field', [...base.slice(0, 2), ":method", "GET", ...base.slice(2)]],
    ["8.1.2.3.6", 'Sends a HEADERS frame with duplicated ":scheme" pseudo-header field', [...base.slice(0, 4), ":scheme", "https", ...base.slice(4)]],
    ["8.1.2.3.7", 'Sends a HEADERS frame with duplicated ":path" pseudo-header field', [...base.slice(0, 6), ":path", "/x", ...base.slice(6)]],
    ["8.1.2 (ours)", "a field value with a line feed", [...base, "x-a", "b\nc"]],
    ["8.1.2 (ours)", "a field value with a carriage return", [...base, "x-a", "b\rc"]],
    ["8.1.2 (ours)", "a field value with a NUL", [...base, "x-a", "b\u0000c"]],
    ["8.1.2 (ours)", "CONNECT with :path", [":method", "CONNECT", ":authority", "a:443", ":path", "/"]],
  ];
  const cases: Case[] = rows.map(([section, title, headers]) => ({
    section,
    title,
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p: RawPeer) => p.send(p.headers(1, headers, { endStream: true })),
  }));
  cases.push({
    section: "8.1.2.1.3",
    title: "Sends a HEADERS frame that contains a pseudo-header field as trailers",
    server: "silent",
    expect: { rst: [1, "PROTOCOL_ERROR"] },
    run: (p) => p.send(p.headers(1, POST), p.headers(1, [":path", "/"], { endStream: true })),
  });
  return cases;
}

function serverHandler(mode: Case["server"], getPeer: () => RawPeer): SessionHandler {
  if (mode !== "respond") return {};
  return { onHeaders: (id, _h, kind, endStream) => kind === "request" && endStream && getPeer().session.respond(id, [":status", "200"], true) };
}

describe("h2spec-style conformance", () => {
  for (const c of CASES) {
    const answer = "goaway" in c.expect ? `GOAWAY ${c.expect.goaway}` : "rst" in c.expect ? `RST_STREAM ${c.expect.rst[1]}` : "accepted";
    test(`${c.section} ${c.title} → ${answer}`, () => {
      let peer!: RawPeer;
      peer = new RawPeer({ role: c.role ?? "server", settings: c.settings, handshake: c.handshake, handler: serverHandler(c.server, () => peer) });
      c.run(peer);
      const e = c.expect;
      if ("goaway" in e) {
        expect(peer.goaway()?.code).toBe(e.goaway);
        expect(peer.session.isDead).toBe(true);
        expect(peer.events.errors.length).toBe(1);
        expect(peer.events.errors[0]!.code).toBe(H2_ERROR[e.goaway]);
      } else if ("rst" in e) {
        expect(peer.goaway()).toBeNull();
        expect(peer.resets()).toContainEqual(e.rst);
        expect(peer.session.isDead).toBe(false);
      } else {
        expect(peer.goaway()).toBeNull();
        e.ok(peer);
      }
    });
  }

  test("3.5.1 the client preface split at every byte is accepted", () => {
    const peer = new RawPeer({ handshake: false });
    for (const b of CLIENT_PREFACE) peer.send(Buffer.from([b]));
    peer.send(settingsFrame([]));
    expect(peer.goaway()).toBeNull();
    expect(peer.framesOfType(FRAME.SETTINGS).length).toBe(2); // its SETTINGS and the ACK of ours
  });

  test("6.8 GOAWAY from the client: the server learns it and keeps serving open streams", () => {
    let peer!: RawPeer;
    peer = new RawPeer({ handler: serverHandler("respond", () => peer) });
    peer.send(peer.headers(1, GET, { endStream: true }), goawayFrame(1, H2_ERROR.NO_ERROR));
    expect(peer.events.goaways).toEqual([{ lastStreamId: 1, code: 0, debug: "" }]);
    expect(peer.framesOfType(FRAME.HEADERS).length).toBe(1);
  });
});

