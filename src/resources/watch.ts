// Hot reload of the config directory: fs.watch for speed plus a periodic stat fingerprint (for
// missing directories, ConfigMap symlink swaps and platforms where fs.watch misses events).
// Changes apply within about a second; an invalid change keeps the whole last good generation.
import { type FSWatcher, readdirSync, statSync, watch as fsWatch } from "node:fs";
import { join } from "node:path";
import type { Registry } from "prom-client";
import type { Clock } from "../rt/clock.ts";
import { type Watch, WatchCell } from "../rt/watch.ts";
import { type ConfigSnapshot, loadConfigDir } from "./config-dir.ts";
import type { KindRegistration } from "./kind.ts";
import { isConfigFileName } from "./load.ts";
import { type Problem, problemFields, problemMessage } from "./problem.ts";
import { recordReload, reloadMetrics } from "./reload-metrics.ts";

/** What the watcher logs through; src/log/logger.ts's Logger satisfies it (tests pass a recorder). */
export interface ReloadLogger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
}
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface ReloadStatus {
  /** Whether the latest load succeeded. False: the directory holds an invalid change, ignored. */
  readonly ok: boolean;
  /** Problems of the latest load (errors when !ok; warnings otherwise). */
  readonly problems: readonly Problem[];
  /** Generation in force. */
  readonly generation: number;
  /** Wall-clock ms of the latest successful load. */
  readonly lastSuccessWallMs: number;
}

export interface ConfigWatchOptions {
  readonly dir: string;
  /** The generation loaded at startup (which must have succeeded). */
  readonly initial: ConfigSnapshot;
  /** The kinds to load (src/app/resource-kinds.ts), as for the initial generation. */
  readonly kinds: readonly KindRegistration[];
  /** Wall clock (Unix ms), for the success timestamp. */
  readonly wallClock: Clock;
  readonly log: ReloadLogger;
  /** Registry for the reload gauges; the shared one by default. */
  readonly registry?: Registry;
  /** Fingerprint poll period in ms; default 500 (so a change applies within ~1 s even without events). */
  readonly pollIntervalMs?: number;
  /** Delay in ms between the first change event and the reload, coalescing editor save bursts; default 100. */
  readonly debounceMs?: number;
}

export interface ConfigWatch {
  readonly config: Watch<ConfigSnapshot>;
  readonly status: Watch<ReloadStatus>;
  /** Loads the directory now and applies it if valid (what a change event eventually does). */
  reload(): ReloadStatus;
  /** Stops watching; the values stay readable. */
  close(): void;
}

export const DEFAULT_POLL_INTERVAL_MS = 500;
export const DEFAULT_DEBOUNCE_MS = 100;

/**
 * Watches `dir` and publishes each valid generation. Whole-set semantics: if any file is invalid,
 * no file of the change is applied (a profile moved between files never vanishes halfway, and
 * cross-file rules such as unique names hold); the error is logged once per distinct content
 * and shows in `meshlet_config_last_reload_successful`.
 */
