// The tap event encoder against msgpackr, the decoder every client uses: seeded random events of each
// shape (ASCII and non-ASCII strings of every length class, integers of every width, fractions,
// optional fields present and absent, header lists) decode to the event that was encoded, one by one
// and back to back in one frame.
import { expect, test } from "bun:test";
import { unpack, unpackMultiple } from "msgpackr/unpack";
import { TapEventEncoder } from "../../../src/tap/event-encoder.ts";
import type { HeaderPair, TapEvent } from "../../../src/tap/events.ts";
import { randomTapEvents as generator, withoutUndefined } from "../../support/random-tap-events.ts";

const SEED = 20261201;
const ITERATIONS = 2000;

test("every event decodes with msgpackr to what was encoded, one per frame and many per frame", () => {
  const { event } = generator(SEED);
  const batch = new TapEventEncoder(64);
  const expected: Record<string, unknown>[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const e = event();
    const single = new TapEventEncoder(16);
    single.encode(e);
    expect({ i, decoded: unpack(single.bytes.subarray(0, single.length)) }).toEqual({ i, decoded: withoutUndefined(e) });
    batch.encode(e);
    expected.push(withoutUndefined(e));
  }
  expect(batch.events).toBe(ITERATIONS);
  expect(unpackMultiple(batch.bytes.subarray(0, batch.length))).toEqual(expected);
});

test("strings and header lists past 64 KiB take the 32-bit length forms", () => {
  const encoder = new TapEventEncoder();
  const long = "p".repeat(70_000);
  const event: TapEvent = { type: "response", id: 1, sinceRequestMs: 1, status: 200, headers: Array.from({ length: 70_000 }, (_, i) => ["h", String(i)] as HeaderPair) };
  encoder.encode({ type: "error", code: "é".repeat(40_000), message: long });
  encoder.encode(event);
  expect(unpackMultiple(encoder.bytes.subarray(0, encoder.length))).toEqual([{ type: "error", code: "é".repeat(40_000), message: long }, event]);
});

test("dropLast takes back exactly the last event; clear empties the frame", () => {
  const encoder = new TapEventEncoder();
  encoder.encode({ type: "dropped", count: 1 });
  const before = encoder.length;
  encoder.encode({ type: "error", code: "X", message: "y".repeat(1000) });
  encoder.dropLast(before);
  encoder.encode({ type: "dropped", count: 2 });
  expect(encoder.events).toBe(2);
  expect(unpackMultiple(encoder.bytes.subarray(0, encoder.length))).toEqual([
    { type: "dropped", count: 1 },
    { type: "dropped", count: 2 },
  ]);
  encoder.clear();
  expect([encoder.length, encoder.events]).toEqual([0, 0]);
});
