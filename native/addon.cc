// The addon's export table: thin Node-API glue over the front door and the histogram core.
// Functions never throw into JavaScript for runtime failures: they return -errno (or an object with
// an errno) and src/native/ builds the error. Only src/native/binding.ts imports this module.
#include <napi.h>

#include <cstring>
#include <deque>
#include <memory>
#include <mutex>

#include "frontdoor/frontdoor.h"
#include "histogram/histogram.h"
#include "inbound_policy_napi.h"

namespace {

using meshlet::frontdoor::Endpoint;
using meshlet::frontdoor::FrontDoor;
using meshlet::frontdoor::Handoff;
using meshlet::frontdoor::ListenerSpec;

struct AddonState {
  std::unique_ptr<FrontDoor> front_door;
  Napi::ThreadSafeFunction on_handoff;
  std::mutex histogram_mutex;
  std::deque<std::unique_ptr<meshlet::histogram::Histogram>> histograms;
};

AddonState& State() {
  static AddonState state;
  return state;
}

Napi::Value ErrnoResult(Napi::Env env, int err) { return Napi::Number::New(env, -err); }

Napi::Object EndpointFields(Napi::Object obj, const char* prefix, const Endpoint& endpoint) {
  std::string ip_key = std::string(prefix) + "Ip";
  std::string port_key = std::string(prefix) + "Port";
  obj.Set(ip_key, endpoint.valid() ? endpoint.ip() : std::string());
  obj.Set(port_key, endpoint.port());
  return obj;
}

bool ReadEndpoint(const Napi::Value& ip, const Napi::Value& port, Endpoint* out) {
  if (!ip.IsString() || !port.IsNumber()) return false;
  return Endpoint::FromIp(ip.As<Napi::String>().Utf8Value(), static_cast<uint16_t>(port.As<Napi::Number>().Uint32Value()), out);
}

uint32_t U32(const Napi::Object& obj, const char* key, uint32_t fallback) {
  Napi::Value v = obj.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}

// === Front door ===

// start(onHandoff: (batch: HandoffRecord[]) => void): 0 | -errno. Starts the epoll thread once.
Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState& state = State();
  if (state.front_door) return Napi::Number::New(env, 0);
  state.on_handoff = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "meshlet-handoff", 0, 1);
  state.front_door = std::make_unique<FrontDoor>([] {
    State().on_handoff.NonBlockingCall([](Napi::Env env, Napi::Function callback) {
      AddonState& s = State();
      if (!s.front_door) return;
      std::vector<Handoff> batch = s.front_door->TakeHandoffs();
      if (batch.empty()) return;
      Napi::Array records = Napi::Array::New(env, batch.size());
      for (size_t i = 0; i < batch.size(); i++) {
        const Handoff& h = batch[i];
        Napi::Object record = Napi::Object::New(env);
        record.Set("fd", h.fd);
        record.Set("listenerId", h.listener_id);
        record.Set("protocol", h.protocol);
        record.Set("sni", h.sni);
        EndpointFields(record, "client", h.client);
        EndpointFields(record, "target", h.target);
        record.Set("targetIsOriginal", h.target_is_original);
        records.Set(i, record);
      }
      callback.Call({records});
    });
  });
  meshlet::addon::ApplyInboundPolicy(*state.front_door);
  int err = state.front_door->Start();
  return Napi::Number::New(env, -err);
}

