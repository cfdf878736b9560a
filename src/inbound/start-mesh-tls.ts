// Wiring of inbound mTLS for main.ts: the local identity pushed to the front door (again after each
// rotation, though a rotation keeps the name), and the stage that terminates what it hands over, with
// the inbound HTTP engines and the inbound policy for opaque traffic.
import type { InboundPolicyRuntime } from "../authz/inbound-policy-runtime.ts";
import type { Config } from "../config/env.ts";
import type { IdentityStore } from "../identity/workload-identity.ts";
import type { FrontDoor } from "../l4/front-door.ts";
import type { Logger } from "../log/logger.ts";
import { type MeshTlsStage, type PlaintextEngine, meshTlsStage } from "./mesh-tls-stage.ts";

export function startInboundMeshTls(
  config: Pick<Config, "detectTimeoutMs" | "connectTimeoutMs" | "opaquePorts">,
  identity: IdentityStore,
  frontDoor: FrontDoor,
  engines: { readonly inbound: { readonly server: PlaintextEngine }; readonly inboundH2: { readonly server: PlaintextEngine } },
  policy: InboundPolicyRuntime,
  logger: Logger,
): MeshTlsStage {
  frontDoor.setLocalIdentity(identity.current().name);
  const stop = identity.onChange((next) => frontDoor.setLocalIdentity(next.name));
  const stage = meshTlsStage({
    identity,
    detectTimeoutMs: config.detectTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    http1: engines.inbound.server,
    http2: engines.inboundH2.server,
    opaquePorts: config.opaquePorts,
    admitOpaque: (port, ip, client) => policy.admitMeshTcp(port, ip, client),
    logger,
  });
  return {
    handle: stage.handle,
    close() {
      stop();
      stage.close();
    },
  };
}
