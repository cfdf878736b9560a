// Node-API glue of the lock-free histogram (see histogram_napi.h). Histograms live for the process and
// are named by their index.
#include "histogram_napi.h"

#include <algorithm>
#include <cerrno>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "histogram/histogram.h"
#include "napi_args.h"

namespace meshlet::addon {
namespace {

struct HistogramState {
  std::mutex mutex;
  std::deque<std::unique_ptr<histogram::Histogram>> histograms;
};

HistogramState& State() {
  static HistogramState state;
  return state;
}

// The histogram a JS id names, or null (not a whole number, or no such histogram).
histogram::Histogram* HistogramAt(const Napi::Value& id) {
  uint32_t index;
  if (!ReadU32(id, &index)) return nullptr;
  HistogramState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  return index < state.histograms.size() ? state.histograms[index].get() : nullptr;
}

bool IsTypedArrayOf(const Napi::Value& value, napi_typedarray_type type) {
  return value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == type;
}

}  // namespace

// histogramCreate(bounds: Float64Array of strictly ascending whole non-negative upper bounds, at most
// 64): id | -EINVAL. Lives for the process.
Napi::Value HistogramCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsTypedArrayOf(info[0], napi_float64_array)) return ErrnoResult(env, EINVAL);
  Napi::Float64Array bounds_js = info[0].As<Napi::Float64Array>();
  std::vector<uint64_t> bounds(bounds_js.ElementLength());
  for (size_t i = 0; i < bounds.size(); i++) {
    double bound = bounds_js[i];
    // Checked before the cast: converting NaN, infinities or values >= 2^64 to uint64_t is undefined.
    if (!(bound >= 0 && bound < 9007199254740992.0) || bound != static_cast<double>(static_cast<uint64_t>(bound))) {
      return ErrnoResult(env, EINVAL);
    }
    bounds[i] = static_cast<uint64_t>(bound);
  }
  if (!histogram::ValidBounds(bounds.data(), bounds.size())) return ErrnoResult(env, EINVAL);
  HistogramState& state = State();
  std::lock_guard<std::mutex> lock(state.mutex);
  state.histograms.push_back(std::make_unique<histogram::Histogram>(bounds.data(), bounds.size()));
  return Napi::Number::New(env, static_cast<double>(state.histograms.size() - 1));
}

// histogramRecordMany(id, values: Float64Array, count): 0 | -EINVAL. Records values[0..min(count,
// length)). One crossing per batch.
Napi::Value HistogramRecordMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  histogram::Histogram* histogram = HistogramAt(info[0]);
  uint32_t count_js;
  if (histogram == nullptr || !IsTypedArrayOf(info[1], napi_float64_array) || !ReadU32(info[2], &count_js)) {
    return ErrnoResult(env, EINVAL);
  }
  Napi::Float64Array values = info[1].As<Napi::Float64Array>();
  size_t count = std::min<size_t>(count_js, values.ElementLength());
  for (size_t i = 0; i < count; i++) {
    double v = values[i];
    // NaN and negatives count as 0, huge values saturate: the cast below is defined for all of them.
    histogram->Record(!(v >= 0) ? 0 : v >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(v));
  }
  return Napi::Number::New(env, 0);
}

// histogramSnapshot(id): { counts: number[] (per bucket, +Inf last, not cumulative), sum, count } |
// -EINVAL (no such histogram).
Napi::Value HistogramSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  histogram::Histogram* histogram = HistogramAt(info[0]);
  if (histogram == nullptr) return ErrnoResult(env, EINVAL);
  std::vector<uint64_t> counts(histogram->bucket_count());
  uint64_t sum = 0, count = 0;
  histogram->Snapshot(counts.data(), &sum, &count);
  Napi::Object out = Napi::Object::New(env);
  Napi::Array counts_js = Napi::Array::New(env, counts.size());
  for (size_t i = 0; i < counts.size(); i++) counts_js.Set(i, static_cast<double>(counts[i]));
  out.Set("counts", counts_js);
  out.Set("sum", static_cast<double>(sum));
  out.Set("count", static_cast<double>(count));
  return out;
}

}  // namespace meshlet::addon
