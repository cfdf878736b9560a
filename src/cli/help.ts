// Help text generated from the command specs: `meshlet --help` lists the commands, `meshlet <command>
// --help` shows a command's usage line, summary, details and options.
import { type CommandSpec, flagOf, HELP_OPTION, type OptionSpec } from "./args.ts";

const COLUMN = 24;

export function commandHelp(spec: CommandSpec): string {
  const options: [string, OptionSpec][] = [...Object.entries(spec.options), ["help", HELP_OPTION]];
  const usage = Object.entries(spec.options).map(([name, o]) => `[${usageOf(name, o)}]`);
  const lines = [`Usage: meshlet ${spec.name}${usage.length ? " " + usage.join(" ") : ""}`, "", spec.summary];
  if (spec.details !== undefined) lines.push("", spec.details);
  lines.push("", "Options:");
  for (const [name, o] of options) {
    const flag = o.type === "string" ? `${flagOf(name, o)} ${o.valueName ?? "VALUE"}` : flagOf(name, o);
    lines.push(`  ${flag.padEnd(COLUMN - 3)} ${o.description}`);
  }
  return lines.join("\n") + "\n";
}

export function overviewHelp(commands: readonly CommandSpec[]): string {
  const lines = ["meshlet — a service-mesh sidecar proxy", "", "Usage: meshlet <command> [options]", "", "Commands:"];
  for (const c of commands) lines.push(`  ${c.name.padEnd(COLUMN - 3)} ${c.summary}`);
  lines.push(
    "",
    "Options:",
    `  ${"-h, --help".padEnd(COLUMN - 3)} show this help (meshlet <command> --help for a command)`,
    `  ${"--version".padEnd(COLUMN - 3)} print the version and exit`,
    "",
    "Settings are MESHLET_* environment variables: `meshlet env` lists them; README.md explains them.",
  );
  return lines.join("\n") + "\n";
}

function usageOf(name: string, o: OptionSpec): string {
  const flag = o.short !== undefined ? `-${o.short}` : `--${name}`;
  if (o.type === "boolean") return flag;
  return `${flag} ${o.choices !== undefined ? o.choices.join("|") : (o.valueName ?? "VALUE")}`;
}