export function watchConfigDir(opts: ConfigWatchOptions): ConfigWatch {
  const { dir, kinds, wallClock, log } = opts;
  const pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  const metrics = reloadMetrics(opts.registry);

  const config = new WatchCell<ConfigSnapshot>(opts.initial);
  const startMs = wallClock.nowMs();
  const status = new WatchCell<ReloadStatus>({
    ok: true,
    problems: opts.initial.warnings,
    generation: opts.initial.generation,
    lastSuccessWallMs: startMs,
  });
  recordReload(metrics, true, 0, startMs);

  let lastRejectedKey: string | undefined;
  let fingerprint = fingerprintOf(dir);
  let watcher: FSWatcher | undefined;
  let watchedIno: number | undefined;
  let pending: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  /** `recheck`: the start-up re-check, which records nothing when it finds the content unchanged. */
  const reload = (recheck = false): ReloadStatus => {
    fingerprint = fingerprintOf(dir); // before reading: a write after this is seen by the next poll
    const current = config.get();
    const result = loadConfigDir(dir, { kinds, previous: current });
    const now = wallClock.nowMs();

    if (!result.ok) {
      const errors = result.problems.filter((p) => p.severity === "error");
      recordReload(metrics, false, errors.length, now);
      if (result.contentKey !== lastRejectedKey) {
        lastRejectedKey = result.contentKey;
        log.error("config change rejected; keeping the last good configuration", {
          dir,
          errors: errors.length,
          generation: current.generation,
        });
        for (const p of errors) log.error(problemMessage(p), problemFields(p));
      }
      const next: ReloadStatus = { ok: false, problems: result.problems, generation: current.generation, lastSuccessWallMs: status.get().lastSuccessWallMs };
      status.set(next);
      return next;
    }

    lastRejectedKey = undefined;
    const wasOk = status.get().ok;
    const unchanged = result.snapshot.contentKey === current.contentKey;
    if (unchanged && recheck && wasOk) return status.get();
    recordReload(metrics, true, 0, now);
    if (unchanged) {
      // Nothing changed (a touch, or a broken edit reverted): keep the current generation as is.
      if (!wasOk) log.info("config directory valid again; configuration unchanged", { dir, generation: current.generation });
      const next: ReloadStatus = { ok: true, problems: current.warnings, generation: current.generation, lastSuccessWallMs: now };
      status.set(next);
      return next;
    }
    const snapshot = result.snapshot;
    config.set(snapshot);
    log.info("config reloaded", {
      dir,
      generation: snapshot.generation,
      files: snapshot.files.length,
      objects: describeObjects(snapshot.objects),
    });
    for (const w of snapshot.warnings) log.warn(problemMessage(w), problemFields(w));
    const next: ReloadStatus = { ok: true, problems: snapshot.warnings, generation: snapshot.generation, lastSuccessWallMs: now };
    status.set(next);
    return next;
  };

  const schedule = (): void => {
    // Coalesce: the first event arms one timer, later events ride along with it.
    if (closed || pending !== undefined) return;
    pending = setTimeout(() => {
      pending = undefined;
      if (!closed) reload();
    }, debounceMs);
    unref(pending);
  };

  const ensureWatcher = (ino: number | undefined): void => {
    if (watcher !== undefined && watchedIno === ino) return;
    watcher?.close();
    watcher = undefined;
    watchedIno = undefined;
    if (ino === undefined) return; // no directory yet: polling notices when it appears
    try {
      const w = fsWatch(dir, { persistent: false }, () => schedule());
      w.on("error", () => {
        // The directory went away (or the watch broke): fall back to polling until it is back.
        if (watcher === w) {
          w.close();
          watcher = undefined;
          watchedIno = undefined;
        }
        schedule();
      });
      watcher = w;
      watchedIno = ino;
    } catch {
      // fs.watch unsupported or racing a removal: polling still covers changes.
    }
  };

  ensureWatcher(fingerprint.dirIno);
  const poll = setInterval(() => {
    if (closed) return;
    const next = fingerprintOf(dir);
    ensureWatcher(next.dirIno);
    if (next.key !== fingerprint.key) {
      fingerprint = next;
      schedule();
    }
  }, pollIntervalMs);
  unref(poll);
  // The initial generation was read before this watcher existed: re-check once, now that changes are
  // watched, to close that gap. Unchanged content is part of the start-up load (counted once, above).
  reload(true);

  return {
    config,
    status,
    reload: () => reload(),
    close() {
      closed = true;
      clearInterval(poll);
      if (pending !== undefined) clearTimeout(pending);
      pending = undefined;
      watcher?.close();
      watcher = undefined;
    },
  };
}

/** `ServiceProfile=2,Server=1` for the log line. */
export function describeObjects(objects: Readonly<Record<string, number>>): string {
  return Object.entries(objects)
    .map(([kind, n]) => `${kind}=${n}`)
    .join(",");
}

interface Fingerprint {
  readonly key: string;
  readonly dirIno: number | undefined;
}

/** Cheap change detection: names, sizes, mtimes and inodes of the config files (symlinks followed). */
function fingerprintOf(dir: string): Fingerprint {
  let dirIno: number;
  let names: string[];
  try {
    dirIno = statSync(dir).ino;
    names = readdirSync(dir).filter(isConfigFileName).sort();
  } catch {
    return { key: "absent", dirIno: undefined };
  }
  let key = `dir:${dirIno}`;
  for (const name of names) {
    try {
      const st = statSync(join(dir, name));
      key += `|${name}:${st.size}:${st.mtimeMs}:${st.ino}`;
    } catch {
      key += `|${name}:gone`;
    }
  }
  return { key, dirIno };
}

function unref(timer: unknown): void {
  if (timer !== null && typeof timer === "object" && "unref" in timer && typeof timer.unref === "function") timer.unref();
}
