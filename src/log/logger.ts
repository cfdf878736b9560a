// Process logger: leveled, plain or JSON lines on stderr. One instance is configured at boot from
// MESHLET_LOG_LEVEL / MESHLET_LOG_FORMAT; modules take a Logger so tests can pass a silent one.
import type { LogFormat, LogLevel } from "../config/env.ts";

export type Fields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  error(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  debug(message: string, fields?: Fields): void;
}

const RANK: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

export function createLogger(level: LogLevel, format: LogFormat, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const threshold = RANK[level];
  const emit = (lvl: Exclude<LogLevel, "off" | "trace">, message: string, fields?: Fields) => {
    if (RANK[lvl] > threshold) return;
    const timestamp = new Date().toISOString();
    if (format === "json") {
      write(JSON.stringify({ timestamp, level: lvl, message, ...fields }) + "\n");
      return;
    }
    const rest = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${typeof v === "string" && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`)
          .join(" ")
      : "";
    write(`${timestamp} ${lvl.toUpperCase().padEnd(5)} ${message}${rest ? " " + rest : ""}\n`);
  };
  return {
    error: (m, f) => emit("error", m, f),
    warn: (m, f) => emit("warn", m, f),
    info: (m, f) => emit("info", m, f),
    debug: (m, f) => emit("debug", m, f),
  };
}

export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
