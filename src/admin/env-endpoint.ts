// GET /env.json (linkerd-behavior §6, with meshlet's settings instead of the whole environment): every
// MESHLET_* setting of the SETTINGS table with the value the process uses (as set, or the default), or
// only those named in `?A&B` (null for a name that is no setting). Secrets show as "<redacted>".
import { effectiveSettings } from "../config/effective.ts";
import type { Strings } from "../config/env.ts";

const JSON_RANGES: ReadonlySet<string> = new Set(["application/json", "application/*", "*/*"]);

export function envEndpoint(request: Request, env: Strings): Response {
  if (request.method !== "GET") return new Response(null, { status: 405, headers: { allow: "GET" } });
  if (!acceptsJson(request.headers.get("accept"))) return text(406, "env.json is only served as application/json\n");
  const names = queryNames(new URL(request.url).search);
  if (typeof names === "string") return text(400, `${names}\n`);
  const values = new Map(effectiveSettings(env).map((s) => [s.name, s.value]));
  const body: Record<string, string | null> = {};
  if (names === undefined) for (const [name, value] of values) body[name] = value;
  else for (const name of names) body[name] = values.get(name) ?? null;
  return new Response(`${JSON.stringify(body, null, 2)}\n`, { headers: { "content-type": "application/json" } });
}

/** No Accept, or one that admits JSON with a non-zero q (application/json, application/*, *\/*). */
export function acceptsJson(accept: string | null): boolean {
  if (accept === null || accept.trim() === "") return true;
  return accept.split(",").some((range) => {
    const [media = "", ...params] = range.split(";").map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    return JSON_RANGES.has(media) && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/** `?A&B` → ["A", "B"]; no query → undefined; a `k=v` item → the reason it is refused. */
export function queryNames(search: string): readonly string[] | undefined | string {
  const query = search.startsWith("?") ? search.slice(1) : search;
  if (query === "") return undefined;
  const names: string[] = [];
  for (const item of query.split("&")) {
    if (item === "") continue;
    if (item.includes("=")) return `env.json takes setting names only (?NAME&NAME), not ${JSON.stringify(item)}`;
    try {
      names.push(decodeURIComponent(item));
    } catch {
      return `invalid percent-encoding in ${JSON.stringify(item)}`;
    }
  }
  return names;
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain" } });
}
