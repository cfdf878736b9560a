// TCP keepalive and TCP_USER_TIMEOUT per direction and side (accepted / dialed), as the MESHLET_*
// settings give them, for the sockets the front door owns: a peer that vanished is released.
import type { Config } from "../config/env.ts";
import type { Direction } from "../rt/direction.ts";

export interface SideLiveness {
  /** Keepalive idle time and probe interval; 0 = off. */
  readonly acceptKeepaliveMs: number;
  readonly connectKeepaliveMs: number;
  /** TCP_USER_TIMEOUT on both sides; 0 = the kernel's default. */
  readonly userTimeoutMs: number;
}

export type TcpLiveness = Readonly<Record<Direction, SideLiveness>>;

/** Everything off: the kernel's defaults (test harnesses that start a front door without a config pass it explicitly). */
export const NO_TCP_LIVENESS: TcpLiveness = {
  inbound: { acceptKeepaliveMs: 0, connectKeepaliveMs: 0, userTimeoutMs: 0 },
  outbound: { acceptKeepaliveMs: 0, connectKeepaliveMs: 0, userTimeoutMs: 0 },
};

export function tcpLivenessOf(config: Config): TcpLiveness {
  return {
    inbound: { acceptKeepaliveMs: config.inboundAcceptKeepaliveMs, connectKeepaliveMs: config.inboundConnectKeepaliveMs, userTimeoutMs: config.tcpUserTimeoutMs },
    outbound: { acceptKeepaliveMs: config.outboundAcceptKeepaliveMs, connectKeepaliveMs: config.outboundConnectKeepaliveMs, userTimeoutMs: config.tcpUserTimeoutMs },
  };
}
