// Process logger: leveled, scoped, plain or JSON lines on stderr. One instance is configured at boot from
// MESHLET_LOG_LEVEL / MESHLET_LOG_FORMAT; modules take a Logger (usually `.scoped("outbound")`) so tests
// can pass a silent one. Messages are stable text; every value goes into a field.
import type { LogFormat, LogLevel } from "../config/env.ts";

export type Fields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Where a line comes from, like Linkerd's targets or Envoy's `[component]`. */
export type LogScope = "proxy" | "inbound" | "outbound" | "admin" | "resources" | "native" | "tap";

export interface Logger {
  error(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  debug(message: string, fields?: Fields): void;
  /** More than debug: per exchange / per connection detail. Guard hot-path calls with `enabled("trace")`. */
  trace(message: string, fields?: Fields): void;
  /** Whether a line at `level` would be written: one comparison, for call sites that build fields. */
  enabled(level: Exclude<LogLevel, "off">): boolean;
  /** The same output with every line tagged `scope`. */
  scoped(scope: LogScope): Logger;
}

const RANK: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

type LineLevel = Exclude<LogLevel, "off">;

export function createLogger(level: LogLevel, format: LogFormat, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const threshold = RANK[level];
  const emit = (lvl: LineLevel, scope: LogScope | undefined, message: string, fields?: Fields) => {
    if (RANK[lvl] > threshold) return;
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
  const make = (scope: LogScope | undefined): Logger => ({
    error: (m, f) => emit("error", scope, m, f),
    warn: (m, f) => emit("warn", scope, m, f),
    info: (m, f) => emit("info", scope, m, f),
    debug: (m, f) => emit("debug", scope, m, f),
    trace: (m, f) => emit("trace", scope, m, f),
    enabled: (lvl) => RANK[lvl] <= threshold,
    scoped: (s) => make(s),
  });
  return make(undefined);
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
