// The frame codec: every frame type serialized and parsed back (fed whole, byte by byte and in random
// splits), DATA payloads as views over the input, unknown types skipped, and each stateless RFC 9113
// rule refused with its error code and scope.
import { describe, expect, test } from "bun:test";

import { H2_ERROR, H2Error } from "../../../src/h2/errors.ts";
import { FLAG, FRAME } from "../../../src/h2/frame-types.ts";
import { forEachSetting, type FrameSink, FrameReader, type FrameView } from "../../../src/h2/frames-reader.ts";
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
  settingsAckFrame,
  settingsFrame,
  windowUpdateFrame,
} from "../../../src/h2/frames-writer.ts";
import { prng } from "../../support/prng.ts";

/** A frame copied out of the reused view. */
interface Seen {
  type: number;
  flags: number;
  streamId: number;
  length: number;
  payload: string;
  extra: Record<string, unknown>;
}

function snapshot(f: FrameView): Seen {
  const extra: Record<string, unknown> = {};
  if (f.type === FRAME.HEADERS && f.hasPriority) Object.assign(extra, { exclusive: f.exclusive, dependency: f.dependency, weight: f.weight });
  if (f.type === FRAME.PRIORITY) Object.assign(extra, { exclusive: f.exclusive, dependency: f.dependency, weight: f.weight });
  if (f.type === FRAME.RST_STREAM) extra.errorCode = f.errorCode;
  if (f.type === FRAME.GOAWAY) Object.assign(extra, { lastStreamId: f.lastStreamId, errorCode: f.errorCode });
  if (f.type === FRAME.WINDOW_UPDATE) extra.windowIncrement = f.windowIncrement;
  if (f.type === FRAME.PUSH_PROMISE) extra.promisedStreamId = f.promisedStreamId;
  return { type: f.type, flags: f.flags, streamId: f.streamId, length: f.length, payload: Buffer.from(f.payload).toString("hex"), extra };
}

function collect(seen: Seen[], errors: H2Error[] = []): FrameSink {
  return { frame: (f) => seen.push(snapshot(f)), streamError: (e) => errors.push(e) };
}

function parseAll(bytes: Uint8Array, splits: number[] = []): Seen[] {
  const reader = new FrameReader();
  const seen: Seen[] = [];
  const sink = collect(seen);
  let at = 0;
  for (const cut of [...splits, bytes.length]) {
    reader.push(bytes.subarray(at, cut), sink);
    at = cut;
  }
  expect(reader.bufferedBytes).toBe(0);
  return seen;
}

/** The error one frame raises (thrown connection errors, or stream errors reported to the sink). */
function errorOf(bytes: Uint8Array, maxFrameBytes?: number): H2Error {
  const reader = new FrameReader();
  if (maxFrameBytes !== undefined) reader.maxFrameBytes = maxFrameBytes;
  const errors: H2Error[] = [];
  try {
    reader.push(bytes, collect([], errors));
  } catch (err) {
    expect(err).toBeInstanceOf(H2Error);
    return err as H2Error;
  }
  expect(errors.length).toBe(1);
  return errors[0]!;
}

const block = Buffer.from("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d".replace(/ /g, ""), "hex");

const ALL = Buffer.concat([
  dataFrame(1, Buffer.from("hello"), { endStream: true }),
  dataFrame(3, Buffer.from("padded body"), { padBytes: 7 }),
  dataFrame(5, Buffer.alloc(0)),
  headersFrame(1, block, { endStream: false }),
  headersFrame(3, block, { padBytes: 3, priority: { exclusive: true, dependency: 1, weight: 256 }, endHeaders: false }),
  continuationFrame(3, block, true),
  priorityFrame(7, { exclusive: false, dependency: 3, weight: 16 }),
  rstStreamFrame(1, H2_ERROR.CANCEL),
  settingsFrame([[1, 8192], [4, 1 << 20], [5, 1 << 15], [0xff, 7]]),
  settingsAckFrame(),
  pushPromiseFrame(1, 2, block, { padBytes: 2 }),
  pingFrame(Buffer.from("01234567")),
  pingFrame(Buffer.from("abcdefgh"), true),
  goawayFrame(9, H2_ERROR.ENHANCE_YOUR_CALM, Buffer.from("calm down")),
  windowUpdateFrame(0, 0x7fffffff),
  windowUpdateFrame(3, 1),
]);

