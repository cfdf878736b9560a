// Node-API glue of the front door: start/stop with the handoff callback, listeners, forwarding, and the
// transport counters. Every argument is type-checked (-EINVAL otherwise); runtime failures are -errno.
#pragma once

#include <napi.h>

namespace meshlet::addon {

Napi::Value Start(const Napi::CallbackInfo& info);
Napi::Value Listen(const Napi::CallbackInfo& info);
Napi::Value SetTarget(const Napi::CallbackInfo& info);
Napi::Value SetOpaquePorts(const Napi::CallbackInfo& info);
Napi::Value SetLocalIdentity(const Napi::CallbackInfo& info);
Napi::Value SetMeshedEndpoints(const Napi::CallbackInfo& info);
Napi::Value Forward(const Napi::CallbackInfo& info);
Napi::Value SetTcpLiveness(const Napi::CallbackInfo& info);
Napi::Value CloseListeners(const Napi::CallbackInfo& info);
Napi::Value CloseAll(const Napi::CallbackInfo& info);
Napi::Value Stop(const Napi::CallbackInfo& info);
Napi::Value OpenConnections(const Napi::CallbackInfo& info);
Napi::Value TransportStats(const Napi::CallbackInfo& info);
Napi::Value DetectResults(const Napi::CallbackInfo& info);
Napi::Value ClosedConnections(const Napi::CallbackInfo& info);
Napi::Value ErrnoName(const Napi::CallbackInfo& info);
// setInboundPolicy(table): hands the table to the running front door, if any (inbound_policy_napi.cc).
Napi::Value SetInboundPolicyOnFrontDoor(const Napi::CallbackInfo& info);

}  // namespace meshlet::addon
