// Command-line parsing for every meshlet command: node:util parseArgs in strict mode (unknown flags,
// stray arguments and missing values are refused), each refusal turned into a UsageError that names
// the offending argument and, for a misspelt flag, the closest real one.
import { parseArgs } from "node:util";

import { closestName } from "../config/closest-name.ts";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** One letter: `-o json`. */
  readonly short?: string;
  /** Placeholder for the value in help text, e.g. DIR. */
  readonly valueName?: string;
  /** The only values a string option accepts. */
  readonly choices?: readonly string[];
  readonly description: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  /** As typed after `meshlet`. */
  readonly name: string;
  /** One line, for `meshlet --help`. */
  readonly summary: string;
  /** Paragraphs for `meshlet <name> --help`, after the summary. */
  readonly details?: string;
  readonly options: O;
  /** Says what to type instead of a stray argument, e.g. "did you mean --config-dir DIR?". */
  readonly positionalHint?: (value: string) => string;
}

/** Parsed values: a boolean per boolean flag, a string per string option, absent when not given. */
export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean : string;
};

/** A command line that cannot be run as typed; the CLI prints it and exits 64. */
export class UsageError extends Error {
  readonly code = "MESHLET_ERR_USAGE";
}

/** Every command takes -h/--help. */
export const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", description: "show this help and exit" };

export type ParsedArgs<O extends OptionSpecs> = { readonly help: true } | { readonly help: false; readonly values: OptionValues<O> };

type Token = NonNullable<ReturnType<typeof parseArgs>["tokens"]>[number];

/** Parses the arguments after the command name; throws UsageError on the first mistake. */
export function parseCommandArgs<O extends OptionSpecs>(spec: CommandSpec<O>, args: readonly string[]): ParsedArgs<O> {
  const options = { ...spec.options, help: HELP_OPTION };
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, o.short === undefined ? { type: o.type } : { type: o.type, short: o.short }]),
  );
  // The same parser without strictness finds what a strict failure was about, and sees --help
  // even when other arguments are wrong (`check --confg-dir x --help` shows the help).
  const tokens = parseArgs({ args: [...args], options: config, strict: false, allowPositionals: true, tokens: true }).tokens;
  if (tokens.some((t) => t.kind === "option" && t.name === "help")) return { help: true };

  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...args], options: config, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== "string" || !code.startsWith("ERR_PARSE_ARGS_")) throw err;
    throw new UsageError(explain(spec, options, tokens, (err as Error).message));
  }
  for (const [name, o] of Object.entries(spec.options)) {
    const value = values[name];
    if (o.choices !== undefined && typeof value === "string" && !o.choices.includes(value)) {
      throw new UsageError(`option --${name} must be one of ${o.choices.join(", ")} (got ${JSON.stringify(value)})`);
    }
  }
  return { help: false, values: values as OptionValues<O> };
}

/** Locates what strict parsing refused; falls back to the parser's own message. */
function explain(spec: CommandSpec, options: OptionSpecs, tokens: readonly Token[], fallback: string): string {
  for (const t of tokens) {
    if (t.kind === "positional") {
      const hint = spec.positionalHint?.(t.value) ?? `meshlet ${spec.name} takes no arguments${Object.keys(spec.options).length > 0 ? ", only options" : ""}`;
      return `unexpected argument ${JSON.stringify(t.value)} (${hint})`;
    }
    if (t.kind !== "option") continue;
    const o = options[t.name];
    if (o === undefined) {
      const longNames = Object.keys(options).map((n) => `--${n}`);
      // Suggest only for long flags, and only within a third of their length: "-x" suggests nothing.
      const hint = t.rawName.startsWith("--") ? closestName(t.rawName, longNames, Math.min(3, Math.floor(t.rawName.length / 3))) : undefined;
      return `unknown option ${t.rawName}${hint !== undefined ? ` (did you mean ${hint}?)` : ""}`;
    }
    if (o.type === "boolean" && t.value !== undefined) return `option ${t.rawName} takes no value (got ${JSON.stringify(t.value)})`;
    if (o.type === "string" && t.value === undefined) {
      const v = o.valueName ?? "VALUE";
      const forms = t.rawName.startsWith("--") ? `${t.rawName} ${v} or ${t.rawName}=${v}` : `${t.rawName} ${v}`;
      return `option ${t.rawName} needs a value (${forms})`;
    }
    if (o.type === "string" && !t.inlineValue && t.value?.startsWith("-")) {
      return `option ${t.rawName} needs a value, but is followed by ${t.value} (write ${t.rawName}=${t.value} if that is the value)`;
    }
  }
  return fallback;
}

/** "-o, --output" or "--config-dir", as help text and messages show a flag. */
export function flagOf(name: string, o: OptionSpec): string {
  return o.short === undefined ? `--${name}` : `-${o.short}, --${name}`;
}
