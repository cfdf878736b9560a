// The log-level directive of MESHLET_LOG_LEVEL and PUT /proxy-log-level, modelled on Linkerd's EnvFilter:
// a default level and/or comma-separated `scope=level` items for meshlet's log scopes, e.g.
// `warn,inbound=debug`. One parser for both places; errors say where the directive is wrong.
import { closestName } from "../config/closest-name.ts";
import { ValueError } from "../config/values.ts";

export type LogLevel = "error" | "warn" | "info" | "debug" | "trace" | "off";

/** Where a line comes from, like Linkerd's targets or Envoy's `[component]`. */
export type LogScope = "proxy" | "inbound" | "outbound" | "admin" | "resources" | "native" | "tap" | "identity";

export const LOG_LEVELS: readonly LogLevel[] = ["off", "error", "warn", "info", "debug", "trace"];
export const LOG_SCOPES: readonly LogScope[] = ["proxy", "inbound", "outbound", "admin", "resources", "native", "tap", "identity"];

export interface LogDirective {
  /** The level of lines from scopes the directive does not name (and of unscoped lines). */
  readonly defaultLevel: LogLevel;
  /** Per-scope levels, in the order given. */
  readonly scopes: Readonly<Partial<Record<LogScope, LogLevel>>>;
}

/**
 * As EnvFilter: with no bare level, lines from scopes the directive does not name are off
 * (`inbound=debug` logs only the inbound scope).
 */
const DEFAULT_WHEN_UNNAMED: LogLevel = "off";

const SYNTAX = "a level (off, error, warn, info, debug, trace) and/or comma-separated scope=level items, e.g. warn,inbound=debug";

/** Parses a directive; a ValueError names the offending item and what was expected there. */
export function parseLogDirective(text: string): LogDirective {
  const items = text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) throw new ValueError(SYNTAX);
  let defaultLevel: LogLevel | undefined;
  const scopes: Partial<Record<LogScope, LogLevel>> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq < 0) {
      const level = levelOf(item, item);
      if (defaultLevel !== undefined) throw new ValueError(`one default level, got ${JSON.stringify(defaultLevel)} and ${JSON.stringify(item)} (${SYNTAX})`);
      defaultLevel = level;
      continue;
    }
    const scopeText = item.slice(0, eq).trim().toLowerCase();
    if (!(LOG_SCOPES as readonly string[]).includes(scopeText)) {
      const hint = closestName(scopeText, LOG_SCOPES, 2);
      throw new ValueError(`a scope (${LOG_SCOPES.join(", ")}) before "=" in ${JSON.stringify(item)}${hint ? ` (did you mean ${hint}?)` : ""}`);
    }
    const scope = scopeText as LogScope;
    if (scopes[scope] !== undefined) throw new ValueError(`each scope once, got ${scope} twice (${SYNTAX})`);
    scopes[scope] = levelOf(item.slice(eq + 1), item);
  }
  return Object.freeze({ defaultLevel: defaultLevel ?? DEFAULT_WHEN_UNNAMED, scopes: Object.freeze(scopes) });
}

function levelOf(text: string, item: string): LogLevel {
  const level = text.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new ValueError(`a level (${LOG_LEVELS.join(", ")}) in ${JSON.stringify(item)}, got ${JSON.stringify(text.trim())}`);
}

/** The directive in its canonical text (what GET /proxy-log-level answers); parses back to the same directive. */
export function formatLogDirective(directive: LogDirective): string {
  const items = Object.entries(directive.scopes).map(([scope, level]) => `${scope}=${level}`);
  if (items.length === 0 || directive.defaultLevel !== DEFAULT_WHEN_UNNAMED) return [directive.defaultLevel, ...items].join(",");
  return items.join(",");
}

/** A directive that sets one level everywhere. */
export function uniformDirective(level: LogLevel): LogDirective {
  return Object.freeze({ defaultLevel: level, scopes: Object.freeze({}) });
}
