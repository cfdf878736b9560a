// The tap event encoder against msgpackr, the decoder every client uses: seeded random events of each
// shape (ASCII and non-ASCII strings of every length class, integers of every width, fractions,
// optional fields present and absent, header lists) decode to the event that was encoded, one by one
// and back to back in one frame.
import { expect, test } from "bun:test";
import { unpack, unpackMultiple } from "msgpackr/unpack";
import { TapEventEncoder } from "../../../src/tap/event-encoder.ts";
import type { HeaderPair, TapEvent } from "../../../src/tap/events.ts";
import { prng } from "../../support/prng.ts";

const SEED = 20261201;
const ITERATIONS = 2000;

function generator(seed: number) {
  const next = prng(seed);
  const below = (n: number) => next() % n;
  const pick = <T>(xs: readonly T[]): T => xs[below(xs.length)]!;
  const LENGTHS = [0, 1, 5, 31, 32, 63, 64, 65, 200, 255, 256, 300, 1000];
  const ALPHABETS = ["abcXYZ019/-.:?=&", "é€ñ", "😀𝄞", "\u0000\u001f\u007f\u0080\u00ff"];
  const string = (): string => {
    const length = pick(LENGTHS);
    const alphabet = below(4) === 0 ? pick(ALPHABETS) : ALPHABETS[0]!;
    const chars = Array.from(alphabet);
    let s = "";
    while (s.length < length) s += pick(chars);
    return s;
  };
  const NUMBERS = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -129, -(2 ** 31), -(2 ** 31) - 1, 0.5, 12.345, 1_764_547_200_123, -0.25];
  const number = (): number => (below(3) === 0 ? below(1_000_000) / (below(7) + 1) : pick(NUMBERS));
  const maybe = <T>(make: () => T): T | undefined => (below(2) === 0 ? make() : undefined);
  const headers = (): HeaderPair[] => Array.from({ length: pick([0, 1, 3, 15, 16, 40]) }, () => [string(), string()] as HeaderPair);
  const event = (): TapEvent => {
    switch (below(5)) {
      case 0:
        return {
          type: "request",
          id: number(),
          tsMs: number(),
          direction: pick(["inbound", "outbound"] as const),
          tls: pick(["true", "disabled"]),
          clientId: maybe(string),
          source: string(),
          destination: string(),
          method: string(),
          authority: string(),
          path: string(),
          route: maybe(string),
          headers: maybe(headers),
        };
      case 1:
        return { type: "response", id: number(), sinceRequestMs: number(), status: number(), headers: maybe(headers) };
      case 2:
        return {
          type: "end",
          id: number(),
          sinceRequestMs: number(),
          status: maybe(number),
          grpcStatus: maybe(number),
          error: maybe(string),
          requestBytes: number(),
          responseBytes: number(),
        };
      case 3:
        return { type: "dropped", count: number() };
      default:
        return { type: "error", code: string(), message: string() };
    }
  };
  return { event };
}

/** The event as a decoder sees it: keys whose value is undefined are not sent. */
function withoutUndefined(event: TapEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined));
}

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