describe("round trips", () => {
  const expected = [
    { type: FRAME.DATA, flags: FLAG.END_STREAM, streamId: 1, length: 5, payload: Buffer.from("hello").toString("hex"), extra: {} },
    { type: FRAME.DATA, flags: FLAG.PADDED, streamId: 3, length: 1 + 11 + 7, payload: Buffer.from("padded body").toString("hex"), extra: {} },
    { type: FRAME.DATA, flags: 0, streamId: 5, length: 0, payload: "", extra: {} },
    { type: FRAME.HEADERS, flags: FLAG.END_HEADERS, streamId: 1, length: block.length, payload: block.toString("hex"), extra: {} },
    {
      type: FRAME.HEADERS,
      flags: FLAG.PADDED | FLAG.PRIORITY,
      streamId: 3,
      length: 1 + 5 + block.length + 3,
      payload: block.toString("hex"),
      extra: { exclusive: true, dependency: 1, weight: 256 },
    },
    { type: FRAME.CONTINUATION, flags: FLAG.END_HEADERS, streamId: 3, length: block.length, payload: block.toString("hex"), extra: {} },
    { type: FRAME.PRIORITY, flags: 0, streamId: 7, length: 5, payload: "000000030f", extra: { exclusive: false, dependency: 3, weight: 16 } },
    { type: FRAME.RST_STREAM, flags: 0, streamId: 1, length: 4, payload: "00000008", extra: { errorCode: H2_ERROR.CANCEL } },
  ];

  test("every frame type, whole", () => {
    const seen = parseAll(ALL);
    expect(seen.length).toBe(16);
    expect(seen.slice(0, 8)).toEqual(expected);
    const settings: Array<[number, number]> = [];
    const settingsView = Buffer.from(seen[8]!.payload, "hex");
    forEachSetting(settingsView, (id, value) => settings.push([id, value]));
    expect(settings).toEqual([[1, 8192], [4, 1 << 20], [5, 1 << 15], [0xff, 7]]);
    expect(seen[9]).toMatchObject({ type: FRAME.SETTINGS, flags: FLAG.ACK, length: 0 });
    expect(seen[10]).toMatchObject({ type: FRAME.PUSH_PROMISE, streamId: 1, payload: block.toString("hex"), extra: { promisedStreamId: 2 } });
    expect(seen[11]).toMatchObject({ type: FRAME.PING, flags: 0, payload: Buffer.from("01234567").toString("hex") });
    expect(seen[12]).toMatchObject({ type: FRAME.PING, flags: FLAG.ACK });
    expect(seen[13]).toMatchObject({ type: FRAME.GOAWAY, payload: Buffer.from("calm down").toString("hex"), extra: { lastStreamId: 9, errorCode: H2_ERROR.ENHANCE_YOUR_CALM } });
    expect(seen[14]).toMatchObject({ type: FRAME.WINDOW_UPDATE, streamId: 0, extra: { windowIncrement: 0x7fffffff } });
    expect(seen[15]).toMatchObject({ type: FRAME.WINDOW_UPDATE, streamId: 3, extra: { windowIncrement: 1 } });
  });

  test("byte by byte, and at 500 seeded random splits, the same frames come out", () => {
    const whole = parseAll(ALL);
    expect(parseAll(ALL, Array.from({ length: ALL.length - 1 }, (_, i) => i + 1))).toEqual(whole);
    const next = prng(0xf00d);
    for (let i = 0; i < 500; i++) {
      const cuts = Array.from({ length: 1 + (next() % 12) }, () => next() % ALL.length).sort((a, b) => a - b);
      expect(parseAll(ALL, cuts)).toEqual(whole);
    }
  });

  test("a DATA payload inside one input chunk is a view over it (no copy)", () => {
    const bytes = dataFrame(1, Buffer.from("zero-copy"));
    const reader = new FrameReader();
    let payload: Uint8Array | null = null;
    reader.push(bytes, { frame: (f) => void (payload = f.payload), streamError: () => {} });
    expect(payload!.buffer).toBe(bytes.buffer);
    expect(Buffer.from(payload!).toString()).toBe("zero-copy");
  });

  test("unknown frame types pass unchecked, whatever their flags and stream (the session ignores them)", () => {
    const bytes = Buffer.concat([rawFrame(0xfa, 0xff, 0, Buffer.from("ext")), rawFrame(0x0b, 0, 3), pingFrame(Buffer.alloc(8))]);
    expect(parseAll(bytes).map((f) => [f.type, f.flags, f.streamId, f.payload])).toEqual([
      [0xfa, 0xff, 0, Buffer.from("ext").toString("hex")],
      [0x0b, 0, 3, ""],
      [FRAME.PING, 0, 0, "0000000000000000"],
    ]);
  });

  test("frames up to SETTINGS_MAX_FRAME_SIZE pass; the limit can be raised", () => {
    expect(parseAll(dataFrame(1, Buffer.alloc(16_384)))[0]!.length).toBe(16_384);
    const reader = new FrameReader();
    reader.maxFrameBytes = 1 << 20;
    const seen: Seen[] = [];
    reader.push(dataFrame(1, Buffer.alloc(100_000)), collect(seen));
    expect(seen[0]!.length).toBe(100_000);
  });
});

