// One GET of a JSON document for the stats CLI (admin server or Prometheus), bounded in time; a
// connection failure or timeout is MESHLET_ERR_STATS_UNREACHABLE, a body that is not JSON is
// MESHLET_ERR_STATS_BAD_ANSWER quoting the first line the server sent (often its own error message).
import { StatsSourceError } from "./stats-source-error.ts";

/** How long a CLI query may take before it counts as unreachable. */
export const STATS_QUERY_TIMEOUT_MS = 10_000;

/** GETs `url` and parses its JSON body; `what` names the server in messages ("the admin server at ..."). */
export async function fetchJson(url: string, what: string): Promise<{ status: number; body: unknown }> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(STATS_QUERY_TIMEOUT_MS), headers: { accept: "application/json" } });
    text = await res.text();
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    const why = e.name === "TimeoutError" ? `no answer within ${STATS_QUERY_TIMEOUT_MS / 1000}s` : (e.code ?? e.message ?? String(err));
    throw new StatsSourceError("MESHLET_ERR_STATS_UNREACHABLE", `cannot reach ${what}: ${why}`);
  }
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    const firstLine = text.trim().split("\n")[0]!.slice(0, 160);
    // A refusal in plain text (the admin server's 400 for a bad window) is quoted as the reason.
    const message = res.ok || firstLine === ""
      ? `${what} answered HTTP ${res.status} with a body that is not JSON${firstLine ? `: ${JSON.stringify(firstLine)}` : ""}`
      : `${what} answered HTTP ${res.status}: ${firstLine}`;
    throw new StatsSourceError("MESHLET_ERR_STATS_BAD_ANSWER", message);
  }
}
