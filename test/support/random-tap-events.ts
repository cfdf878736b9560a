// Seeded random tap events of every shape (ASCII and non-ASCII strings of every length class, integers of
// every width, fractions, optional fields present and absent, header lists), for the tap encoder and
// decoder tests.
import type { HeaderPair, TapEvent } from "../../src/tap/events.ts";
import { prng } from "./prng.ts";

export function randomTapEvents(seed: number) {
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
export function withoutUndefined(event: TapEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined));
}