describe("stateless validation (RFC 9113 §4–§6)", () => {
  const cases: Array<[string, Uint8Array, number, "connection" | "stream", number?]> = [
    ["§4.2 frame larger than SETTINGS_MAX_FRAME_SIZE", dataFrame(1, Buffer.alloc(16_385)), H2_ERROR.FRAME_SIZE_ERROR, "connection"],
    ["§6.1 DATA on stream 0", rawFrame(FRAME.DATA, 0, 0, Buffer.from("x")), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.1 DATA padding as long as the payload", rawFrame(FRAME.DATA, FLAG.PADDED, 1, Buffer.from([4, 0, 0, 0])), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.1 PADDED DATA without a pad length", rawFrame(FRAME.DATA, FLAG.PADDED, 1), H2_ERROR.FRAME_SIZE_ERROR, "connection"],
    ["§6.2 HEADERS on stream 0", headersFrame(0, block), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.2 HEADERS padding longer than the payload", rawFrame(FRAME.HEADERS, FLAG.PADDED | FLAG.END_HEADERS, 1, Buffer.from([9, 0x82])), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.2 HEADERS too short for its priority fields", rawFrame(FRAME.HEADERS, FLAG.PRIORITY | FLAG.END_HEADERS, 1, Buffer.from([0, 0, 0])), H2_ERROR.FRAME_SIZE_ERROR, "connection"],
    ["§6.3 PRIORITY on stream 0", priorityFrame(0, { exclusive: false, dependency: 1, weight: 1 }), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.3 PRIORITY of 4 bytes", rawFrame(FRAME.PRIORITY, 0, 1, Buffer.alloc(4)), H2_ERROR.FRAME_SIZE_ERROR, "stream", 1],
    ["§5.3.1 PRIORITY depending on itself", priorityFrame(3, { exclusive: false, dependency: 3, weight: 1 }), H2_ERROR.PROTOCOL_ERROR, "stream", 3],
    ["§6.4 RST_STREAM on stream 0", rstStreamFrame(0, 0), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.4 RST_STREAM of 3 bytes", rawFrame(FRAME.RST_STREAM, 0, 1, Buffer.alloc(3)), H2_ERROR.FRAME_SIZE_ERROR, "connection"],
    ["§6.5 SETTINGS on stream 1", rawFrame(FRAME.SETTINGS, 0, 1), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.5 SETTINGS of 5 bytes", rawFrame(FRAME.SETTINGS, 0, 0, Buffer.alloc(5)), H2_ERROR.FRAME_SIZE_ERROR, "connection"],
    ["§6.5 SETTINGS ACK with a payload", rawFrame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(6)), H2_ERROR.FRAME_SIZE_ERROR, "connection"],
    ["§6.5.2 ENABLE_PUSH = 2", settingsFrame([[2, 2]]), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.5.2 INITIAL_WINDOW_SIZE = 2^31", settingsFrame([[4, 0x80000000]]), H2_ERROR.FLOW_CONTROL_ERROR, "connection"],
    ["§6.5.2 MAX_FRAME_SIZE = 16383", settingsFrame([[5, 16_383]]), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.5.2 MAX_FRAME_SIZE = 2^24", settingsFrame([[5, 1 << 24]]), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.6 PUSH_PROMISE on stream 0", pushPromiseFrame(0, 2, block), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.7 PING on stream 1", rawFrame(FRAME.PING, 0, 1, Buffer.alloc(8)), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.7 PING of 7 bytes", rawFrame(FRAME.PING, 0, 0, Buffer.alloc(7)), H2_ERROR.FRAME_SIZE_ERROR, "connection"],
    ["§6.8 GOAWAY on stream 1", rawFrame(FRAME.GOAWAY, 0, 1, Buffer.alloc(8)), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.8 GOAWAY of 7 bytes", rawFrame(FRAME.GOAWAY, 0, 0, Buffer.alloc(7)), H2_ERROR.FRAME_SIZE_ERROR, "connection"],
    ["§6.9 WINDOW_UPDATE of 3 bytes", rawFrame(FRAME.WINDOW_UPDATE, 0, 0, Buffer.alloc(3)), H2_ERROR.FRAME_SIZE_ERROR, "connection"],
    ["§6.9 WINDOW_UPDATE increment 0 on the connection", windowUpdateFrame(0, 0), H2_ERROR.PROTOCOL_ERROR, "connection"],
    ["§6.9 WINDOW_UPDATE increment 0 on a stream", windowUpdateFrame(5, 0), H2_ERROR.PROTOCOL_ERROR, "stream", 5],
    ["§6.10 CONTINUATION on stream 0", continuationFrame(0, block, true), H2_ERROR.PROTOCOL_ERROR, "connection"],
  ];
  for (const [name, bytes, code, scope, streamId] of cases) {
    test(`${name} → ${scope} ${Object.entries(H2_ERROR).find(([, v]) => v === code)![0]}`, () => {
      const err = errorOf(bytes);
      expect({ code: err.code, scope: err.scope }).toEqual({ code, scope });
      if (streamId !== undefined) expect(err.streamId).toBe(streamId);
    });
  }

  test("an oversized frame is refused from its header alone, before its payload arrives", () => {
    const bytes = dataFrame(1, Buffer.alloc(1 << 20)).subarray(0, 9);
    expect(errorOf(bytes).code).toBe(H2_ERROR.FRAME_SIZE_ERROR);
  });

  test("HEADERS depending on itself is flagged (the session decodes the block, then resets the stream)", () => {
    const reader = new FrameReader();
    let self = false;
    reader.push(headersFrame(3, block, { priority: { exclusive: false, dependency: 3, weight: 1 } }), { frame: (f) => void (self = f.selfDependent), streamError: () => {} });
    expect(self).toBe(true);
  });

  test("a stream error in one frame does not stop the frames after it", () => {
    const reader = new FrameReader();
    const seen: Seen[] = [];
    const errors: H2Error[] = [];
    reader.push(Buffer.concat([windowUpdateFrame(1, 0), pingFrame(Buffer.alloc(8))]), collect(seen, errors));
    expect(errors.length).toBe(1);
    expect(seen.map((f) => f.type)).toEqual([FRAME.PING]);
  });
});
