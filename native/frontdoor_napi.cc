// Node-API glue of the front door (see frontdoor_napi.h). One front door per process, owned here with
// its handoff callback; an environment cleanup hook stops it before the environment goes away, so the
// epoll thread never posts into a dead one.
#include "frontdoor_napi.h"

#include <unistd.h>

#include <bitset>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "frontdoor/frontdoor.h"
#include "inbound_policy_napi.h"
#include "napi_args.h"

namespace meshlet::addon {
namespace {

using frontdoor::Endpoint;
using frontdoor::FrontDoor;
using frontdoor::Handoff;
using frontdoor::ListenerSpec;

struct FrontDoorState {
  std::unique_ptr<FrontDoor> front_door;
  Napi::ThreadSafeFunction on_handoff;
  napi_env env = nullptr;  // where the cleanup hook is registered while started
  uint64_t generation = 0;  // bumped by each start: a call queued by an earlier front door finds a newer one
};

FrontDoorState& State() {
  static FrontDoorState state;
  return state;
}

// Stops the thread (closing every fd it owned, handoffs not yet delivered included), then releases
// the callback and the cleanup hook. Idempotent.
void StopFrontDoor() {
  FrontDoorState& state = State();
  if (!state.front_door) return;
  state.front_door->Stop();  // joined: nothing calls on_handoff any more
  state.front_door.reset();
  state.on_handoff.Release();
  state.on_handoff = Napi::ThreadSafeFunction();
}

void CleanupHook(void* arg) {
  State().env = nullptr;  // the hook is being run: nothing to remove
  StopFrontDoor();
}

void RemoveCleanupHook() {
  FrontDoorState& state = State();
  if (state.env == nullptr) return;
  napi_remove_env_cleanup_hook(state.env, CleanupHook, nullptr);
  state.env = nullptr;
}

Napi::Object EndpointFields(Napi::Object obj, const char* prefix, const Endpoint& endpoint) {
  obj.Set(std::string(prefix) + "Ip", endpoint.valid() ? endpoint.ip() : std::string());
  obj.Set(std::string(prefix) + "Port", endpoint.port());
  return obj;
}

// Runs on the JS thread: delivers the queued handoffs of front door `generation` as one batch.
void DeliverHandoffs(Napi::Env env, Napi::Function callback, uint64_t generation) {
  FrontDoorState& s = State();
  // Stopped since (Stop closed what was queued), or restarted: the new front door's handoffs go to
  // the new callback, through its own calls.
  if (!s.front_door || s.generation != generation || env == nullptr) return;
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
    record.Set("meshedTarget", h.meshed_target);
    records.Set(i, record);
  }
  callback.Call({records});
}

}  // namespace

// start(onHandoff): 0 | -errno | -EINVAL (not a function). Starts the epoll thread once; a failure
// leaves nothing set, so start() may be called again.
Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  FrontDoorState& state = State();
  if (!info[0].IsFunction()) return ErrnoResult(env, EINVAL);
  if (state.front_door) return Napi::Number::New(env, 0);
  Napi::ThreadSafeFunction on_handoff =
      Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "meshlet-handoff", 0, 1);
  if (on_handoff == nullptr) return ErrnoResult(env, ENOMEM);
  uint64_t generation = ++state.generation;
  auto front_door = std::make_unique<FrontDoor>([generation] {
    State().on_handoff.NonBlockingCall(
        [generation](Napi::Env env, Napi::Function callback) { DeliverHandoffs(env, callback, generation); });
  });
  ApplyInboundPolicy(*front_door);
  // Set before the thread can call wake.
  state.on_handoff = on_handoff;
  int err = front_door->Start();
  if (err != 0) {
    state.on_handoff.Release();
    state.on_handoff = Napi::ThreadSafeFunction();
    return ErrnoResult(env, err);
  }
  state.front_door = std::move(front_door);
  if (napi_add_env_cleanup_hook(env, CleanupHook, nullptr) == napi_ok) state.env = env;
  return Napi::Number::New(env, 0);
}

