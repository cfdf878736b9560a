// Logs each finished spliced (TCP/opaque) connection at debug level: who, where, protocol, SNI, bytes
// each way, duration and close reason. Records come from the front door's bounded ring in batches.
import type { Logger } from "../log/logger.ts";
import { native } from "../native/binding.ts";
import { PROTOCOL_RESULT } from "./detect-metrics.ts";

const DRAIN_INTERVAL_MS = 1_000;

export function startConnectionLog(logger: Logger): () => void {
  const drain = () => {
    const { dropped, records } = native.closedConnections();
    for (const r of records) {
      logger.debug("tcp connection closed", {
        client: `${r.clientIp}:${r.clientPort}`,
        target: `${r.targetIp}:${r.targetPort}`,
        protocol: PROTOCOL_RESULT[r.protocol] ?? String(r.protocol),
        sni: r.sni || undefined,
        clientToTargetBytes: r.clientToTargetBytes,
        targetToClientBytes: r.targetToClientBytes,
        durationMs: r.durationMs,
        errno: native.errnoName(r.errno) || undefined,
      });
    }
    if (dropped > 0) logger.debug("connection records dropped (ring full)", { droppedTotal: dropped });
  };
  const timer = setInterval(drain, DRAIN_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    drain();
  };
}
