// libFuzzer target for native/histogram/histogram.h: arbitrary bounds and values must land in the
// same buckets as a linear `le` scan, with exact sum and count.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "histogram/histogram.h"

namespace {

using meshlet::histogram::Histogram;
using meshlet::histogram::kMaxBounds;
using meshlet::histogram::ValidBounds;

#define FUZZ_ASSERT(cond)                                                         \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

// Consumes bytes from the fuzzer input; past the end it yields zeros.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t U8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint64_t U64(size_t bytes) {
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; ++i) value = value << 8 | U8();
    return value;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  // Header: bound count (0..kMaxBounds+3, to try too many), width of each number in bytes (1..8).
  const size_t requested_bounds = in.U8() % (kMaxBounds + 4);
  const size_t width = 1 + in.U8() % 8;
  uint64_t bounds[kMaxBounds + 3];
  for (size_t i = 0; i < requested_bounds; ++i) bounds[i] = in.U64(width);

  // The histogram keeps the longest valid prefix of the bounds.
  size_t kept = 0;
  while (kept < requested_bounds && kept < kMaxBounds && (kept == 0 || bounds[kept] > bounds[kept - 1])) {
    ++kept;
  }
  FUZZ_ASSERT(ValidBounds(bounds, requested_bounds) == (kept == requested_bounds));
  Histogram histogram(bounds, requested_bounds);
  FUZZ_ASSERT(histogram.bucket_count() == kept + 1);
  for (size_t i = 0; i < kept; ++i) FUZZ_ASSERT(histogram.upper_bound(i) == bounds[i]);
  FUZZ_ASSERT(histogram.upper_bound(kept) == UINT64_MAX);

  uint64_t expected[kMaxBounds + 1] = {};
  uint64_t expected_sum = 0;
  uint64_t expected_count = 0;
  while (!in.empty()) {
    const uint64_t value = in.U64(width);
    histogram.Record(value);
    size_t bucket = 0;
    while (bucket < kept && value > bounds[bucket]) ++bucket;
    ++expected[bucket];
    expected_sum += value;
    ++expected_count;
  }

  uint64_t counts[kMaxBounds + 1];
  uint64_t sum = 0;
  uint64_t count = 0;
  histogram.Snapshot(counts, &sum, &count);
  FUZZ_ASSERT(std::memcmp(counts, expected, sizeof(uint64_t) * (kept + 1)) == 0);
  FUZZ_ASSERT(sum == expected_sum);
  FUZZ_ASSERT(count == expected_count);
  return 0;
}
