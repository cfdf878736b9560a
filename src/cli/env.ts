// `meshlet env`: every MESHLET_* setting with the value in force and where it came from (the
// environment or the default), then any problem with them; `--markdown` prints README's table.
import { effectiveSettings, redactedValue } from "../config/effective.ts";
import { ConfigError, type ConfigProblem, parseConfig, settingsMarkdown } from "../config/env.ts";
import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { UsageError } from "./args.ts";
import { defineCommand } from "./command.ts";

export const envCommand = defineCommand(
  {
    name: "env",
    summary: "list the MESHLET_* settings: effective value, source (env or default) and meaning",
    details: "Exits 64 after the list if a value is invalid or a MESHLET_* name is unknown. Secrets are redacted.",
    options: {
      markdown: { type: "boolean", description: "print the settings table with defaults, as in README.md" },
      output: { type: "string", short: "o", valueName: "FORMAT", choices: ["text", "json"], description: "text (default) or json" },
    },
  },
  (values) => {
    if (values.markdown === true) {
      if (values.output !== undefined) throw new UsageError("--markdown and --output cannot be combined");
      process.stdout.write(settingsMarkdown() + "\n");
      return 0;
    }
    const settings = effectiveSettings(process.env);
    const problems = problemsOf(process.env);
    if (values.output === "json") {
      process.stdout.write(JSON.stringify({ settings, problems }, null, 2) + "\n");
    } else {
      const width = Math.max(...settings.map((s) => s.name.length + s.value.length + 1));
      for (const s of settings) {
        process.stdout.write(`${`${s.name}=${s.value}`.padEnd(width)}  (${s.source === "env" ? "from env" : "default"})\n    ${s.meaning}\n`);
      }
      if (problems.length > 0) process.stderr.write(`meshlet: ${new ConfigError(problems).message}\n`);
    }
    return problems.length > 0 ? EXIT_USAGE : 0;
  },
);

function problemsOf(env: NodeJS.ProcessEnv): readonly ConfigProblem[] {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => ({ ...p, value: redactedValue(p.name, p.value) }));
  }
}