// listen(spec): bound port | -errno | -EINVAL. spec: { id, bindIp, bindPort, direction, targetIp?,
// targetPort?, detectTimeoutMs, connectTimeoutMs, idleTimeoutMs, handoffMask, pipeBytes,
// acceptKeepaliveMs, connectKeepaliveMs, userTimeoutMs } — all required but the target (0: off).
Napi::Value Listen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsPlainObject(info[0])) return ErrnoResult(env, EINVAL);
  Napi::Object js = info[0].As<Napi::Object>();
  ListenerSpec spec;
  uint32_t direction, accept_keepalive_ms, connect_keepalive_ms, user_timeout_ms;
  if (!ReadU32Field(js, "id", &spec.id) || !ReadEndpoint(js.Get("bindIp"), js.Get("bindPort"), &spec.bind) ||
      !ReadU32Field(js, "direction", &direction) || direction > 1 ||
      !ReadU32Field(js, "detectTimeoutMs", &spec.detect_timeout_ms) ||
      !ReadU32Field(js, "connectTimeoutMs", &spec.connect_timeout_ms) ||
      !ReadU32Field(js, "idleTimeoutMs", &spec.idle_timeout_ms) ||
      !ReadU32Field(js, "handoffMask", &spec.handoff_mask) || !ReadU32Field(js, "pipeBytes", &spec.pipe_bytes) ||
      !ReadU32Field(js, "acceptKeepaliveMs", &accept_keepalive_ms) ||
      !ReadU32Field(js, "connectKeepaliveMs", &connect_keepalive_ms) ||
      !ReadU32Field(js, "userTimeoutMs", &user_timeout_ms)) {
    return ErrnoResult(env, EINVAL);
  }
  Napi::Value target_ip = js.Get("targetIp"), target_port = js.Get("targetPort");
  if (!(target_ip.IsUndefined() && target_port.IsUndefined()) && !ReadEndpoint(target_ip, target_port, &spec.target)) {
    return ErrnoResult(env, EINVAL);
  }
  spec.direction = static_cast<uint8_t>(direction);
  spec.accept_liveness = {accept_keepalive_ms, user_timeout_ms};
  spec.connect_liveness = {connect_keepalive_ms, user_timeout_ms};
  if (!State().front_door) return ErrnoResult(env, ENOTCONN);
  uint16_t port = 0;
  int err = State().front_door->Listen(spec, &port);
  return err != 0 ? ErrnoResult(env, err) : Napi::Number::New(env, port);
}

// setTarget(listenerId, ip, port): 0 | -EINVAL | -ENOTCONN. Where connections without an original
// destination go.
Napi::Value SetTarget(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t listener_id;
  Endpoint target;
  if (!ReadU32(info[0], &listener_id) || !ReadEndpoint(info[1], info[2], &target)) return ErrnoResult(env, EINVAL);
  if (!State().front_door) return ErrnoResult(env, ENOTCONN);
  State().front_door->SetTarget(listener_id, target);
  return Napi::Number::New(env, 0);
}

// setOpaquePorts(bitmap: Uint8Array of 8192 bytes, bit p set = port p opaque): 0 | -EINVAL | -ENOTCONN.
Napi::Value SetOpaquePorts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    return ErrnoResult(env, EINVAL);
  }
  Napi::Uint8Array bitmap = info[0].As<Napi::Uint8Array>();
  if (bitmap.ByteLength() != 8192) return ErrnoResult(env, EINVAL);
  if (!State().front_door) return ErrnoResult(env, ENOTCONN);
  std::bitset<65536> ports;
  for (size_t port = 0; port < 65536; port++) {
    if (bitmap[port >> 3] & (1u << (port & 7))) ports.set(port);
  }
  State().front_door->SetOpaquePorts(ports);
  return Napi::Number::New(env, 0);
}

// setLocalIdentity(name: string, at most 253 characters; "" = none): 0 | -EINVAL | -ENOTCONN.
Napi::Value SetLocalIdentity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) return ErrnoResult(env, EINVAL);
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name.size() > 253) return ErrnoResult(env, EINVAL);  // no DNS name (nor SNI) is longer
  if (!State().front_door) return ErrnoResult(env, ENOTCONN);
  State().front_door->SetLocalIdentity(name);
  return Napi::Number::New(env, 0);
}

// setMeshedEndpoints(endpoints: Array<{ ip, port }>): 0 | -EINVAL | -ENOTCONN. Replaces the table of
// meshed endpoints whose outbound TCP is handed off (kHandoffMeshedTcp); a bad entry changes nothing.
Napi::Value SetMeshedEndpoints(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) return ErrnoResult(env, EINVAL);
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<Endpoint> endpoints;
  endpoints.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!IsPlainObject(item)) return ErrnoResult(env, EINVAL);
    Napi::Object obj = item.As<Napi::Object>();
    Endpoint endpoint;
    if (!ReadEndpoint(obj.Get("ip"), obj.Get("port"), &endpoint)) return ErrnoResult(env, EINVAL);
    endpoints.push_back(endpoint);
  }
  if (!State().front_door) return ErrnoResult(env, ENOTCONN);
  State().front_door->SetMeshedEndpoints(endpoints);
  return Napi::Number::New(env, 0);
}

