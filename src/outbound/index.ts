// Outbound composition: the redirected listener (connections keep their original destination) and one
// listener per MESHLET_OUTBOUND_UPSTREAMS pair for apps that dial meshlet directly.
import type { Config } from "../config/env.ts";
import { formatHostPort } from "../config/values.ts";
import type { AcceptedConnection, FrontDoor, Listener } from "../l4/front-door.ts";
import { Protocol } from "../native/binding.ts";

export interface OutboundHandlers {
  readonly http1: (conn: AcceptedConnection) => void;
  /** HTTP/2 prior knowledge (h2c); absent: such connections are spliced as TCP. */
  readonly http2?: ((conn: AcceptedConnection) => void) | undefined;
  /** TCP to a meshed endpoint (start-mesh-tls-origination.ts); absent without identity: spliced in plaintext. */
  readonly meshedTcp?: ((conn: AcceptedConnection) => void) | undefined;
}

export async function startOutbound(config: Config, frontDoor: FrontDoor, handlers: OutboundHandlers): Promise<Listener[]> {
  const common = {
    direction: "outbound" as const,
    detectTimeoutMs: config.detectTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    idleTimeoutMs: config.tcpIdleTimeoutMs,
    pipeBytes: config.splicePipeBytes,
    handlers: { [Protocol.Http1]: handlers.http1, ...(handlers.http2 !== undefined ? { [Protocol.Http2]: handlers.http2 } : {}) },
    meshedTcp: handlers.meshedTcp,
  };
  const listeners = [await frontDoor.listen({ ...common, name: "outbound", bind: config.outboundListen })];
  for (const mapping of config.outboundUpstreams) {
    listeners.push(
      await frontDoor.listen({
        ...common,
        name: `outbound ${formatHostPort(mapping.listen)}`,
        bind: mapping.listen,
        target: mapping.destination,
      }),
    );
  }
  return listeners;
}
