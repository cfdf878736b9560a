// The CLI's tap frame reader against msgpackr: frames of seeded random events (written by the proxy's
// encoder) read to what msgpackr reads, repeated strings come back from the cache unchanged, and bytes
// it does not know — a cut frame, a type the encoder never writes, random mutations — are a
// TapFrameError, never another exception or a hang.
import { expect, test } from "bun:test";
import { pack } from "msgpackr";
import { unpackMultiple } from "msgpackr/unpack";
import { TapEventDecoder, TapFrameError } from "../../../src/tap/event-decoder.ts";
import { TapEventEncoder } from "../../../src/tap/event-encoder.ts";
import { prng } from "../../support/prng.ts";
import { randomTapEvents } from "../../support/random-tap-events.ts";

const SEED = 20261202;

function randomFrame(seed: number, events: number): Uint8Array {
  const { event } = randomTapEvents(seed);
  const encoder = new TapEventEncoder(64);
  for (let i = 0; i < events; i++) encoder.encode(event());
  return encoder.bytes.slice(0, encoder.length);
}

test("frames of random events read as msgpackr reads them, with one decoder reused across frames", () => {
  const decoder = new TapEventDecoder();
  for (let round = 0; round < 20; round++) {
    const frame = randomFrame(SEED + round, 200);
    expect({ round, events: decoder.decodeAll(frame) }).toEqual({ round, events: unpackMultiple(frame) });
  }
});

test("a cached short string is returned only for the same bytes (hash collisions and lengths)", () => {
  const decoder = new TapEventDecoder();
  // Many distinct short ASCII strings, each twice, so slots are shared and overwritten.
  const values = Array.from({ length: 20_000 }, (_, i) => `/p/${i.toString(36)}`);
  const frame = pack([...values, ...values.slice().reverse(), "", "a", "ab", "b", "a"]);
  expect(decoder.decodeAll(frame)).toEqual(unpackMultiple(frame));
});

test("integers, floats, nil and booleans in msgpackr's own encodings read back", () => {
  const values = [0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), 0.5, -1.25e300, null, true, false, { a: [1, { b: "é😀" }] }];
  const frame = new Uint8Array(pack(values));
  expect(new TapEventDecoder().decodeAll(frame)).toEqual([values]);
});

test("a frame cut anywhere is a TapFrameError", () => {
  const frame = randomFrame(SEED, 5);
  const decoder = new TapEventDecoder();
  for (let end = 1; end < frame.length; end++) {
    let error: unknown;
    try {
      decoder.decodeAll(frame.subarray(0, end));
    } catch (err) {
      error = err;
    }
    // A cut may fall between two events: then the frame is simply shorter.
    if (error !== undefined) expect(error).toBeInstanceOf(TapFrameError);
  }
  expect(() => decoder.decodeAll(frame.subarray(0, 1))).toThrow(TapFrameError);
});

test("types the encoder never writes (bin, ext, 64-bit integers, float 32) are a TapFrameError naming the byte", () => {
  for (const bytes of [[0xc4, 1, 0], [0xd4, 1, 0], [0xcf, 0, 0, 0, 0, 0, 0, 0, 1], [0xca, 0, 0, 0, 0], [0xc1]]) {
    expect(() => new TapEventDecoder().decodeAll(new Uint8Array(bytes))).toThrow(/type byte 0x/);
  }
  expect(() => new TapEventDecoder().decodeAll(new Uint8Array([0x81, 0x01, 0x02]))).toThrow(/map key/);
  expect(() => new TapEventDecoder().decodeAll(new Uint8Array([0xa2, 0xff, 0xfe]))).toThrow(/not UTF-8/);
  // A "__proto__" key is an ordinary key, not the object's prototype.
  const [polluted] = new TapEventDecoder().decodeAll(new Uint8Array([0x81, 0xa9, ...new TextEncoder().encode("__proto__"), 0x81, 0xa1, 0x78, 0x01])) as [Record<string, unknown>];
  expect(Object.getPrototypeOf(polluted)).toBe(Object.prototype);
  expect((polluted as { x?: unknown }).x).toBeUndefined();
  expect(Object.keys(polluted)).toEqual(["__proto__"]);
  // A huge declared array length in a small frame fails at once instead of allocating.
  expect(() => new TapEventDecoder().decodeAll(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 1]))).toThrow(TapFrameError);
});

test("seeded mutations of real frames: a TapFrameError or a result, nothing else", () => {
  const next = prng(SEED);
  const base = randomFrame(SEED + 99, 20);
  const decoder = new TapEventDecoder();
  for (let i = 0; i < 3000; i++) {
    const frame = base.slice();
    for (let m = 0; m < 1 + (next() % 4); m++) frame[next() % frame.length] = next() % 256;
    try {
      decoder.decodeAll(frame);
    } catch (err) {
      expect(err).toBeInstanceOf(TapFrameError);
    }
  }
});
