// Half-open TCP connections (seed: Linkerd's "Debugging 502s"): CLOSE_WAIT, where the peer has closed
// and the local side has not, and FIN_WAIT_2, where the local side has closed and waits for the peer.
// Exposed as tcp_half_open_connections{state} (read at scrape time) and listed by `meshlet diagnostics half-open`.
import { Gauge } from "../metrics/prom-client.ts";

import { registry } from "../metrics/registry.ts";
import { type TcpSocket, readTcpSockets } from "./tcp-table.ts";

export const HALF_OPEN_STATES = ["close_wait", "fin_wait_2"] as const;
export type HalfOpenState = (typeof HALF_OPEN_STATES)[number];

export function halfOpenSockets(sockets: readonly TcpSocket[]): TcpSocket[] {
  return sockets.filter((s) => (HALF_OPEN_STATES as readonly string[]).includes(s.state));
}

export function countByState(sockets: readonly TcpSocket[]): Record<HalfOpenState, number> {
  const counts = { close_wait: 0, fin_wait_2: 0 };
  for (const s of halfOpenSockets(sockets)) counts[s.state as HalfOpenState]++;
  return counts;
}

/** Registers the gauge; each scrape reads this network namespace's /proc/net/tcp and tcp6 once. */
export function registerHalfOpenMetrics(read: () => TcpSocket[] = () => readTcpSockets()): void {
  new Gauge({
    name: "tcp_half_open_connections",
    help: "TCP connections of this network namespace half-closed: close_wait (peer closed, local side has not) or fin_wait_2 (local side closed, peer has not)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const counts = countByState(read());
      for (const state of HALF_OPEN_STATES) this.set({ state }, counts[state]);
    },
  });
}
