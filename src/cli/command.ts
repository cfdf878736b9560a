// A CLI command: its spec (name, summary, options) and what it runs. `defineCommand` adds the parts
// every command shares: strict argument parsing (a UsageError on any mistake) and --help.
import { type CommandSpec, type OptionSpecs, type OptionValues, parseCommandArgs } from "./args.ts";
import { commandHelp } from "./help.ts";

export interface Command {
  readonly spec: CommandSpec;
  /** Runs with the arguments after the command name; resolves with the exit code (never, for `proxy`). */
  run(args: readonly string[]): Promise<number>;
}

export function defineCommand<O extends OptionSpecs>(
  spec: CommandSpec<O>,
  run: (values: OptionValues<O>) => number | Promise<number>,
): Command {
  return {
    spec,
    async run(args) {
      const parsed = parseCommandArgs(spec, args);
      if (parsed.help) {
        process.stdout.write(commandHelp(spec));
        return 0;
      }
      return run(parsed.values);
    },
  };
}

/** An entry of the CLI's command table: the command's name, and the command, loaded when asked for. */
export interface CommandEntry {
  readonly name: string;
  load(): Promise<Command>;
}

/**
 * A command whose module (and what it imports) loads only when it runs or `meshlet --help` lists it, so
 * `meshlet proxy` does not parse the other commands' code at start.
 */
export function lazyCommand(name: string, load: () => Promise<Command>): CommandEntry {
  return {
    name,
    async load() {
      const command = await load();
      if (command.spec.name !== name) throw new Error(`the command table names ${JSON.stringify(name)} but its module defines ${JSON.stringify(command.spec.name)}`);
      return command;
    },
  };
}

/**
 * A command that parses its own arguments (strictly, with node:util parseArgs) and prints its own
 * --help; loaded only when run, so `meshlet proxy` does not load it.
 */
export function selfParsingCommand(
  name: string,
  summary: string,
  load: () => Promise<{ run(argv: string[]): Promise<number> }>,
): CommandEntry {
  const command: Command = { spec: { name, summary, options: {} }, run: async (args) => (await load()).run([...args]) };
  return { name, load: async () => command };
}