// forward(fd, listenerId, ip, port, protocol): 0 | -EINVAL | -ENOTCONN. Takes the handed-off fd back
// and splices it to ip:port. The fd is taken whenever it is a valid number: on any failure it is closed.
Napi::Value Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ReadFd(info[0], &fd)) return ErrnoResult(env, EINVAL);
  uint32_t listener_id;
  uint8_t protocol;
  Endpoint target;
  if (!ReadU32(info[1], &listener_id) || !ReadEndpoint(info[2], info[3], &target) || !ReadU8(info[4], &protocol)) {
    ::close(fd);
    return ErrnoResult(env, EINVAL);
  }
  if (!State().front_door) {
    ::close(fd);
    return ErrnoResult(env, ENOTCONN);
  }
  return ErrnoResult(env, State().front_door->Forward(fd, listener_id, target, protocol));
}

// setTcpLiveness(fd, keepaliveMs, userTimeoutMs): 0 | -errno. Keepalive and TCP_USER_TIMEOUT on a
// connected TCP socket someone else owns (Bun's upstream sockets); 0 leaves an option untouched.
Napi::Value SetTcpLiveness(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  uint32_t keepalive_ms, user_timeout_ms;
  if (!ReadFd(info[0], &fd) || !ReadU32(info[1], &keepalive_ms) || !ReadU32(info[2], &user_timeout_ms)) {
    return ErrnoResult(env, EINVAL);
  }
  return ErrnoResult(env, frontdoor::ApplyTcpLiveness(fd, frontdoor::TcpLiveness{keepalive_ms, user_timeout_ms}));
}

Napi::Value CloseListeners(const Napi::CallbackInfo& info) {
  if (State().front_door) State().front_door->CloseListeners();
  return info.Env().Undefined();
}

Napi::Value CloseAll(const Napi::CallbackInfo& info) {
  if (State().front_door) State().front_door->CloseAll();
  return info.Env().Undefined();
}

// stop(): joins the epoll thread, closes everything it owned (handoffs not yet delivered included) and
// releases the handoff callback. start() may follow.
Napi::Value Stop(const Napi::CallbackInfo& info) {
  RemoveCleanupHook();
  StopFrontDoor();
  return info.Env().Undefined();
}

Napi::Value OpenConnections(const Napi::CallbackInfo& info) {
  size_t open = State().front_door ? State().front_door->OpenConnections() : 0;
  return Napi::Number::New(info.Env(), static_cast<double>(open));
}

// transportStats(): one object per (direction, peer, target); closes as [errno, count] pairs. The
// counters are copied under the stats lock; the objects are built after it (accepts never wait on JS).
Napi::Value TransportStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  if (!State().front_door) return out;
  std::vector<frontdoor::TransportCellSnapshot> rows = State().front_door->stats().Snapshot();
  for (uint32_t i = 0; i < rows.size(); i++) {
    const auto& cell = rows[i];
    Napi::Object row = Napi::Object::New(env);
    row.Set("direction", cell.direction);
    row.Set("peer", cell.peer == frontdoor::Peer::kSrc ? "src" : "dst");
    EndpointFields(row, "target", cell.target);
    row.Set("openTotal", static_cast<double>(cell.open_total));
    row.Set("openNow", static_cast<double>(cell.open_now));
    row.Set("readBytes", static_cast<double>(cell.read_bytes));
    row.Set("writeBytes", static_cast<double>(cell.write_bytes));
    Napi::Array closes = Napi::Array::New(env, cell.closes.size());
    for (uint32_t n = 0; n < cell.closes.size(); n++) {
      Napi::Array pair = Napi::Array::New(env, 2);
      pair.Set(0u, cell.closes[n].first);
      pair.Set(1u, static_cast<double>(cell.closes[n].second));
      closes.Set(n, pair);
    }
    row.Set("closes", closes);
    out.Set(i, row);
  }
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
      r.Set("policy", c.policy == frontdoor::PolicyClose::kDenied       ? "denied"
                      : c.policy == frontdoor::PolicyClose::kTerminated ? "terminated"
                                                                        : "");
      r.Set("policyEntryId", c.policy_entry_id);
      records.Set(i, r);
    }
  }
  out.Set("dropped", static_cast<double>(dropped));
  out.Set("records", records);
  return out;
}

// errnoName(n): "ECONNREFUSED", "" for 0, "E<n>" for a number that names no errno; -EINVAL for a
// non-number.
Napi::Value ErrnoName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return ErrnoResult(env, EINVAL);
  int n = info[0].As<Napi::Number>().Int32Value();
  const char* name = n == 0 ? "" : ::strerrorname_np(n);
  return Napi::String::New(env, name ? name : ("E" + std::to_string(n)).c_str());
}

Napi::Value SetInboundPolicyOnFrontDoor(const Napi::CallbackInfo& info) {
  return SetInboundPolicy(info, State().front_door.get());
}

}  // namespace meshlet::addon
