// Linkerd's info lines for connections the inbound L4 policy closed, from the front door's
// closed-connection records: "Connection denied" (refused at accept or before dialing) and
// "Connection terminated due to policy change" (a push withdrew permission), with the entry id.
import type { RateLimitedLog } from "../log/rate-limited-log.ts";
import type { ClosedConnectionRecord } from "../native/binding.ts";
import { formatHostPort } from "../config/values.ts";

const MESSAGES = { denied: "Connection denied", terminated: "Connection terminated due to policy change" } as const;

/**
 * Logs `record` at info if the policy closed it, rate limited per (kind, entry), and says so; false
 * (nothing logged) for any other close.
 */
export function logPolicyClose(log: RateLimitedLog, record: ClosedConnectionRecord): boolean {
  if (record.policy === "") return false;
  log.info(`${record.policy} ${record.policyEntryId}`, MESSAGES[record.policy], {
    client: formatHostPort({ host: record.clientIp, port: record.clientPort }),
    target: formatHostPort({ host: record.targetIp, port: record.targetPort }),
    policyEntryId: record.policyEntryId,
    durationMs: record.durationMs,
  });
  return true;
}
