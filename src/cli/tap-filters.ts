// What `meshlet tap` and `meshlet top` share: the tap server address (--tap) and the request filters
// (--method, --path, --authority, --direction, --limit), turned into a subscription the proxy applies,
// and how a stream's end becomes a message and an exit code.
import { ValueError, parseDestination, parsePositiveInteger } from "../config/values.ts";
import { EXIT_UNAVAILABLE, EXIT_USAGE } from "../rt/exit-codes.ts";
import type { TapStreamEnd, TapSubscription } from "../tap/client.ts";
import { UsageError } from "./args.ts";

export const DEFAULT_TAP_ADDRESS = "127.0.0.1:4190";

export const TAP_FILTER_OPTIONS = {
  tap: { type: "string", valueName: "ADDR", description: `tap server host:port (default: MESHLET_TAP_LISTEN, else ${DEFAULT_TAP_ADDRESS})` },
  method: { type: "string", valueName: "M", description: "only requests with this method, e.g. GET" },
  path: { type: "string", valueName: "REGEX", description: "only requests whose whole path matches this RE2 regex (query excluded), e.g. '/books/.*'" },
  authority: { type: "string", valueName: "A", description: "only requests with this authority (Host), e.g. web:8080" },
  direction: { type: "string", valueName: "DIR", choices: ["in", "out", "inbound", "outbound"], description: "only inbound (in) or outbound (out) requests" },
  limit: { type: "string", valueName: "N", description: "stop after N requests" },
} as const;

type FilterValues = { readonly [K in keyof typeof TAP_FILTER_OPTIONS]?: string };

/** The server address to dial: --tap, else MESHLET_TAP_LISTEN (an unspecified host dialled on loopback), else the default. */
export function tapAddressOf(values: FilterValues, env: Readonly<Record<string, string | undefined>>): string {
  const fromEnv = env.MESHLET_TAP_LISTEN?.trim();
  const text = values.tap?.trim() ?? (fromEnv !== undefined && fromEnv !== "" && fromEnv.toLowerCase() !== "off" ? fromEnv : DEFAULT_TAP_ADDRESS);
  const source = values.tap !== undefined ? "--tap" : "MESHLET_TAP_LISTEN";
  try {
    parseDestination(text);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new UsageError(`${source} ${JSON.stringify(text)}: expected ${err.expected}`);
  }
  if (text.startsWith("0.0.0.0:")) return `127.0.0.1:${text.slice("0.0.0.0:".length)}`;
  if (text.startsWith("[::]:")) return `[::1]:${text.slice("[::]:".length)}`;
  return text;
}

const parseLimit = parsePositiveInteger(1_000_000_000);

/** The subscription for the filter options (the proxy validates the regex and reports problems). */
export function subscriptionOf(values: FilterValues): TapSubscription {
  const sub: TapSubscription = {};
  if (values.direction !== undefined) sub.direction = values.direction.startsWith("in") ? "inbound" : "outbound";
  if (values.method !== undefined) sub.method = values.method;
  if (values.path !== undefined) sub.path = values.path;
  if (values.authority !== undefined) sub.authority = values.authority;
  if (values.limit !== undefined) {
    try {
      sub.limit = parseLimit(values.limit);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      throw new UsageError(`--limit ${JSON.stringify(values.limit)}: expected ${err.expected}`);
    }
  }
  return sub;
}

/** Prints why a stream ended badly (stderr) and returns the exit code: 0 when it closed normally. */
export function reportStreamEnd(command: string, end: TapStreamEnd): number {
  switch (end.kind) {
    case "closed":
      if (end.code === 1000) return 0;
      process.stderr.write(`meshlet ${command}: the tap stream ended unexpectedly (WebSocket close ${end.code}${end.reason !== "" ? `: ${end.reason}` : ""})\n`);
      return EXIT_UNAVAILABLE;
    case "refused":
      process.stderr.write(`meshlet ${command}: the tap server refused the filter: ${end.message} (${end.code})\n`);
      return EXIT_USAGE;
    case "unreachable":
      process.stderr.write(`meshlet ${command}: ${end.message}\n`);
      return EXIT_UNAVAILABLE;
  }
}
