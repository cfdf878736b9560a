// Loads the config directory at boot (every problem printed, exit 64 on errors, like the environment)
// and starts the hot-reload watcher that keeps the last good generation when a change is invalid.
import type { Logger } from "../log/logger.ts";
import { wallClock } from "../rt/clock.ts";
import { type ConfigSnapshot, loadConfigDir } from "./config-dir.ts";
import type { KindRegistration } from "./kind.ts";
import { problemFields, problemMessage } from "./problem.ts";
import { type ConfigWatch, describeObjects, watchConfigDir } from "./watch.ts";

/** The first generation, or undefined after printing every problem (the caller exits 64). */
export function loadInitialResources(dir: string, kinds: readonly KindRegistration[], logger: Logger): ConfigSnapshot | undefined {
  const result = loadConfigDir(dir, { kinds });
  for (const problem of result.problems) {
    if (problem.severity === "error") logger.error(problemMessage(problem), problemFields(problem));
    else logger.warn(problemMessage(problem), problemFields(problem));
  }
  if (!result.ok) return undefined;
  logger.info("resources loaded", { dir, files: result.snapshot.files.length, objects: describeObjects(result.snapshot.objects) });
  return result.snapshot;
}

export function watchResources(dir: string, kinds: readonly KindRegistration[], initial: ConfigSnapshot, logger: Logger): ConfigWatch {
  return watchConfigDir({ dir, kinds, initial, wallClock, log: logger });
}
