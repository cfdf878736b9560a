// A stand-in for meshlet's /stats.json and tap WebSocket with made-up traffic, for the README screenshot
// (test/support/dashboard-screenshot.ts): it serves the same JSON and msgpackr frames as the real ones
// and forwards every other admin path (the dashboard itself) to a real meshlet's admin server.
import type { Server, ServerWebSocket } from "bun";
import { Packr } from "msgpackr";

import { compilePathRegex } from "../../src/profiles/path-regex.ts";
import { parseGoDuration } from "../../src/resources/duration.ts";

/** One HTTP exchange the test sent through meshlet, as the proxy would have observed it. */
export interface RecordedExchange {
  readonly direction: "inbound" | "outbound";
  readonly authority: string;
  /** The ip:port the proxy connected to. */
  readonly destination: string;
  /** The ServiceProfile route name, or "[DEFAULT]". */
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

export interface FakeObservability {
  /** Base URL of the fake admin server (no trailing slash): point the dashboard check here. */
  readonly adminUrl: string;
  readonly tapUrl: string;
  /** Counts the exchange into /stats.json and streams it to matching tap subscribers. */
  record(exchange: RecordedExchange): void;
  /** Tap subscriptions received so far (the first text frame of each WebSocket). */
  readonly subscriptions: readonly Record<string, unknown>[];
  stop(): void;
}

const SNAPSHOT_INTERVAL_SECONDS = 1;
const packr = new Packr({ useRecords: false });
const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

interface Timed extends RecordedExchange {
  readonly tMs: number;
}

interface Subscriber {
  matches?: (e: RecordedExchange) => boolean;
  /** Requests still to send before closing (the subscription's `limit`); Infinity without one. */
  remaining?: number;
}

interface Subscription {
  readonly matches: (e: RecordedExchange) => boolean;
  readonly limit: number;
}

/**
 * `meshletAdminUrl`: the real admin server whose other paths (/, /dashboard/...) the fake forwards.
 * `tapOff`: /dashboard/config.json says tap is disabled ({"tapUrl": null}).
 */
export function startFakeObservability(meshletAdminUrl: string, options: { tapOff?: boolean } = {}): FakeObservability {
  const startedMs = Date.now();
  const exchanges: Timed[] = [];
  const subscribers = new Set<ServerWebSocket<Subscriber>>();
  const subscriptions: Record<string, unknown>[] = [];
  let nextId = 1;

  const tap: Server<Subscriber> = Bun.serve<Subscriber>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request, server) {
      if (new URL(request.url).pathname !== "/tap") return new Response(null, { status: 404 });
      if (!LOOPBACK.test(server.requestIP(request)?.address ?? "")) return new Response("tap is served to loopback only\n", { status: 403 });
      return server.upgrade(request, { data: {} }) ? undefined : new Response("expected a WebSocket upgrade\n", { status: 400 });
    },
    websocket: {
      message(ws, message) {
        if (ws.data.matches !== undefined || typeof message !== "string") return;
        const parsed = parseSubscription(message);
        if (typeof parsed === "string") {
          ws.send(packr.pack({ type: "error", code: "TAP_BAD_SUBSCRIPTION", message: parsed }));
          ws.close(1008, "bad subscription");
          return;
        }
        subscriptions.push(JSON.parse(message) as Record<string, unknown>);
        ws.data.matches = parsed.matches;
        ws.data.remaining = parsed.limit;
        subscribers.add(ws);
      },
      close(ws) {
        subscribers.delete(ws);
      },
    },
  });

  const admin = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === "/stats.json") return statsResponse(url, exchanges, startedMs);
      if (url.pathname === "/dashboard/config.json") return Response.json({ tapUrl: options.tapOff ? null : `ws://127.0.0.1:${tap.port}/tap` });
      const upstream = await fetch(`${meshletAdminUrl}${url.pathname}${url.search}`, { method: request.method, headers: request.headers });
      // fetch has already decoded the body: its length and encoding headers no longer apply.
      const headers = new Headers(upstream.headers);
      headers.delete("content-encoding");
      headers.delete("content-length");
      return new Response(upstream.body, { status: upstream.status, headers });
    },
  });

  return {
    adminUrl: `http://127.0.0.1:${admin.port}`,
    tapUrl: `ws://127.0.0.1:${tap.port}/tap`,
    subscriptions,
    record(exchange) {
      const nowMs = Date.now();
      exchanges.push({ ...exchange, tMs: nowMs });
      const id = nextId++;
      for (const ws of subscribers) {
        if (!ws.data.matches!(exchange)) continue;
        for (const event of tapEvents(id, nowMs, exchange)) ws.send(packr.pack(event));
        if (--ws.data.remaining! === 0) {
          subscribers.delete(ws);
          ws.close(1000, "limit reached");
        }
      }
    },
    stop() {
      admin.stop(true);
      tap.stop(true);
    },
  };
}