// listen(spec): bound port | -errno. spec: { id, bindIp, bindPort, direction, targetIp?, targetPort?,
// detectTimeoutMs, connectTimeoutMs, idleTimeoutMs, handoffMask, pipeBytes, acceptKeepaliveMs,
// connectKeepaliveMs, userTimeoutMs } (the last three 0 or absent: off).
Napi::Value Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AddonState& state = State();
  if (!state.front_door) return ErrnoResult(env, ENOTCONN);
  Napi::Object spec_js = info[0].As<Napi::Object>();
  ListenerSpec spec;
  spec.id = U32(spec_js, "id", 0);
  if (!ReadEndpoint(spec_js.Get("bindIp"), spec_js.Get("bindPort"), &spec.bind)) return ErrnoResult(env, EINVAL);
  ReadEndpoint(spec_js.Get("targetIp"), spec_js.Get("targetPort"), &spec.target);
  spec.direction = static_cast<uint8_t>(U32(spec_js, "direction", 0));
  spec.detect_timeout_ms = U32(spec_js, "detectTimeoutMs", spec.detect_timeout_ms);
  spec.connect_timeout_ms = U32(spec_js, "connectTimeoutMs", spec.connect_timeout_ms);
  spec.idle_timeout_ms = U32(spec_js, "idleTimeoutMs", 0);
  spec.handoff_mask = U32(spec_js, "handoffMask", 0);
  spec.pipe_bytes = U32(spec_js, "pipeBytes", spec.pipe_bytes);
  spec.accept_liveness = {U32(spec_js, "acceptKeepaliveMs", 0), U32(spec_js, "userTimeoutMs", 0)};
  spec.connect_liveness = {U32(spec_js, "connectKeepaliveMs", 0), U32(spec_js, "userTimeoutMs", 0)};
  uint16_t port = 0;
  int err = state.front_door->Listen(spec, &port);
  return err != 0 ? ErrnoResult(env, err) : Napi::Number::New(env, port);
}

// setTarget(listenerId, ip, port): 0 | -EINVAL. Where connections without an original destination go.
Napi::Value SetTarget(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Endpoint target;
  if (!State().front_door || !ReadEndpoint(info[1], info[2], &target)) return ErrnoResult(env, EINVAL);
  State().front_door->SetTarget(info[0].As<Napi::Number>().Uint32Value(), target);
  return Napi::Number::New(env, 0);
}

// setOpaquePorts(bitmap: Uint8Array of 8192 bytes, bit p set = port p opaque): 0 | -EINVAL. Copied.
Napi::Value SetOpaquePorts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!State().front_door || !info[0].IsTypedArray()) return ErrnoResult(env, EINVAL);
  Napi::Uint8Array bitmap = info[0].As<Napi::Uint8Array>();
  if (bitmap.ByteLength() != 8192) return ErrnoResult(env, EINVAL);
  std::bitset<65536> ports;
  for (size_t port = 0; port < 65536; port++) {
    if (bitmap[port >> 3] & (1u << (port & 7))) ports.set(port);
  }
  State().front_door->SetOpaquePorts(ports);
  return Napi::Number::New(env, 0);
}

// forward(fd, listenerId, ip, port, protocol): 0 | -EINVAL. Takes ownership of a handed-off fd back
// and splices it to ip:port.
Napi::Value Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Endpoint target;
  if (!State().front_door || !ReadEndpoint(info[2], info[3], &target)) return ErrnoResult(env, EINVAL);
  State().front_door->Forward(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Uint32Value(),
                              target, static_cast<uint8_t>(info[4].As<Napi::Number>().Uint32Value()));
  return Napi::Number::New(env, 0);
}

// setTcpLiveness(fd, keepaliveMs, userTimeoutMs): 0 | -errno. Keepalive and TCP_USER_TIMEOUT on a
// connected TCP socket someone else owns (Bun's upstream sockets); 0 leaves an option untouched.
Napi::Value SetTcpLiveness(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) return ErrnoResult(env, EINVAL);
  int fd = info[0].As<Napi::Number>().Int32Value();
  meshlet::frontdoor::TcpLiveness liveness{info[1].As<Napi::Number>().Uint32Value(), info[2].As<Napi::Number>().Uint32Value()};
  return Napi::Number::New(env, -meshlet::frontdoor::ApplyTcpLiveness(fd, liveness));
}

Napi::Value CloseListeners(const Napi::CallbackInfo& info) {
  if (State().front_door) State().front_door->CloseListeners();
  return info.Env().Undefined();
}

Napi::Value CloseAll(const Napi::CallbackInfo& info) {
  if (State().front_door) State().front_door->CloseAll();
  return info.Env().Undefined();
}

// stop(): joins the epoll thread, closes everything it owned and releases the handoff callback.
Napi::Value Stop(const Napi::CallbackInfo& info) {
  AddonState& state = State();
  if (state.front_door) {
    state.front_door->Stop();
    state.front_door.reset();
    state.on_handoff.Release();
  }
  return info.Env().Undefined();
}

Napi::Value OpenConnections(const Napi::CallbackInfo& info) {
  size_t open = State().front_door ? State().front_door->OpenConnections() : 0;
  return Napi::Number::New(info.Env(), static_cast<double>(open));
}

