// Inbound composition: one listener for traffic to the local app. Connections go to their original
// destination or MESHLET_INBOUND_FORWARD; opaque ports are spliced, the rest sniffed then handled
// (mTLS to this workload's identity is terminated first when identity is configured).
import type { Config } from "../config/env.ts";
import type { AcceptedConnection, FrontDoor, Listener } from "../l4/front-door.ts";
import { Protocol } from "../native/binding.ts";

export interface InboundHandlers {
  readonly http1: (conn: AcceptedConnection) => void;
  /** HTTP/2 prior knowledge (h2c); absent: such connections are spliced as TCP. */
  readonly http2?: ((conn: AcceptedConnection) => void) | undefined;
  /** mTLS to this workload's identity (mesh-tls-stage.ts); absent without identity: such ClientHellos are spliced. */
  readonly meshTls?: ((conn: AcceptedConnection) => void) | undefined;
}

export function startInbound(config: Config, frontDoor: FrontDoor, handlers: InboundHandlers): Promise<Listener> {
  return frontDoor.listen({
    name: "inbound",
    direction: "inbound",
    bind: config.inboundListen,
    target: config.inboundForward,
    detectTimeoutMs: config.detectTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    idleTimeoutMs: config.tcpIdleTimeoutMs,
    pipeBytes: config.splicePipeBytes,
    handlers: {
      [Protocol.Http1]: handlers.http1,
      ...(handlers.http2 !== undefined ? { [Protocol.Http2]: handlers.http2 } : {}),
      ...(handlers.meshTls !== undefined ? { [Protocol.MeshTls]: handlers.meshTls } : {}),
    },
  });
}
