// Node-API glue of the inbound L4 policy: reads the table TypeScript pushes (every field type-checked,
// -EINVAL with a located message otherwise), hands it to the front door, and reports the counters.
#pragma once

#include <napi.h>

#include "frontdoor/frontdoor.h"

namespace meshlet::addon {

// setInboundPolicy(table): 0 | -EINVAL (malformed) | -ENOSPC (too many entry ids). `front_door` may be
// null (not started): the table is kept and applied by ApplyInboundPolicy when it starts.
Napi::Value SetInboundPolicy(const Napi::CallbackInfo& info, frontdoor::FrontDoor* front_door);
// inboundPolicyStats(): [{ id, allow, deny, terminate }] per entry id ever pushed.
Napi::Value InboundPolicyStats(const Napi::CallbackInfo& info);
// inboundPolicyError(): why the last setInboundPolicy failed, "" after a success.
Napi::Value InboundPolicyError(const Napi::CallbackInfo& info);
// Gives a newly started front door the last pushed table (if any).
void ApplyInboundPolicy(frontdoor::FrontDoor& front_door);

}  // namespace meshlet::addon
