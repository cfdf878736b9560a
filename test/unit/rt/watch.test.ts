// WatchCell: the latest value, and one call per change to each subscriber until it unsubscribes.
import { expect, test } from "bun:test";
import { WatchCell } from "../../../src/rt/watch.ts";

test("get, set, subscribe, unsubscribe", () => {
  const cell = new WatchCell<number>(1);
  const seen: number[] = [];
  const off = cell.subscribe((v) => seen.push(v));
  cell.set(2);
  off();
  cell.set(3);
  expect(cell.get()).toBe(3);
  expect(seen).toEqual([2]);
});
