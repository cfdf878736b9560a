// GET / and /dashboard/<file> on the admin server: the live page (static files in src/dashboard/), the
// uPlot and msgpackr browser builds read straight from node_modules when someone asks (nothing is
// loaded before), and /dashboard/config.json, which tells the page where the tap WebSocket listens.
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { HostPort } from "../config/values.ts";
import { formatHostPort } from "../config/values.ts";

export interface DashboardOptions {
  /** MESHLET_TAP_LISTEN, or null when tap is off: the page then says so instead of connecting. */
  readonly tapListen: HostPort | null;
}

const PAGE_DIR = fileURLToPath(new URL("../dashboard/", import.meta.url));

const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
/** Our own files change with meshlet: revalidate each time (the ETag makes that a 304). */
const REVALIDATE = "no-cache";
/** The libraries are pinned in package-lock.json: a day's caching is safe. */
const PINNED_LIBRARY = "public, max-age=86400";

interface Asset {
  readonly contentType: string;
  readonly cacheControl: string;
  /** The file's absolute path, found at the first request for it. */
  readonly locate: () => string;
}

/** Every path the dashboard serves besides config.json; anything else is 404, so no traversal. */
const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/", ownFile("index.html", HTML)],
  ["/dashboard/dashboard.js", ownFile("dashboard.js", JS)],
  ["/dashboard/dashboard.css", ownFile("dashboard.css", CSS)],
  ["/dashboard/uPlot.min.js", libraryFile("uplot", "dist/uPlot.iife.min.js", JS)],
  ["/dashboard/uPlot.min.css", libraryFile("uplot", "dist/uPlot.min.css", CSS)],
  ["/dashboard/msgpackr.min.js", libraryFile("msgpackr", "dist/index.min.js", JS)],
]);

export const DASHBOARD_CONFIG_PATH = "/dashboard/config.json";

/** Whether the admin server should hand `path` to dashboardResponse. */
export function isDashboardPath(path: string): boolean {
  return path === "/" || path.startsWith("/dashboard/");
}

export function dashboardResponse(request: Request, path: string, options: DashboardOptions): Response {
  if (request.method !== "GET" && request.method !== "HEAD") return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
  if (path === DASHBOARD_CONFIG_PATH) {
    const body = JSON.stringify({ tapUrl: tapUrl(options.tapListen, new URL(request.url).hostname) }) + "\n";
    return new Response(body, { headers: { "content-type": "application/json", "cache-control": "no-store" } });
  }
  const asset = ASSETS.get(path);
  if (asset === undefined) return new Response(null, { status: 404 });
  let file: string;
  let etag: string;
  try {
    file = asset.locate();
    const stat = statSync(file);
    etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  } catch (err) {
    return new Response(`dashboard: ${path}: ${(err as Error).message}\n`, { status: 500, headers: { "content-type": "text/plain" } });
  }
  const headers = { "content-type": asset.contentType, "cache-control": asset.cacheControl, etag };
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  // Bun.file streams from disk per request: the sidecar keeps none of it in memory afterwards.
  return new Response(Bun.file(file), { headers });
}

/**
 * The WebSocket URL a browser on `requestHost` (the host it reached the admin server by) uses for tap.
 * A wildcard listen address means "every interface": the browser reaches it by the same host.
 */
export function tapUrl(tapListen: HostPort | null, requestHost: string): string | null {
  if (tapListen === null) return null;
  const wildcard = tapListen.host === "0.0.0.0" || tapListen.host === "::";
  const host = wildcard ? requestHost.replace(/^\[(.*)\]$/, "$1") : tapListen.host;
  return `ws://${formatHostPort({ host, port: tapListen.port })}/tap`;
}

function ownFile(name: string, contentType: string): Asset {
  return { contentType, cacheControl: REVALIDATE, locate: () => join(PAGE_DIR, name) };
}

function libraryFile(pkg: string, file: string, contentType: string): Asset {
  let path: string | undefined;
  return {
    contentType,
    cacheControl: PINNED_LIBRARY,
    locate: () => (path ??= join(packageRoot(pkg), file)),
  };
}

/** The directory of an installed package, wherever node_modules is (its exports may hide dist/). */
function packageRoot(pkg: string): string {
  const entry = fileURLToPath(import.meta.resolve(pkg));
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name === pkg) return dir;
    } catch {
      // no package.json at this level: keep climbing
    }
  }
  throw new Error(`package ${pkg} is not installed (npm ci)`);
}
