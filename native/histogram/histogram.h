// Lock-free fixed-bucket histogram for latencies and sizes: Record is wait-free (branch-free bucket
// search, two relaxed atomic adds), Snapshot copies the counters on demand for Prometheus exposition.
// No heap: bounds and counters live inline (at most kMaxBounds bounds plus +Inf).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace meshlet::histogram {

constexpr size_t kMaxBounds = 64;

// linkerd2-proxy's response_latency_ms buckets, in milliseconds; +Inf is implicit.
constexpr uint64_t kLatencyBoundsMs[] = {
    1,    2,    3,    4,    5,    10,    20,    30,    40,    50,    100,   200,  300,
    400,  500,  1000, 2000, 3000, 4000,  5000,  10000, 20000, 30000, 40000, 50000,
};
constexpr size_t kLatencyBoundCount = sizeof(kLatencyBoundsMs) / sizeof(kLatencyBoundsMs[0]);

// True if `bounds` can back a Histogram as given: at most kMaxBounds, strictly increasing.
// Callers that take bounds from outside (e.g. JS) check this first and report the error themselves.
constexpr bool ValidBounds(const uint64_t* bounds, size_t bound_count) noexcept {
  if (bound_count > kMaxBounds) return false;
  for (size_t i = 1; i < bound_count; ++i) {
    if (bounds[i] <= bounds[i - 1]) return false;
  }
  return true;
}
static_assert(ValidBounds(kLatencyBoundsMs, kLatencyBoundCount), "latency bounds must ascend");

class Histogram {
 public:
  // Copies the bounds. Input that fails ValidBounds is cut to its longest valid prefix (at most
  // kMaxBounds, strictly increasing), so a Histogram is always well-formed.
  Histogram(const uint64_t* bounds, size_t bound_count) noexcept {
    size_t kept = 0;
    while (kept < bound_count && kept < kMaxBounds && (kept == 0 || bounds[kept] > bounds[kept - 1])) {
      bounds_[kept] = bounds[kept];
      ++kept;
    }
    bound_count_ = kept;
    // Pad with the largest value: the search always runs over all kMaxBounds slots (a fixed number
    // of steps, no data-dependent branch), and padding sends every value past the last real bound
    // to slot bound_count_, which is +Inf.
    for (size_t i = kept; i < kMaxBounds; ++i) bounds_[i] = UINT64_MAX;
    for (auto& count : counts_) count.store(0, std::memory_order_relaxed);
    sum_.store(0, std::memory_order_relaxed);
  }

  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `value` in the first bucket whose upper bound is >= value (Prometheus `le`), else +Inf.
  // Wait-free; safe from any number of threads. The sum wraps modulo 2^64.
  void Record(uint64_t value) noexcept {
    // Relaxed is enough: each counter is exact on its own; Snapshot promises no cross-counter order.
    counts_[BucketOf(value)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  // Number of buckets including +Inf: bounds + 1.
  size_t bucket_count() const noexcept { return bound_count_ + 1; }

  // Upper bound (inclusive) of `bucket`; UINT64_MAX for +Inf and for out-of-range buckets.
  uint64_t upper_bound(size_t bucket) const noexcept {
    return bucket < bound_count_ ? bounds_[bucket] : UINT64_MAX;
  }

  // Copies per-bucket counts (non-cumulative, bucket_count() entries) into counts_out, and the sum
  // of recorded values and the number of them into *sum_out / *count_out (either may be null).
  // count is the total of the copied buckets, so it always matches them; the sum is read separately
  // and may include or miss a Record that runs concurrently.
  void Snapshot(uint64_t* counts_out, uint64_t* sum_out, uint64_t* count_out) const noexcept {
    uint64_t total = 0;
    for (size_t i = 0; i < bucket_count(); ++i) {
      counts_out[i] = counts_[i].load(std::memory_order_relaxed);
      total += counts_out[i];
    }
    if (sum_out != nullptr) *sum_out = sum_.load(std::memory_order_relaxed);
    if (count_out != nullptr) *count_out = total;
  }

 private:
  static_assert((kMaxBounds & (kMaxBounds - 1)) == 0, "the search halves kMaxBounds exactly");

  // Branch-free lower_bound over the padded bounds: index of the first bound >= value, found in
  // log2(kMaxBounds) steps whatever the value (the comparisons compile to conditional moves).
  size_t BucketOf(uint64_t value) const noexcept {
    const uint64_t* base = bounds_;
    for (size_t half = kMaxBounds / 2; half > 0; half /= 2) {
      base += (base[half - 1] < value) ? half : 0;
    }
    // The first bound >= value is now *base or the slot after it.
    return static_cast<size_t>(base - bounds_) + (*base < value ? 1 : 0);
  }

  uint64_t bounds_[kMaxBounds];
  size_t bound_count_;
  // Counters on their own cache lines, away from the read-only bounds.
  alignas(64) std::atomic<uint64_t> counts_[kMaxBounds + 1];
  std::atomic<uint64_t> sum_;
};

}  // namespace meshlet::histogram
