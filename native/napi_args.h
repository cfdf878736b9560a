// Type-checked reads of Node-API arguments for the addon's glue. C++ exceptions are disabled, so a
// wrong type must be caught here: every reader returns false (the export then returns -EINVAL).
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "frontdoor/endpoint.h"

namespace meshlet::addon {

// A whole number in [0, max] (NaN, fractions, negatives and other types are refused).
inline bool ReadUint(const Napi::Value& value, double max, double* out) {
  if (!value.IsNumber()) return false;
  double n = value.As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && n <= max) || std::floor(n) != n) return false;
  *out = n;
  return true;
}

inline bool ReadU32(const Napi::Value& value, uint32_t* out) {
  double n;
  if (!ReadUint(value, 4294967295.0, &n)) return false;
  *out = static_cast<uint32_t>(n);
  return true;
}

inline bool ReadU8(const Napi::Value& value, uint8_t* out) {
  double n;
  if (!ReadUint(value, 255, &n)) return false;
  *out = static_cast<uint8_t>(n);
  return true;
}

// A file descriptor number: 0 .. INT32_MAX.
inline bool ReadFd(const Napi::Value& value, int* out) {
  double n;
  if (!ReadUint(value, 2147483647.0, &n)) return false;
  *out = static_cast<int>(n);
  return true;
}

// A required u32 property of `obj`.
inline bool ReadU32Field(const Napi::Object& obj, const char* key, uint32_t* out) {
  return ReadU32(obj.Get(key), out);
}

// A numeric IP string (v4 or v6, no brackets) and a port 0-65535.
inline bool ReadEndpoint(const Napi::Value& ip, const Napi::Value& port, frontdoor::Endpoint* out) {
  double p;
  if (!ip.IsString() || !ReadUint(port, 65535, &p)) return false;
  return frontdoor::Endpoint::FromIp(ip.As<Napi::String>().Utf8Value(), static_cast<uint16_t>(p), out);
}

// A plain object (not an array, not null).
inline bool IsPlainObject(const Napi::Value& value) { return value.IsObject() && !value.IsArray() && !value.IsFunction(); }

inline Napi::Value ErrnoResult(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

}  // namespace meshlet::addon
