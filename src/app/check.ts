// `meshlet check`: validates the MESHLET_* environment, then every resource file of the config
// directory with the kinds that environment configures. Prints every problem; exit 64 on any error.
import { ConfigError, parseConfig, type Strings } from "../config/env.ts";
import { checkConfigDir } from "../resources/config-dir.ts";
import { formatProblem, hasErrors } from "../resources/problem.ts";
import { monotonicClock } from "../rt/clock.ts";
import { resourceKinds } from "./resource-kinds.ts";

/** EX_USAGE: a bad environment or an invalid configuration (as main.ts exits at start-up). */
const EXIT_INVALID = 64;

export interface CheckOptions {
  /** The environment (MESHLET_* settings). */
  readonly env: Strings;
  /** `--config-dir`: checks this directory instead of MESHLET_CONFIG_DIR. */
  readonly configDir?: string | undefined;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Runs the check and returns the exit code: 0 (warnings allowed) or 64. */
export function runCheck(opts: CheckOptions): number {
  let config;
  try {
    config = parseConfig(opts.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    opts.stderr(`meshlet: ${err.message}\n`);
    return EXIT_INVALID;
  }
  const dir = opts.configDir ?? config.configDir;
  const problems = checkConfigDir(dir, resourceKinds(config, monotonicClock));
  for (const problem of problems) opts.stderr(formatProblem(problem) + "\n");
  if (hasErrors(problems)) {
    opts.stderr(`meshlet check: ${dir}: ${problems.filter((p) => p.severity === "error").length} error(s)\n`);
    return EXIT_INVALID;
  }
  opts.stdout(`environment: ok\n${dir}: ok${problems.length ? ` (${problems.length} warning(s))` : ""}\n`);
  return 0;
}
