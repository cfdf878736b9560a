// GET /stats.json?window=<duration>[&history=1] (obs-contract §1): per-authority and per-route
// success, rate and latency over a window, from the proxy's counter-snapshot ring (src/stats/).
import { parseGoDuration } from "../resources/duration.ts";
import type { StatsSource } from "../stats/rows.ts";

/** The window when the query names none (as `linkerd viz stat`). */
export const DEFAULT_STATS_WINDOW = "1m";


export function statsEndpoint(request: Request, source: StatsSource): Response {
  if (request.method !== "GET" && request.method !== "HEAD") return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
  const query = new URL(request.url).searchParams;
  const windowText = query.get("window") ?? DEFAULT_STATS_WINDOW;
  const parsed = parseGoDuration(windowText);
  if (!parsed.ok) return badRequest(`window: ${parsed.error} (expected a duration like 10s, 1m or 5m)`);
  if (!(parsed.ms > 0) || parsed.ms > source.maxWindowMs) {
    return badRequest(`window: ${JSON.stringify(windowText)} is out of range (more than 0, at most ${source.maxWindowMs / 1000}s)`);
  }
  const historyText = query.get("history");
  if (historyText !== null && !["0", "1", "true", "false"].includes(historyText)) {
    return badRequest(`history: expected 1 or 0 (got ${JSON.stringify(historyText)})`);
  }
  const history = historyText === "1" || historyText === "true";
  return new Response(JSON.stringify(source.report(parsed.ms, history)) + "\n", { headers: { "content-type": "application/json" } });
}

function badRequest(reason: string): Response {
  return new Response(`${reason}\n`, { status: 400, headers: { "content-type": "text/plain" } });
}
