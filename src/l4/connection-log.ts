// Logs each finished spliced (TCP/opaque) connection in its direction's scope: a clean close at debug
// (who, where, protocol, SNI, bytes each way, duration); one that ended in an error (errno) at warn,
// rate limited per (errno, target) — a connection with no target at all (a non-HTTP client on the
// outbound port without an original destination, or inbound before a DNS forward target resolves) says so. Records come from the front door's ring.
import type { Logger } from "../log/logger.ts";
import { RateLimitedLog } from "../log/rate-limited-log.ts";
import { type ClosedConnectionRecord, native } from "../native/binding.ts";
import { PROTOCOL_RESULT } from "./detect-metrics.ts";
import { logPolicyClose } from "./policy-close-log.ts";
import { formatHostPort } from "../config/values.ts";
import type { Direction, FrontDoor } from "./front-door.ts";

const DRAIN_INTERVAL_MS = 1_000;

/** Closes without a target: native/frontdoor/frontdoor.cc StartConnect has nowhere to dial. */
const EDESTADDRREQ = "EDESTADDRREQ";

/** `logger`: the process logger (lines are scoped inbound/outbound, ring overflows native). */
export function startConnectionLog(logger: Logger, frontDoor: Pick<FrontDoor, "listenerById">): () => void {
  const scoped = { inbound: logger.scoped("inbound"), outbound: logger.scoped("outbound") };
  const failures = { inbound: new RateLimitedLog(scoped.inbound), outbound: new RateLimitedLog(scoped.outbound) };
  const nativeLog = logger.scoped("native");

  const logRecord = (r: ClosedConnectionRecord): void => {
    const direction: Direction = frontDoor.listenerById(r.listenerId)?.config.direction ?? "inbound";
    if (logPolicyClose(failures[direction], r)) return;
    const errno = native.errnoName(r.errno);
    if (errno === "" && !scoped[direction].enabled("debug")) return;
    const client = formatHostPort({ host: r.clientIp, port: r.clientPort });
    const protocol = PROTOCOL_RESULT[r.protocol] ?? String(r.protocol);
    if (errno === EDESTADDRREQ && r.targetPort === 0) {
      failures[direction].warn(`${direction} ${errno}`, "no target for a non-HTTP connection; closed", {
        client,
        reason: direction === "outbound" ? "no original destination" : "forward target not resolved",
        protocol,
        errno,
      });
      return;
    }
    const target = formatHostPort({ host: r.targetIp, port: r.targetPort });
    const fields = {
      client,
      target,
      protocol,
      sni: r.sni || undefined,
      clientToTargetBytes: r.clientToTargetBytes,
      targetToClientBytes: r.targetToClientBytes,
      durationMs: r.durationMs,
      errno: errno || undefined,
    };
    // The same event either way; an error close is a warning (and rate limited).
    if (errno !== "") failures[direction].warn(`${direction} ${errno} ${target}`, "tcp connection closed", fields);
    else scoped[direction].debug("tcp connection closed", fields);
  };

  const drain = () => {
    const { dropped, records } = native.closedConnections();
    for (const r of records) logRecord(r);
    if (dropped > 0) nativeLog.debug("connection records dropped (ring full)", { droppedTotal: dropped });
  };
  const timer = setInterval(drain, DRAIN_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    drain();
    failures.inbound.close();
    failures.outbound.close();
  };
}