// transportStats(): one object per (direction, peer, target) with counters; closes as [errno, count] pairs.
Napi::Value TransportStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  if (!State().front_door) return out;
  uint32_t index = 0;
  State().front_door->stats().ForEach([&](meshlet::frontdoor::TransportCell& cell) {
    Napi::Object row = Napi::Object::New(env);
    row.Set("direction", cell.direction);
    row.Set("peer", cell.peer == meshlet::frontdoor::Peer::kSrc ? "src" : "dst");
    EndpointFields(row, "target", cell.target);
    row.Set("openTotal", static_cast<double>(cell.open_total.load(std::memory_order_relaxed)));
    row.Set("openNow", static_cast<double>(cell.open_now.load(std::memory_order_relaxed)));
    row.Set("readBytes", static_cast<double>(cell.read_bytes.load(std::memory_order_relaxed)));
    row.Set("writeBytes", static_cast<double>(cell.write_bytes.load(std::memory_order_relaxed)));
    Napi::Array closes = Napi::Array::New(env);
    uint32_t n = 0;
    for (int e = 0; e <= meshlet::frontdoor::kMaxTrackedErrno; e++) {
      uint64_t count = cell.close_by_errno[e].load(std::memory_order_relaxed);
      if (count == 0) continue;
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, e);
      pair.Set(1u, static_cast<double>(count));
      closes.Set(n++, pair);
    }
    row.Set("closes", closes);
    out.Set(index++, row);
  });
  return out;
}

// detectResults(): [direction, protocol, count] for every non-zero count.
Napi::Value DetectResults(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  if (!State().front_door) return out;
  uint32_t n = 0;
  for (uint8_t direction = 0; direction < 2; direction++) {
    for (int protocol = 0; protocol < 256; protocol++) {
      uint64_t count = State().front_door->DetectCount(direction, static_cast<uint8_t>(protocol));
      if (count == 0) continue;
      Napi::Array row = Napi::Array::New(env, 3);
      row.Set(0u, direction);
      row.Set(1u, protocol);
      row.Set(2u, static_cast<double>(count));
      out.Set(n++, row);
    }
  }
  return out;
}

// closedConnections(): { dropped, records } — drains the ring of finished spliced connections.
Napi::Value ClosedConnections(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array records = Napi::Array::New(env);
  uint64_t dropped = 0;
  if (State().front_door) {
    auto drained = State().front_door->closed_connections().Drain(&dropped);
    for (size_t i = 0; i < drained.size(); i++) {
      const auto& c = drained[i];
      Napi::Object r = Napi::Object::New(env);
      r.Set("listenerId", c.listener_id);
      r.Set("protocol", c.protocol);
      r.Set("sni", c.sni);
      EndpointFields(r, "client", c.client);
      EndpointFields(r, "target", c.target);
      r.Set("clientToTargetBytes", static_cast<double>(c.client_to_target_bytes));
      r.Set("targetToClientBytes", static_cast<double>(c.target_to_client_bytes));
      r.Set("durationMs", static_cast<double>(c.duration_ms));
      r.Set("errno", c.close_errno);
      r.Set("policy", c.policy == meshlet::frontdoor::PolicyClose::kDenied       ? "denied"
                      : c.policy == meshlet::frontdoor::PolicyClose::kTerminated ? "terminated"
                                                                                 : "");
      r.Set("policyEntryId", c.policy_entry_id);
      records.Set(i, r);
    }
  }
  out.Set("dropped", static_cast<double>(dropped));
  out.Set("records", records);
  return out;
}

// errnoName(n): "ECONNREFUSED", or "" for 0.
Napi::Value ErrnoName(const Napi::CallbackInfo& info) {
  int err = info[0].As<Napi::Number>().Int32Value();
  const char* name = err == 0 ? "" : ::strerrorname_np(err);
  return Napi::String::New(info.Env(), name ? name : ("E" + std::to_string(err)).c_str());
}

// === Inbound policy (inbound_policy_napi.cc) ===

Napi::Value SetInboundPolicy(const Napi::CallbackInfo& info) {
  return meshlet::addon::SetInboundPolicy(info, State().front_door.get());
}

// === Histograms ===

