// The closed-stream memory: what it tells apart, and that it forgets the oldest beyond its bound.
import { describe, expect, test } from "bun:test";
import { CLOSED_STREAMS_REMEMBERED, ClosedStreams } from "../../../src/h2/closed-streams.ts";

describe("ClosedStreams", () => {
  test("remembers closed streams and which ones we reset", () => {
    const closed = new ClosedStreams();
    closed.remember(1, false);
    closed.remember(3, true);
    expect(closed.has(1)).toBe(true);
    expect(closed.wasResetByUs(1)).toBe(false);
    expect(closed.has(3)).toBe(true);
    expect(closed.wasResetByUs(3)).toBe(true);
    expect(closed.has(5)).toBe(false);
    expect(closed.wasResetByUs(5)).toBe(false);
  });

  test("keeps exactly the last CLOSED_STREAMS_REMEMBERED ids", () => {
    const closed = new ClosedStreams();
    const total = CLOSED_STREAMS_REMEMBERED + 10;
    for (let k = 0; k < total; k++) closed.remember(2 * k + 1, k % 2 === 0);
    for (let k = 0; k < 10; k++) expect(closed.has(2 * k + 1)).toBe(false);
    for (let k = 10; k < total; k++) {
      expect(closed.has(2 * k + 1)).toBe(true);
      expect(closed.wasResetByUs(2 * k + 1)).toBe(k % 2 === 0);
    }
  });
});
