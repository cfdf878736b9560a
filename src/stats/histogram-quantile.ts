// The q-quantile of a fixed-bucket latency histogram, interpolated exactly as Prometheus'
// histogram_quantile does (promql/quantile.go, bucketQuantile): linear within the bucket that holds
// the rank, 0 as the lower edge of the first bucket, and the highest finite bound when it falls in +Inf.

/**
 * `bounds` are the finite upper bounds (ascending); `counts` the NON-cumulative count per bucket, one
 * more than `bounds` (the last is +Inf). Returns null when the histogram holds no sample.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: ArrayLike<number>): number | null {
  if (counts.length !== bounds.length + 1) throw new RangeError(`histogram has ${counts.length} counts for ${bounds.length} finite bounds (+Inf makes one more)`);
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (!(total > 0)) return null;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const inBucket = counts[i]!;
    // Prometheus picks the first bucket whose cumulative count reaches the rank.
    if (below + inBucket >= rank && inBucket > 0) {
      const upper = bounds[i]!;
      if (i === 0 && upper <= 0) return upper;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (upper - lower) * ((rank - below) / inBucket);
    }
    below += inBucket;
  }
  // The rank lies in the +Inf bucket: the highest finite bound is the best estimate.
  return bounds.length > 0 ? bounds[bounds.length - 1]! : null;
}
