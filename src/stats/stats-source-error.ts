// Why `meshlet stat` / `meshlet routes` got no rows: the admin server or Prometheus could not be
// reached, or answered something that is not what we asked for. Stable codes; the CLI maps them to
// an exit code and one line in one place (src/cli/stats-source.ts).

export type StatsSourceErrorCode =
  | "MESHLET_ERR_STATS_UNREACHABLE" // connection refused, DNS failure, timeout
  | "MESHLET_ERR_STATS_BAD_ANSWER"; // an HTTP error, or a body that is not the expected JSON

export class StatsSourceError extends Error {
  constructor(
    readonly code: StatsSourceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** How long a CLI query may take before it counts as unreachable. */
export const STATS_QUERY_TIMEOUT_MS = 10_000;

/** GETs `url` and parses its JSON body; `what` names the server in messages ("admin server at ..."). */
export async function getJson(url: string, what: string): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(STATS_QUERY_TIMEOUT_MS), headers: { accept: "application/json" } });
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    const why = e.name === "TimeoutError" ? `no answer within ${STATS_QUERY_TIMEOUT_MS / 1000}s` : (e.code ?? e.message ?? String(err));
    throw new StatsSourceError("MESHLET_ERR_STATS_UNREACHABLE", `cannot reach ${what}: ${why}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    const excerpt = text.trim().split("\n")[0]!.slice(0, 120);
    throw new StatsSourceError("MESHLET_ERR_STATS_BAD_ANSWER", `${what} answered HTTP ${res.status} with a body that is not JSON${excerpt ? `: ${JSON.stringify(excerpt)}` : ""}`);
  }
}
