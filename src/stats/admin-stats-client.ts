// `meshlet stat` / `meshlet routes` against one sidecar: GET /stats.json from its admin server,
// checked to be the report of obs-contract §1 before any row is printed.
import type { StatsReport } from "./rows.ts";
import { fetchJson } from "./fetch-json.ts";
import { StatsSourceError } from "./stats-source-error.ts";

/** `address` is host:port as typed (--admin); `window` the duration text (--window). */
export async function fetchAdminStats(address: string, window: string): Promise<StatsReport> {
  const url = `http://${address}/stats.json?window=${encodeURIComponent(window)}`;
  const what = `the admin server at ${address}`;
  const { status, body } = await fetchJson(url, what);
  if (status !== 200) {
    throw new StatsSourceError("MESHLET_ERR_STATS_BAD_ANSWER", `${what} answered HTTP ${status} to GET /stats.json`);
  }
  const problem = reportProblem(body);
  if (problem !== undefined) throw new StatsSourceError("MESHLET_ERR_STATS_BAD_ANSWER", `${what} answered GET /stats.json with ${problem}`);
  return body as StatsReport;
}

/** What makes `body` not a StatsReport, or undefined when it is one. */
function reportProblem(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return "something that is not a JSON object";
  const r = body as Record<string, unknown>;
  if (typeof r.windowSeconds !== "number") return "no numeric windowSeconds";
  if (!Array.isArray(r.authorities) || !Array.isArray(r.routes)) return "no authorities and routes arrays";
  for (const [i, a] of (r.authorities as unknown[]).entries()) {
    const row = a as Record<string, unknown> | null;
    if (row === null || typeof row !== "object" || typeof row.authority !== "string" || typeof row.requests !== "number" || typeof row.rps !== "number") {
      return `a malformed authorities[${i}]`;
    }
  }
  for (const [i, a] of (r.routes as unknown[]).entries()) {
    const row = a as Record<string, unknown> | null;
    if (row === null || typeof row !== "object" || typeof row.route !== "string" || typeof row.dst !== "string" || typeof row.effective !== "object" || typeof row.actual !== "object") {
      return `a malformed routes[${i}]`;
    }
  }
  return undefined;
}
