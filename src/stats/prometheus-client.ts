// Instant queries against Prometheus' HTTP API (GET /api/v1/query), for `--prometheus URL`: returns
// the vector's samples, or a StatsSourceError saying why there are none.
import { fetchJson } from "./fetch-json.ts";
import { StatsSourceError } from "./stats-source-error.ts";

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  /** NaN when Prometheus says so (histogram_quantile over no samples). */
  readonly value: number;
}

export type QueryFn = (promql: string) => Promise<Sample[]>;

/** A query function for the Prometheus at `baseUrl` (e.g. http://127.0.0.1:9090). */
export function prometheusQuery(baseUrl: string): QueryFn {
  const base = baseUrl.replace(/\/+$/, "");
  const what = `Prometheus at ${base}`;
  return async (promql) => {
    const { status, body } = await fetchJson(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`, what);
    const b = body as { status?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } } | null;
    if (b === null || typeof b !== "object" || (b.status !== "success" && b.status !== "error")) {
      throw new StatsSourceError("MESHLET_ERR_STATS_BAD_ANSWER", `${what} answered HTTP ${status} with JSON that is not a query API response`);
    }
    if (b.status === "error") throw new StatsSourceError("MESHLET_ERR_STATS_BAD_ANSWER", `${what} refused the query (HTTP ${status}): ${String(b.error)}`);
    if (b.data?.resultType !== "vector" || !Array.isArray(b.data.result)) {
      throw new StatsSourceError("MESHLET_ERR_STATS_BAD_ANSWER", `${what} answered a query without a vector result`);
    }
    return b.data.result.map((r: unknown) => {
      const s = r as { metric?: unknown; value?: unknown };
      if (typeof s.metric !== "object" || s.metric === null || !Array.isArray(s.value) || typeof s.value[1] !== "string") {
        throw new StatsSourceError("MESHLET_ERR_STATS_BAD_ANSWER", `${what} answered a malformed sample`);
      }
      return { labels: s.metric as Record<string, string>, value: Number(s.value[1]) };
    });
  };
}