// histogramCreate(bounds: Float64Array of strictly ascending whole non-negative upper bounds, at most
// 64): id | -EINVAL. Lives for the process.
Napi::Value HistogramCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) return ErrnoResult(env, EINVAL);
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
  if (!meshlet::histogram::ValidBounds(bounds.data(), bounds.size())) return ErrnoResult(env, EINVAL);
  AddonState& state = State();
  std::lock_guard<std::mutex> lock(state.histogram_mutex);
  state.histograms.push_back(std::make_unique<meshlet::histogram::Histogram>(bounds.data(), bounds.size()));
  return Napi::Number::New(env, static_cast<double>(state.histograms.size() - 1));
}

meshlet::histogram::Histogram* HistogramAt(const Napi::Value& id) {
  AddonState& state = State();
  std::lock_guard<std::mutex> lock(state.histogram_mutex);
  uint32_t index = id.As<Napi::Number>().Uint32Value();
  return index < state.histograms.size() ? state.histograms[index].get() : nullptr;
}

// histogramRecordMany(id, values: Float64Array, count): records values[0..count). One crossing per batch.
Napi::Value HistogramRecordMany(const Napi::CallbackInfo& info) {
  meshlet::histogram::Histogram* histogram = HistogramAt(info[0]);
  Napi::Float64Array values = info[1].As<Napi::Float64Array>();
  size_t count = std::min<size_t>(info[2].As<Napi::Number>().Uint32Value(), values.ElementLength());
  if (histogram) {
    for (size_t i = 0; i < count; i++) {
      double v = values[i];
      // NaN and negatives count as 0, huge values saturate: the cast below is defined for all of them.
      histogram->Record(!(v >= 0) ? 0 : v >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(v));
    }
  }
  return info.Env().Undefined();
}

// histogramSnapshot(id): { counts: number[] (per bucket, +Inf last, not cumulative), sum, count }.
Napi::Value HistogramSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  meshlet::histogram::Histogram* histogram = HistogramAt(info[0]);
  Napi::Object out = Napi::Object::New(env);
  if (!histogram) return out;
  std::vector<uint64_t> counts(histogram->bucket_count());
  uint64_t sum = 0, count = 0;
  histogram->Snapshot(counts.data(), &sum, &count);
  Napi::Array counts_js = Napi::Array::New(env, counts.size());
  for (size_t i = 0; i < counts.size(); i++) counts_js.Set(i, static_cast<double>(counts[i]));
  out.Set("counts", counts_js);
  out.Set("sum", static_cast<double>(sum));
  out.Set("count", static_cast<double>(count));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("listen", Napi::Function::New(env, Listen));
  exports.Set("setTarget", Napi::Function::New(env, SetTarget));
  exports.Set("setOpaquePorts", Napi::Function::New(env, SetOpaquePorts));
  exports.Set("forward", Napi::Function::New(env, Forward));
  exports.Set("setTcpLiveness", Napi::Function::New(env, SetTcpLiveness));
  exports.Set("closeListeners", Napi::Function::New(env, CloseListeners));
  exports.Set("closeAll", Napi::Function::New(env, CloseAll));
  exports.Set("stop", Napi::Function::New(env, Stop));
  exports.Set("openConnections", Napi::Function::New(env, OpenConnections));
  exports.Set("transportStats", Napi::Function::New(env, TransportStats));
  exports.Set("detectResults", Napi::Function::New(env, DetectResults));
  exports.Set("closedConnections", Napi::Function::New(env, ClosedConnections));
  exports.Set("errnoName", Napi::Function::New(env, ErrnoName));
  exports.Set("setInboundPolicy", Napi::Function::New(env, SetInboundPolicy));
  exports.Set("inboundPolicyStats", Napi::Function::New(env, meshlet::addon::InboundPolicyStats));
  exports.Set("inboundPolicyError", Napi::Function::New(env, meshlet::addon::InboundPolicyError));
  exports.Set("histogramCreate", Napi::Function::New(env, HistogramCreate));
  exports.Set("histogramRecordMany", Napi::Function::New(env, HistogramRecordMany));
  exports.Set("histogramSnapshot", Napi::Function::New(env, HistogramSnapshot));
  return exports;
}

}  // namespace

NODE_API_MODULE(meshlet, Init)
