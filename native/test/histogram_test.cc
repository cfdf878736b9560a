// Tests for native/histogram/histogram.h: `le` bucket boundaries, +Inf, sum/count, bound
// validation, and exact totals after concurrent Record calls from 4 threads.
#include "histogram/histogram.h"

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "test/check.h"

namespace {

using meshlet::histogram::Histogram;
using meshlet::histogram::kLatencyBoundCount;
using meshlet::histogram::kLatencyBoundsMs;
using meshlet::histogram::kMaxBounds;
using meshlet::histogram::ValidBounds;

struct Snap {
  std::vector<uint64_t> counts;
  uint64_t sum = 0;
  uint64_t count = 0;
};

Snap TakeSnapshot(const Histogram& histogram) {
  Snap snap;
  snap.counts.assign(histogram.bucket_count(), 0);
  histogram.Snapshot(snap.counts.data(), &snap.sum, &snap.count);
  return snap;
}

// Reference: index of the first bound >= value, else bound_count (+Inf).
size_t LinearBucket(const uint64_t* bounds, size_t bound_count, uint64_t value) {
  for (size_t i = 0; i < bound_count; ++i) {
    if (value <= bounds[i]) return i;
  }
  return bound_count;
}

// Records `value` into a fresh histogram and returns the bucket it landed in.
size_t BucketAfterRecord(const uint64_t* bounds, size_t bound_count, uint64_t value) {
  Histogram histogram(bounds, bound_count);
  histogram.Record(value);
  const Snap snap = TakeSnapshot(histogram);
  size_t landed = snap.counts.size();
  for (size_t i = 0; i < snap.counts.size(); ++i) {
    if (snap.counts[i] == 1) landed = i;
  }
  return landed;
}

TEST(latency_bounds_are_linkerds) {
  const uint64_t expected[] = {1,    2,    3,    4,    5,     10,    20,    30,    40,
                               50,   100,  200,  300,  400,   500,   1000,  2000,  3000,
                               4000, 5000, 10000, 20000, 30000, 40000, 50000};
  CHECK_EQ(kLatencyBoundCount, sizeof(expected) / sizeof(expected[0]));
  for (size_t i = 0; i < kLatencyBoundCount; ++i) CHECK_EQ(kLatencyBoundsMs[i], expected[i]);
  Histogram histogram(kLatencyBoundsMs, kLatencyBoundCount);
  CHECK_EQ(histogram.bucket_count(), 26u);
  CHECK_EQ(histogram.upper_bound(0), 1u);
  CHECK_EQ(histogram.upper_bound(24), 50000u);
  CHECK_EQ(histogram.upper_bound(25), UINT64_MAX);
}

TEST(exact_bound_goes_to_its_bucket) {
  for (size_t i = 0; i < kLatencyBoundCount; ++i) {
    TRACE("bound " + std::to_string(kLatencyBoundsMs[i]));
    CHECK_EQ(BucketAfterRecord(kLatencyBoundsMs, kLatencyBoundCount, kLatencyBoundsMs[i]), i);
    // One above the bound goes to the next bucket (the next bound or +Inf).
    CHECK_EQ(BucketAfterRecord(kLatencyBoundsMs, kLatencyBoundCount, kLatencyBoundsMs[i] + 1), i + 1);
  }
  CHECK_EQ(BucketAfterRecord(kLatencyBoundsMs, kLatencyBoundCount, 0), 0u);
}

TEST(values_past_the_last_bound_go_to_inf) {
  CHECK_EQ(BucketAfterRecord(kLatencyBoundsMs, kLatencyBoundCount, 50001), kLatencyBoundCount);
  CHECK_EQ(BucketAfterRecord(kLatencyBoundsMs, kLatencyBoundCount, UINT64_MAX), kLatencyBoundCount);
  // A full 64-bound histogram: +Inf is slot 64, past the padded search array.
  uint64_t bounds[kMaxBounds];
  for (size_t i = 0; i < kMaxBounds; ++i) bounds[i] = (i + 1) * 10;
  CHECK_EQ(BucketAfterRecord(bounds, kMaxBounds, 640), 63u);
  CHECK_EQ(BucketAfterRecord(bounds, kMaxBounds, 641), 64u);
  CHECK_EQ(BucketAfterRecord(bounds, kMaxBounds, UINT64_MAX), 64u);
  // A bound of UINT64_MAX is a real bound: the maximum value lands in it, and +Inf stays empty.
  const uint64_t max_bound[] = {5, UINT64_MAX};
  CHECK_EQ(BucketAfterRecord(max_bound, 2, UINT64_MAX), 1u);
}

TEST(search_matches_linear_scan) {
  // Every bound count 0..64, values around every bound.
  uint64_t bounds[kMaxBounds];
  for (size_t i = 0; i < kMaxBounds; ++i) bounds[i] = 3 * i * i + 7;
  for (size_t bound_count = 0; bound_count <= kMaxBounds; ++bound_count) {
    TRACE("bound_count " + std::to_string(bound_count));
    Histogram histogram(bounds, bound_count);
    std::vector<uint64_t> expected(bound_count + 1, 0);
    uint64_t expected_sum = 0;
    for (uint64_t value = 0; value <= 3 * kMaxBounds * kMaxBounds + 20; value += 1) {
      histogram.Record(value);
      ++expected[LinearBucket(bounds, bound_count, value)];
      expected_sum += value;
    }
    const Snap snap = TakeSnapshot(histogram);
    CHECK_EQ(snap.counts.size(), bound_count + 1);
    bool same = snap.counts == expected;
    CHECK(same);
    CHECK_EQ(snap.sum, expected_sum);
  }
}

TEST(sum_and_count) {
  Histogram histogram(kLatencyBoundsMs, kLatencyBoundCount);
  Snap snap = TakeSnapshot(histogram);
  CHECK_EQ(snap.count, 0u);
  CHECK_EQ(snap.sum, 0u);
  const uint64_t values[] = {0, 1, 7, 7, 99, 100, 4999, 60000};
  uint64_t sum = 0;
  for (uint64_t value : values) {
    histogram.Record(value);
    sum += value;
  }
  snap = TakeSnapshot(histogram);
  CHECK_EQ(snap.count, 8u);
  CHECK_EQ(snap.sum, sum);
  CHECK_EQ(snap.counts[0], 2u);    // 0, 1
  CHECK_EQ(snap.counts[5], 2u);    // 7, 7 -> le 10
  CHECK_EQ(snap.counts[10], 2u);   // 99, 100 -> le 100
  CHECK_EQ(snap.counts[19], 1u);   // 4999 -> le 5000
  CHECK_EQ(snap.counts[25], 1u);   // +Inf
  // Null sum/count outputs are allowed.
  std::vector<uint64_t> counts(histogram.bucket_count());
  histogram.Snapshot(counts.data(), nullptr, nullptr);
  CHECK_EQ(counts[25], 1u);
}

TEST(sum_wraps_modulo_2_64) {
  Histogram histogram(kLatencyBoundsMs, kLatencyBoundCount);
  histogram.Record(UINT64_MAX);
  histogram.Record(2);
  const Snap snap = TakeSnapshot(histogram);
  CHECK_EQ(snap.sum, 1u);
  CHECK_EQ(snap.count, 2u);
}

TEST(bound_validation) {
  const uint64_t ascending[] = {1, 2, 3};
  const uint64_t repeated[] = {1, 2, 2, 3};
  const uint64_t descending[] = {5, 4};
  uint64_t too_many[kMaxBounds + 1];
  for (size_t i = 0; i <= kMaxBounds; ++i) too_many[i] = i;
  CHECK(ValidBounds(ascending, 3));
  CHECK(ValidBounds(ascending, 0));
  CHECK(!ValidBounds(repeated, 4));
  CHECK(!ValidBounds(descending, 2));
  CHECK(ValidBounds(too_many, kMaxBounds));
  CHECK(!ValidBounds(too_many, kMaxBounds + 1));
  // Invalid input is cut to its longest valid prefix.
  CHECK_EQ(Histogram(repeated, 4).bucket_count(), 3u);
  CHECK_EQ(Histogram(descending, 2).bucket_count(), 2u);
  CHECK_EQ(Histogram(too_many, kMaxBounds + 1).bucket_count(), kMaxBounds + 1);
  CHECK_EQ(Histogram(ascending, 0).bucket_count(), 1u);
  CHECK_EQ(BucketAfterRecord(ascending, 0, 0), 0u);  // only +Inf
}

TEST(concurrent_records_from_4_threads) {
  constexpr size_t kThreads = 4;
  constexpr uint64_t kRecordsPerThread = 200000;
  Histogram histogram(kLatencyBoundsMs, kLatencyBoundCount);

  // Thread t records values t, t+4, t+8, ... so all 4 threads hit shared buckets.
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&histogram, t] {
      for (uint64_t i = 0; i < kRecordsPerThread; ++i) histogram.Record((i * kThreads + t) % 60000);
    });
  }
  // Snapshots taken while recording must stay self-consistent: count == sum of buckets.
  for (int i = 0; i < 50; ++i) {
    const Snap during = TakeSnapshot(histogram);
    uint64_t total = 0;
    for (uint64_t c : during.counts) total += c;
    CHECK_EQ(during.count, total);
  }
  for (std::thread& thread : threads) thread.join();

  std::vector<uint64_t> expected(kLatencyBoundCount + 1, 0);
  uint64_t expected_sum = 0;
  for (size_t t = 0; t < kThreads; ++t) {
    for (uint64_t i = 0; i < kRecordsPerThread; ++i) {
      const uint64_t value = (i * kThreads + t) % 60000;
      ++expected[LinearBucket(kLatencyBoundsMs, kLatencyBoundCount, value)];
      expected_sum += value;
    }
  }
  const Snap snap = TakeSnapshot(histogram);
  CHECK_EQ(snap.count, kThreads * kRecordsPerThread);
  CHECK_EQ(snap.sum, expected_sum);
  bool same = snap.counts == expected;
  CHECK(same);
}

}  // namespace
