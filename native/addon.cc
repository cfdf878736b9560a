// The addon's export table. The glue lives beside it, one file per capability: frontdoor_napi.cc,
// inbound_policy_napi.cc, histogram_napi.cc. Functions never throw into JavaScript: they return -errno
// (wrong argument types: -EINVAL) and src/native/ builds the error. Only src/native/binding.ts loads it.
#include <napi.h>

#include "frontdoor_napi.h"
#include "histogram_napi.h"
#include "inbound_policy_napi.h"

namespace {

using namespace meshlet::addon;

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("listen", Napi::Function::New(env, Listen));
  exports.Set("setTarget", Napi::Function::New(env, SetTarget));
  exports.Set("setOpaquePorts", Napi::Function::New(env, SetOpaquePorts));
  exports.Set("setLocalIdentity", Napi::Function::New(env, SetLocalIdentity));
  exports.Set("setMeshedEndpoints", Napi::Function::New(env, SetMeshedEndpoints));
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
  exports.Set("setInboundPolicy", Napi::Function::New(env, SetInboundPolicyOnFrontDoor));
  exports.Set("inboundPolicyStats", Napi::Function::New(env, InboundPolicyStats));
  exports.Set("inboundPolicyError", Napi::Function::New(env, InboundPolicyError));
  exports.Set("histogramCreate", Napi::Function::New(env, HistogramCreate));
  exports.Set("histogramRecordMany", Napi::Function::New(env, HistogramRecordMany));
  exports.Set("histogramSnapshot", Napi::Function::New(env, HistogramSnapshot));
  return exports;
}

}  // namespace

NODE_API_MODULE(meshlet, Init)
