// `--close-wait-timeout`: how long conntrack keeps a CLOSE_WAIT entry in this network namespace
// (net.netfilter.nf_conntrack_tcp_timeout_close_wait), written straight to /proc/sys as sysctl does.
import { writeFileSync } from "node:fs";

import { parseGoDuration } from "../resources/duration.ts";
import { InitIptablesError } from "./iptables.ts";

export const CLOSE_WAIT_SYSCTL = "/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close_wait";

/** A Go duration ("1m", "90s", "1h30m") truncated to whole seconds, as Linkerd's annotation; at least 1s. */
export function parseCloseWaitSeconds(text: string): number | string {
  const parsed = parseGoDuration(text.trim());
  if (!parsed.ok) return `${parsed.error}; expected a duration like 60s or 1m`;
  const seconds = Number(parsed.ns / 1_000_000_000n);
  if (seconds < 1 || seconds > 2 ** 31 - 1) return `a duration from 1s to 68y (got ${JSON.stringify(text)})`;
  return seconds;
}

/** Sets the namespace's conntrack close-wait timeout; fails if conntrack is not available here. */
export function setCloseWaitTimeout(seconds: number, path = CLOSE_WAIT_SYSCTL): void {
  try {
    writeFileSync(path, `${seconds}\n`);
  } catch (err) {
    throw new InitIptablesError(`cannot set ${path} to ${seconds}: ${(err as Error).message} (needs CAP_NET_ADMIN and the nf_conntrack module)`);
  }
}
