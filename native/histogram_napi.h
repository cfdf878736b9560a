// Node-API glue of the lock-free histogram (native/histogram/histogram.h): create, record a batch,
// snapshot. Every argument is type-checked (-EINVAL otherwise).
#pragma once

#include <napi.h>

namespace meshlet::addon {

Napi::Value HistogramCreate(const Napi::CallbackInfo& info);
Napi::Value HistogramRecordMany(const Napi::CallbackInfo& info);
Napi::Value HistogramSnapshot(const Napi::CallbackInfo& info);

}  // namespace meshlet::addon
