// The identity in force and its rotation: validated at start (problems → ConfigError, exit 64), then
// the files are watched; a valid new set for the same name replaces the identity whole and listeners
// hear of it, any other is refused with a warning and the old identity stays (as Linkerd keeps its certificate).
import { ConfigError } from "../config/env.ts";
import type { Logger } from "../log/logger.ts";
import type { Registry } from "../metrics/prom-client.ts";
import { type Clock, wallClock as systemWallClock } from "../rt/clock.ts";
import { WatchCell } from "../rt/watch.ts";
import { type FileSetWatchOptions, watchFileSet } from "./file-set-watch.ts";
import { type IdentityProblem, identityProblemMessage, toConfigProblem } from "./identity-problem.ts";
import { type IdentityMetrics, registerIdentityMetrics } from "./identity-metrics.ts";
import { loadIdentity } from "./load-identity.ts";
import type { IdentityPaths, IdentityStore, WorkloadIdentity } from "./workload-identity.ts";

export interface IdentityStoreOptions extends FileSetWatchOptions {
  readonly paths: IdentityPaths;
  /** The `identity` scope: installs, refused changes, expiry. */
  readonly log: Logger;
  /** Wall clock (Unix ms) for validity checks; the system's by default. */
  readonly wallClock?: Clock;
  /** Registry for the identity families; the shared one by default. */
  readonly registry?: Registry;
}

/** Node's timers take at most 2^31−1 ms; a later expiry is re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Loads and validates the files now (throws ConfigError listing every problem), then watches them. */
export function openIdentityStore(options: IdentityStoreOptions): IdentityStore {
  const { paths, log } = options;
  const clock = options.wallClock ?? systemWallClock;
  const first = loadIdentity(paths, clock.nowMs());
  if (!first.ok) throw new ConfigError(first.problems.map(toConfigProblem));

  const metrics = registerIdentityMetrics(options.registry);
  const cell = new WatchCell<WorkloadIdentity>(first.identity);
  let currentKey = first.contentKey;
  let lastRejectedKey: string | undefined;
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;

  const armExpiryWarning = (identity: WorkloadIdentity): void => {
    if (expiryTimer !== undefined) clearTimeout(expiryTimer);
    const inMs = identity.notAfterMs - clock.nowMs();
    expiryTimer = setTimeout(() => {
      if (cell.get() !== identity) return;
      if (clock.nowMs() <= identity.notAfterMs) return armExpiryWarning(identity);
      log.warn("identity certificate expired; /ready fails until a valid one is installed", { identity: identity.name, notAfter: iso(identity.notAfterMs) });
    }, Math.min(Math.max(inMs + 1, 0), MAX_TIMER_MS));
    expiryTimer.unref();
  };

  const install = (identity: WorkloadIdentity, contentKey: string, event: string): void => {
    currentKey = contentKey;
    lastRejectedKey = undefined;
    metrics.refreshesTotal.inc({ result: "ok" });
    metrics.refreshTimestampSeconds.set(clock.nowMs() / 1000);
    metrics.expirationTimestampSeconds.set(identity.notAfterMs / 1000);
    cell.set(identity);
    armExpiryWarning(identity);
    log.info(event, { identity: identity.name, notAfter: iso(identity.notAfterMs) });
  };

  const reload = (): void => {
    const next = loadIdentity(paths, clock.nowMs());
    if (next.contentKey === currentKey) {
      lastRejectedKey = undefined; // unchanged (a touch, or a broken write reverted)
      return;
    }
    const problems = next.ok ? renamed(next.identity) : next.problems;
    if (next.ok && problems.length === 0) return install(next.identity, next.contentKey, "identity rotated");
    if (next.contentKey === lastRejectedKey) return; // this content was refused already
    lastRejectedKey = next.contentKey;
    metrics.refreshesTotal.inc({ result: "error" });
    log.warn("identity files changed but are not usable; keeping the current identity", { identity: cell.get().name, problems: problems.length });
    for (const p of problems) log.warn(identityProblemMessage(p), { code: p.code, path: p.path });
  };

  /** As Linkerd checks a renewed certificate against its local name: the identity is fixed for the process. */
  const renamed = (next: WorkloadIdentity): IdentityProblem[] => {
    const name = cell.get().name;
    if (next.name === name) return [];
    return [{ code: "MESHLET_ERR_IDENTITY_RENAMED", setting: "MESHLET_IDENTITY_CERT", path: paths.cert, expected: `a certificate for ${name}, the identity this proxy started with (restart to change it); got one for ${next.name}` }];
  };

  metrics.refreshesTotal.inc({ result: "error" }, 0); // both series from the start
  install(first.identity, first.contentKey, "identity loaded");
  const watch = watchFileSet([paths.trustAnchors, paths.cert, paths.key], reload, options);
  reload(); // a change between the first read and the watch start would otherwise wait for the next one

  return {
    current: () => cell.get(),
    onChange: (listener) => cell.subscribe(listener),
    expired: () => clock.nowMs() > cell.get().notAfterMs, // notAfter itself is still valid (RFC 5280)
    close() {
      watch.close();
      if (expiryTimer !== undefined) clearTimeout(expiryTimer);
    },
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
