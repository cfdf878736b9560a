// Process logger: leveled, scoped, plain or JSON lines on stderr. One instance is configured at boot from
// MESHLET_LOG_LEVEL / MESHLET_LOG_FORMAT; modules take a Logger (usually `.scoped("outbound")`) so tests
// can pass a silent one. Messages are stable text; every value goes into a field.
import type { LogFormat } from "../config/env.ts";
import { type LogDirective, type LogLevel, type LogScope, LOG_SCOPES, uniformDirective } from "./log-directive.ts";

export type { LogScope } from "./log-directive.ts";

export type Fields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  error(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  debug(message: string, fields?: Fields): void;
  /** More than debug: per exchange / per connection detail. Guard hot-path calls with `enabled("trace")`. */
  trace(message: string, fields?: Fields): void;
  /** Whether a line at `level` would be written: one array read and a comparison, for call sites that build fields. */
  enabled(level: Exclude<LogLevel, "off">): boolean;
  /** The same output with every line tagged `scope`. */
  scoped(scope: LogScope): Logger;
}

/** The process logger plus the knob PUT /proxy-log-level turns: a new directive applies at once to every logger it handed out. */
export interface RootLogger extends Logger {
  readonly directive: LogDirective;
  setDirective(directive: LogDirective): void;
}

const RANK: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

type LineLevel = Exclude<LogLevel, "off">;

/** Threshold slot of each scope; slot 0 is unscoped lines. */
const SLOT: Record<LogScope, number> = Object.fromEntries(LOG_SCOPES.map((scope, i) => [scope, i + 1])) as Record<LogScope, number>;

export function createLogger(level: LogLevel | LogDirective, format: LogFormat, write: (line: string) => void = (l) => process.stderr.write(l)): RootLogger {
  let directive = typeof level === "string" ? uniformDirective(level) : level;
  // One threshold per slot, shared by every logger made here, rewritten in place by setDirective.
  const thresholds = new Uint8Array(LOG_SCOPES.length + 1);
  const apply = (d: LogDirective) => {
    thresholds[0] = RANK[d.defaultLevel];
    for (const scope of LOG_SCOPES) thresholds[SLOT[scope]] = RANK[d.scopes[scope] ?? d.defaultLevel];
    directive = d;
  };
  apply(directive);
  const emit = (lvl: LineLevel, scope: LogScope | undefined, slot: number, message: string, fields?: Fields) => {
    if (RANK[lvl] > thresholds[slot]!) return;
    const timestamp = new Date().toISOString();
    if (format === "json") {
      write(JSON.stringify({ timestamp, level: lvl, scope, message, ...fields }) + "\n");
      return;
    }
    const rest = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${typeof v === "string" && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`)
          .join(" ")
      : "";
    const where = scope !== undefined ? `[${scope}] ` : "";
    write(`${timestamp} ${lvl.toUpperCase().padEnd(5)} ${where}${message}${rest ? " " + rest : ""}\n`);
  };
  const make = (scope: LogScope | undefined): Logger => {
    const slot = scope === undefined ? 0 : SLOT[scope];
    return {
      error: (m, f) => emit("error", scope, slot, m, f),
      warn: (m, f) => emit("warn", scope, slot, m, f),
      info: (m, f) => emit("info", scope, slot, m, f),
      debug: (m, f) => emit("debug", scope, slot, m, f),
      trace: (m, f) => emit("trace", scope, slot, m, f),
      enabled: (lvl) => RANK[lvl] <= thresholds[slot]!,
      scoped: (s) => make(s),
    };
  };
  return {
    ...make(undefined),
    get directive() {
      return directive;
    },
    setDirective: apply,
  };
}

export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
  trace() {},
  enabled: () => false,
  scoped: () => silentLogger,
};
