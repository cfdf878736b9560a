// Loads the config directory at boot (every problem printed, exit 64 on errors, like the environment)
// and starts the hot-reload watcher that keeps the last good generation when a change is invalid.
import type { Config } from "../config/env.ts";
import type { Logger } from "../log/logger.ts";
import { monotonicClock, wallClock } from "../rt/clock.ts";
import { type ConfigSnapshot, type ProfileEnv, loadConfigDir } from "./config-dir.ts";
import { formatProblem } from "./problem.ts";
import { type ConfigWatch, watchConfigDir } from "./watch.ts";

export function profileEnvOf(config: Config): ProfileEnv {
  return {
    inboundProfileName: config.inboundProfile || undefined,
    externalProfiles: config.externalProfiles,
    clusterDomain: config.clusterDomain,
  };
}

/** The first generation, or undefined after printing every problem (the caller exits 64). */
export function loadInitialResources(config: Config, logger: Logger): ConfigSnapshot | undefined {
  const result = loadConfigDir(config.configDir, { clock: monotonicClock, env: profileEnvOf(config) });
  for (const problem of result.problems) {
    (problem.severity === "error" ? logger.error : logger.warn)(formatProblem(problem));
  }
  if (!result.ok) return undefined;
  logger.info("resources loaded", {
    dir: config.configDir,
    files: result.snapshot.files.length,
    profiles: result.snapshot.profiles.byName.size,
  });
  return result.snapshot;
}

export function watchResources(config: Config, initial: ConfigSnapshot, logger: Logger): ConfigWatch {
  return watchConfigDir({
    dir: config.configDir,
    initial,
    clock: monotonicClock,
    wallClock,
    log: logger,
    env: profileEnvOf(config),
  });
}
