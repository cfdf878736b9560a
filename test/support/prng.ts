// A seeded xorshift32 generator for randomized tests: the same seed gives the same inputs, so a
// failure names an iteration that can be replayed.
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
