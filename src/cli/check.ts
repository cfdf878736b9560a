// `meshlet check`: validates the MESHLET_* environment (the identity files it names included) and the
// resource directory the way the proxy would load them, lists every problem, and ends with what it
// checked — as text, or JSON for CI.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";

import { type Config, ConfigError, type ConfigProblem, parseConfig } from "../config/env.ts";
import { resourceKinds } from "../app/resource-kinds.ts";
import { checkIdentityFiles, type IdentityCheck } from "../identity/check-identity.ts";
import { type LoadResult, loadConfigDir } from "../resources/config-dir.ts";
import { formatProblem, type Problem } from "../resources/problem.ts";
import { monotonicClock } from "../rt/clock.ts";
import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { UsageError } from "./args.ts";
import { defineCommand } from "./command.ts";

/** The JSON printed by `check -o json` (stable field names: CI scripts read them). */
export interface CheckReport {
  readonly ok: boolean;
  readonly environment: { readonly ok: boolean; readonly problems: readonly ConfigProblem[] };
  /** The workload identity of MESHLET_IDENTITY_* when they are set (its problems are environment problems). */
  readonly identity?: { readonly name: string; readonly notAfter: string };
  /** Absent when the environment was invalid (the directory was not read). */
  readonly configDir?: {
    readonly path: string;
    /** False for the default directory when it is absent (the proxy then starts with no resources). */
    readonly exists: boolean;
    readonly ok: boolean;
    /** Files and resources of the generation the proxy would load; empty when it would refuse the set. */
    readonly files: readonly string[];
    readonly resources: readonly ResourceCount[];
    readonly errors: number;
    readonly warnings: number;
    readonly problems: readonly Problem[];
  };
}

export interface ResourceCount {
  readonly kind: string;
  readonly count: number;
  /** False for Linkerd kinds that are read and kept but not enforced yet. */
  readonly implemented: boolean;
}

export const checkCommand = defineCommand(
  {
    name: "check",
    summary: "validate the MESHLET_* environment and the resource directory; exits 64 on any error",
    details:
      "Lists every problem (file:line:col, document, field path), then what was checked. The directory is\n" +
      "--config-dir, else MESHLET_CONFIG_DIR, else ./meshlet.d; a directory named by either must exist.",
    options: {
      "config-dir": { type: "string", valueName: "DIR", description: "resource directory to check (default: MESHLET_CONFIG_DIR)" },
      output: { type: "string", short: "o", valueName: "FORMAT", choices: ["text", "json"], description: "text (default) or json (one report on stdout)" },
    },
    positionalHint: (value) => `did you mean --config-dir ${value}?`,
  },
  async (values) => {
    const json = values.output === "json";
    let config: Config;
    let identity: IdentityCheck;
    try {
      config = parseConfig(process.env);
      identity = await checkIdentityFiles(config, Date.now());
      if (identity.configured && !identity.ok) throw new ConfigError(identity.problems);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      if (json) print({ ok: false, environment: { ok: false, problems: err.problems } });
      else process.stderr.write(`meshlet: ${err.message}\n`);
      return EXIT_USAGE;
    }
    const named = values["config-dir"] !== undefined ? "--config-dir" : process.env.MESHLET_CONFIG_DIR !== undefined ? "MESHLET_CONFIG_DIR" : undefined;
    const dir = values["config-dir"] ?? config.configDir;
    if (named !== undefined) requireDirectory(named, dir);

    const result = loadConfigDir(dir, { kinds: resourceKinds(config, monotonicClock) });
    const report = reportOf(dir, existsSync(dir), result, identity.configured && identity.ok ? { name: identity.name, notAfter: new Date(identity.notAfterMs).toISOString() } : undefined);
    if (json) print(report);
    else printText(dir, report);
    return report.ok ? 0 : EXIT_USAGE;
  },
);

/** A directory the user named must exist (the proxy itself waits for an absent one to appear). */
function requireDirectory(namedBy: string, dir: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (err) {
    throw new UsageError(`${namedBy} ${dir}: ${(err as { code?: string }).code === "ENOENT" ? "no such directory" : (err as Error).message}`);
  }
  if (!isDirectory) throw new UsageError(`${namedBy} ${dir}: not a directory`);
}

function reportOf(dir: string, exists: boolean, result: LoadResult, identity: CheckReport["identity"]): CheckReport {
  const problems = result.problems;
  const errors = problems.filter((p) => p.severity === "error").length;
  return {
    ok: result.ok,
    environment: { ok: true, problems: [] },
    ...(identity !== undefined ? { identity } : {}),
    configDir: {
      path: resolve(dir),
      exists,
      ok: result.ok,
      files: result.ok ? result.snapshot.files : [],
      resources: result.ok ? resourceCounts(result.snapshot) : [],
      errors,
      warnings: problems.length - errors,
      problems,
    },
  };
}

/** Kinds in the loaded generation: implemented ones first, then those kept for later issues. */
function resourceCounts(snapshot: Extract<LoadResult, { ok: true }>["snapshot"]): ResourceCount[] {
  const kept = new Set(snapshot.kept.map((r) => r.kind));
  return Object.entries(snapshot.objects).map(([kind, count]) => ({ kind, count, implemented: !kept.has(kind) }));
}

function printText(dir: string, report: CheckReport): void {
  const d = report.configDir!;
  for (const problem of d.problems) process.stderr.write(formatProblem(problem) + "\n");
  const tally = `${plural(d.errors, "error")}, ${plural(d.warnings, "warning")}`;
  if (!d.ok) {
    process.stderr.write(`meshlet check: ${dir}: ${tally}\n`);
    return;
  }
  const total = d.resources.reduce((n, r) => n + r.count, 0);
  const kinds = d.resources.map((r) => `${plural(r.count, r.kind)}${r.implemented ? "" : " (kept, not enforced yet)"}`);
  const what = !d.exists ? "no such directory (the proxy starts with no resources and loads it once it appears)" : `${plural(d.files.length, "file")}, ${plural(total, "resource")}${kinds.length ? ": " + kinds.join(", ") : ""}`;
  const identity = report.identity !== undefined ? `identity: ${report.identity.name} (valid until ${report.identity.notAfter})\n` : "";
  process.stdout.write(`environment: ok\n${identity}${dir}: ok — ${what}${d.warnings > 0 ? `; ${plural(d.warnings, "warning")}` : ""}\n`);
}

/** "1 file", "2 files", "2 AuthorizationPolicies". */
function plural(n: number, noun: string): string {
  if (n === 1) return `1 ${noun}`;
  return `${n} ${/[^aeiou]y$/.test(noun) ? noun.slice(0, -1) + "ies" : noun + "s"}`;
}

function print(report: CheckReport): void {
  process.stdout.write(JSON.stringify(report, null, 2) + "\n");
}
