// What `meshlet inject` and `meshlet uninject` share as commands: reading `-f FILE` or standard input,
// and writing the rewritten YAML to standard output with one report line per object on standard error.
import { readFileSync } from "node:fs";

import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { formatProblem } from "../resources/problem.ts";
import type { Result } from "./manifests.ts";

/** The manifests and the name to report them by; `-` or no file means standard input. */
export function readManifests(file: string | undefined): { name: string; text: string } | string {
  if (file === undefined || file === "-") return { name: "<stdin>", text: readFileSync(0, "utf8") };
  try {
    return { name: file, text: readFileSync(file, "utf8") };
  } catch (err) {
    return `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

/** Prints the result; returns the exit code (64 when any problem is an error, as nothing was written). */
export function writeResult(command: string, result: Result): number {
  for (const problem of result.problems) process.stderr.write(formatProblem(problem) + "\n");
  if (result.output === undefined) {
    process.stderr.write(`meshlet ${command}: nothing written (fix the errors above)\n`);
    return EXIT_USAGE;
  }
  process.stdout.write(result.output);
  for (const r of result.reports) process.stderr.write(`${r.object} ${r.outcome}${r.reason ? ` (${r.reason})` : ""}\n`);
  if (!result.reports.some((r) => r.outcome === "injected" || r.outcome === "uninjected" || r.outcome === "unchanged")) {
    process.stderr.write(`meshlet ${command}: no supported objects found\n`);
  }
  return 0;
}
