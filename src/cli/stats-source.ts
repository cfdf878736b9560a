// What `meshlet stat` and `meshlet routes` share: where the numbers come from (one sidecar's admin
// server, default 127.0.0.1:4191, or --prometheus for a fleet), the --window, and the one place
// that turns an unreachable or garbled source into one line and an exit code.
import { type OptionSpec, UsageError } from "./args.ts";
import { ValueError, parseDestination } from "../config/values.ts";
import { DEFAULT_STATS_WINDOW } from "../admin/stats-endpoint.ts";
import { parseGoDuration } from "../resources/duration.ts";
import { StatsSourceError } from "../stats/stats-source-error.ts";
import { EXIT_PROTOCOL, EXIT_UNAVAILABLE } from "../rt/exit-codes.ts";

/** Linkerd's admin port on loopback. */
export const DEFAULT_ADMIN_ADDRESS = "127.0.0.1:4191";

export const STATS_SOURCE_OPTIONS = {
  admin: { type: "string", valueName: "ADDR", description: `one sidecar's admin server, host:port (default ${DEFAULT_ADMIN_ADDRESS})` },
  prometheus: { type: "string", valueName: "URL", description: "query this Prometheus instead (every sidecar it scrapes), e.g. http://127.0.0.1:9090" },
  window: { type: "string", valueName: "DURATION", description: `time window of the numbers, e.g. 10s, 1m, 5m (default ${DEFAULT_STATS_WINDOW})` },
} as const satisfies Record<string, OptionSpec>;

export type StatsSourceChoice =
  | { readonly kind: "admin"; readonly address: string; readonly window: string; readonly windowMs: number }
  | { readonly kind: "prometheus"; readonly url: string; readonly window: string; readonly windowMs: number };

export function statsSourceOf(values: { admin?: string; prometheus?: string; window?: string }): StatsSourceChoice {
  const window = values.window ?? DEFAULT_STATS_WINDOW;
  const parsed = parseGoDuration(window);
  if (!parsed.ok) throw new UsageError(`option --window: ${parsed.error} (expected a duration like 10s, 1m or 5m)`);
  if (!(parsed.ms > 0)) throw new UsageError(`option --window must be longer than 0 (got ${JSON.stringify(window)})`);
  if (values.admin !== undefined && values.prometheus !== undefined) throw new UsageError("--admin and --prometheus cannot be combined");
  if (values.prometheus !== undefined) {
    let url: URL;
    try {
      url = new URL(values.prometheus);
    } catch {
      throw new UsageError(`option --prometheus: not a URL (got ${JSON.stringify(values.prometheus)}; e.g. http://127.0.0.1:9090)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`option --prometheus: an http or https URL (got ${JSON.stringify(values.prometheus)})`);
    return { kind: "prometheus", url: url.href, window, windowMs: parsed.ms };
  }
  // Checked as host:port ("[::1]:4191" for IPv6), then used as typed in the URL.
  const address = (values.admin ?? DEFAULT_ADMIN_ADDRESS).trim();
  try {
    parseDestination(address);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new UsageError(`option --admin: ${err.message} (got ${JSON.stringify(values.admin)})`);
  }
  return { kind: "admin", address, window, windowMs: parsed.ms };
}

/** Runs `body`; a StatsSourceError becomes one line on stderr and exit 69 (unreachable) or 76 (garbage). */
export async function withStatsSource(command: string, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return 0;
  } catch (err) {
    if (!(err instanceof StatsSourceError)) throw err;
    process.stderr.write(`meshlet ${command}: ${err.message}\n`);
    return err.code === "MESHLET_ERR_STATS_UNREACHABLE" ? EXIT_UNAVAILABLE : EXIT_PROTOCOL;
  }
}
