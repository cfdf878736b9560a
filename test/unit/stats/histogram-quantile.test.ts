// histogramQuantile interpolates like Prometheus' histogram_quantile: linear inside the bucket that
// holds the rank, 0 as the first bucket's lower edge, the highest finite bound for the +Inf bucket.
import { expect, test } from "bun:test";
import { RESPONSE_LATENCY_BUCKETS_MS } from "../../../src/metrics/http.ts";
import { LATENCY_BUCKETS_MS } from "../../../src/metrics/route.ts";
import { STATS_LATENCY_BUCKETS_MS } from "../../../src/stats/counter-snapshot.ts";
import { histogramQuantile } from "../../../src/stats/histogram-quantile.ts";

const BOUNDS = [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100];

/** Non-cumulative counts: `at` maps a bucket's upper bound ("+Inf" for the last) to its count. */
function counts(at: Record<string, number>): number[] {
  return [...BOUNDS.map((b) => at[String(b)] ?? 0), at["+Inf"] ?? 0];
}

test("10 samples in (0,1], 10 in (1,2], 10 in (5,10]: hand-computed p50, p95, p99", () => {
  const c = counts({ "1": 10, "2": 10, "10": 10 });
  // rank 15 lies 5 of 10 into (1,2]: 1 + 1 × 5/10.
  expect(histogramQuantile(0.5, BOUNDS, c)).toBeCloseTo(1.5, 12);
  // rank 28.5 lies 8.5 of 10 into (5,10]: 5 + 5 × 0.85.
  expect(histogramQuantile(0.95, BOUNDS, c)).toBeCloseTo(9.25, 12);
  // rank 29.7: 5 + 5 × 0.97.
  expect(histogramQuantile(0.99, BOUNDS, c)).toBeCloseTo(9.85, 12);
});

test("the first bucket interpolates from 0; a rank on a bucket's edge is its upper bound", () => {
  expect(histogramQuantile(0.5, BOUNDS, counts({ "1": 4 }))).toBeCloseTo(0.5, 12);
  // 2 samples ≤ 1 and 2 in (3,4]: rank 2 is reached exactly at the end of the first bucket.
  expect(histogramQuantile(0.5, BOUNDS, counts({ "1": 2, "4": 2 }))).toBe(1);
  // rank 2.2 skips the empty buckets (1,3] and lands 0.2 of 2 into (3,4].
  expect(histogramQuantile(0.55, BOUNDS, counts({ "1": 2, "4": 2 }))).toBeCloseTo(3.1, 12);
});

test("a rank in the +Inf bucket is the highest finite bound; no samples is null", () => {
  expect(histogramQuantile(0.99, BOUNDS, counts({ "1": 1, "+Inf": 99 }))).toBe(100);
  expect(histogramQuantile(0.5, BOUNDS, counts({}))).toBeNull();
});

test("fractional counts (rates or increase() estimates) interpolate the same way", () => {
  // Prometheus over rates: 0.2/s in (10,20], 0.6/s in (20,30]; p50 rank 0.4 = 0.2 into (20,30] of 0.6.
  expect(histogramQuantile(0.5, BOUNDS, counts({ "20": 0.2, "30": 0.6 }))).toBeCloseTo(20 + 10 / 3, 12);
});

test("counts must have one more entry than bounds (+Inf)", () => {
  expect(() => histogramQuantile(0.5, BOUNDS, [1, 2])).toThrow(RangeError);
});

test("the endpoint and route families share Linkerd's buckets, which the stats rows use for both", () => {
  expect([...RESPONSE_LATENCY_BUCKETS_MS]).toEqual([...LATENCY_BUCKETS_MS]);
  expect(STATS_LATENCY_BUCKETS_MS).toBe(LATENCY_BUCKETS_MS);
});