/** The subscription's filters as a predicate and its limit, or the reason it is invalid. */
function parseSubscription(text: string): Subscription | string {
  let sub: Record<string, unknown>;
  try {
    sub = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return "the subscription is not JSON";
  }
  if (typeof sub !== "object" || sub === null || Array.isArray(sub)) return "the subscription must be a JSON object";
  if (sub.direction !== undefined && sub.direction !== "inbound" && sub.direction !== "outbound") return 'direction: expected "inbound" or "outbound"';
  for (const field of ["method", "authority", "path"]) {
    if (sub[field] !== undefined && typeof sub[field] !== "string") return `${field}: expected a string`;
  }
  if (sub.limit !== undefined && !(Number.isInteger(sub.limit) && (sub.limit as number) > 0)) return "limit: expected a positive integer";
  let pathTest = (_: string) => true;
  if (typeof sub.path === "string") {
    // The whole path must match, like the real tap filter (and a ServiceProfile pathRegex).
    const compiled = compilePathRegex(sub.path);
    if (!compiled.ok) return `path: ${compiled.error}`;
    pathTest = compiled.test;
  }
  return {
    limit: (sub.limit as number | undefined) ?? Infinity,
    matches: (e) =>
      (sub.direction === undefined || sub.direction === e.direction) &&
      (sub.method === undefined || sub.method === e.method) &&
      (sub.authority === undefined || sub.authority === e.authority) &&
      pathTest(e.path),
  };
}

function tapEvents(id: number, tsMs: number, e: RecordedExchange): Record<string, unknown>[] {
  return [
    {
      type: "request",
      id,
      tsMs,
      direction: e.direction,
      tls: false,
      source: "127.0.0.1:40000",
      destination: e.destination,
      method: e.method,
      authority: e.authority,
      path: e.path,
      route: e.route,
      headers: [["user-agent", "dashboard-test"], ["authorization", "<redacted>"]],
    },
    { type: "response", id, sinceRequestMs: e.latencyMs, status: e.status, headers: [["content-type", "text/plain"]] },
    { type: "end", id, sinceRequestMs: e.latencyMs, status: e.status, requestBytes: e.requestBytes, responseBytes: e.responseBytes },
  ];
}

// === /stats.json ===

function statsResponse(url: URL, exchanges: readonly Timed[], startedMs: number): Response {
  const windowText = url.searchParams.get("window") ?? "1m";
  const parsed = parseGoDuration(windowText);
  if (!parsed.ok || parsed.ms <= 0) return new Response(`window: ${parsed.ok ? "must be positive" : parsed.error}\n`, { status: 400 });
  const history = url.searchParams.get("history") === "1";
  const nowMs = Date.now();
  const requestedWindowSeconds = parsed.ms / 1000;
  const windowSeconds = Math.min(requestedWindowSeconds, Math.max((nowMs - startedMs) / 1000, SNAPSHOT_INTERVAL_SECONDS));
  const inWindow = exchanges.filter((e) => e.tMs > nowMs - windowSeconds * 1000);

  const authorities = groupBy(inWindow, (e) => `${e.direction} ${e.authority}`).map((group) => ({
    direction: group[0]!.direction,
    authority: group[0]!.authority,
    ...counts(group, windowSeconds),
    ...latencies(group),
    tcpConnections: 1,
    ...(history ? { history: historyOf(group, startedMs, nowMs, windowSeconds) } : {}),
  }));
  const routes = groupBy(inWindow, (e) => `${e.direction} ${e.authority} ${e.route}`).map((group) => ({
    direction: group[0]!.direction,
    dst: group[0]!.authority,
    route: group[0]!.route,
    effective: counts(group, windowSeconds),
    actual: counts(group, windowSeconds),
    ...latencies(group),
    ...(history ? { history: historyOf(group, startedMs, nowMs, windowSeconds) } : {}),
  }));
  return Response.json({ windowSeconds, requestedWindowSeconds, snapshotIntervalSeconds: SNAPSHOT_INTERVAL_SECONDS, authorities, routes });
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return [...groups.values()];
}

/** Linkerd's classification without a profile: a 5xx is a failure. */
function counts(group: readonly RecordedExchange[], seconds: number) {
  const requests = group.length;
  const successes = group.filter((e) => e.status < 500).length;
  return { requests, successes, failures: requests - successes, successRate: requests === 0 ? null : successes / requests, rps: requests / seconds };
}

function latencies(group: readonly RecordedExchange[]) {
  const sorted = group.map((e) => e.latencyMs).sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { latencyMsP50: at(0.5), latencyMsP95: at(0.95), latencyMsP99: at(0.99) };
}

/** One point per snapshot taken in the window (every interval since the start), oldest first, as a ring gives. */
function historyOf(group: readonly Timed[], startedMs: number, nowMs: number, windowSeconds: number) {
  const points = [];
  const intervalMs = SNAPSHOT_INTERVAL_SECONDS * 1000;
  for (let endMs = startedMs + intervalMs; endMs <= nowMs; endMs += intervalMs) {
    if (endMs <= nowMs - windowSeconds * 1000) continue;
    const bucket = group.filter((e) => e.tMs > endMs - intervalMs && e.tMs <= endMs);
    const c = counts(bucket, SNAPSHOT_INTERVAL_SECONDS);
    points.push({ tMs: endMs, rps: c.rps, successRate: c.successRate, latencyMsP99: latencies(bucket).latencyMsP99 });
  }
  return points;
}
