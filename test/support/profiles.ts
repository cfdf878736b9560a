// Test helpers for ServiceProfiles on the HTTP engine: profile sets from YAML (any clock), a proxy with
// the profile and retry filters and a private route-metrics registry, an HTTP/1.1 upstream that parses requests (bodies
// included) and answers by script, a one-request client, and a Prometheus text reader.
import { Registry } from "prom-client";
import { FilterChain, type FilterChainSource, chainPerGeneration } from "../../src/http/filter.ts";
import { routeMetrics } from "../../src/metrics/route.ts";
import { serviceProfileKind } from "../../src/profiles/kind.ts";
import { profileFilter, type ProfileFilterOptions } from "../../src/profiles/profile-filter.ts";
import { retryFilter } from "../../src/profiles/retry-filter.ts";
import type { ProfileSet } from "../../src/profiles/model.ts";
import { buildProfileSet } from "../../src/profiles/set.ts";
import { decodedOf, decodeFiles } from "../../src/resources/load.ts";
import { type Clock, monotonicClock } from "../../src/rt/clock.ts";
import { WatchCell } from "../../src/rt/watch.ts";
import { hasResponses, type ParsedResponse, rawRequest, rawUpstream, type RawUpstream, splitResponses, startProxy, type TestProxy } from "./http-harness.ts";

// === Profiles ===

/** A clock that moves only when told (budgets never expire on their own). */
export class FakeClock implements Clock {
  ms = 1_000;
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** Every ServiceProfile in `yaml`; throws listing the problems if any document is invalid. */
export function profileSetFromYaml(yaml: string, clock: Clock = new FakeClock(), previous?: ProfileSet): ProfileSet {
  const kind = serviceProfileKind({ clock });
  const loaded = decodeFiles([{ name: "test.yaml", path: "test.yaml", text: yaml }], [kind]);
  const errors = loaded.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new Error(`profiles did not decode: ${errors.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  return buildProfileSet(decodedOf(loaded, kind).map((d) => d.value), { clock, previous });
}

// === A proxy with the profile filters ===

export interface ProfiledProxy {
  readonly port: number;
  readonly proxy: TestProxy;
  /** The config the filters are compiled from; `set` it to reload. */
  readonly config: WatchCell<{ readonly profiles: ProfileSet }>;
  /** Holds only the route_* families. */
  readonly registry: Registry;
  readonly chain: FilterChainSource;
  stop(): void;
}

export function startProfiledProxy(opts: {
  readonly profiles: ProfileSet;
  readonly upstreamPort: number;
  readonly direction?: "inbound" | "outbound";
  /** Clock for route deadlines; default the real monotonic clock (the engine's timers are real). */
  readonly clock?: Clock;
  readonly filterOptions?: Partial<ProfileFilterOptions>;
  /** Where the generations come from (default: `config` of the result). */
  readonly generations?: { get(): { readonly profiles: ProfileSet } };
}): ProfiledProxy {
  const direction = opts.direction ?? "outbound";
  const registry = new Registry();
  const config = new WatchCell<{ readonly profiles: ProfileSet }>({ profiles: opts.profiles });
  const metrics = routeMetrics(registry);
  const chain = chainPerGeneration(opts.generations ?? config, ({ profiles }) => {
    const profile = profileFilter({
      direction,
      profiles,
      externalProfiles: false,
      clusterDomain: "cluster.local",
      clock: opts.clock ?? monotonicClock,
      metrics,
      ...opts.filterOptions,
    });
    return new FilterChain([profile, retryFilter(direction, profile)]);
  });
  const proxy = startProxy({ direction, forwardTo: { host: "127.0.0.1", port: opts.upstreamPort }, chain });
  return { port: proxy.port, proxy, config, registry, chain, stop: () => proxy.stop() };
}

// === An HTTP/1.1 upstream that answers by script ===

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: ReadonlyMap<string, string>;
  /** The body as sent on the wire (chunked framing removed). */
  readonly body: Buffer;
}

export interface ScriptedUpstream extends RawUpstream {
  /** Every complete request received, in arrival order. */
  readonly requests: SeenRequest[];
}

/** A response with a Content-Length body. */
export function response(status: number, body = ""): string {
  return `HTTP/1.1 ${status} X\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * An upstream that parses each request (Content-Length or chunked body, keep-alive) and writes what
 * `answer(req, index, reply)` returns; `null` leaves the request unanswered (a hung upstream, or one
 * that answers later through `reply`). `index` counts requests over all connections from 0.
 */
export function scriptedUpstream(
  answer: (req: SeenRequest, index: number, reply: (text: string) => void) => string | null,
): ScriptedUpstream {
  const requests: SeenRequest[] = [];
  const up = rawUpstream((conn) => {
    for (;;) {
      const parsed = parseRequest(conn.received);
      if (parsed === undefined) return;
      conn.received = conn.received.subarray(parsed.consumed);
      const index = requests.length;
      requests.push(parsed.req);
      const socket = conn.socket;
      const out = answer(parsed.req, index, (text) => void socket.write(text));
      if (out !== null) conn.socket.write(out);
    }
  });
  return { ...up, requests };
}

function parseRequest(buf: Buffer): { req: SeenRequest; consumed: number } | undefined {
  const end = buf.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const lines = buf.toString("latin1", 0, end).split("\r\n");
  const [method = "", path = ""] = lines[0]!.split(" ");
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const c = line.indexOf(":");
    headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  let pos = end + 4;
  if (headers.get("transfer-encoding")?.toLowerCase() === "chunked") {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", pos);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString("latin1", pos, lineEnd), 16);
      if (size === 0) {
        if (buf.length < lineEnd + 4) return undefined;
        pos = lineEnd + 4; // no trailers in these tests
        break;
      }
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      pos = lineEnd + 2 + size + 2;
    }
    return { req: { method, path, headers, body: Buffer.concat(parts) }, consumed: pos };
  }
  const len = Number(headers.get("content-length") ?? 0);
  if (buf.length < pos + len) return undefined;
  return { req: { method, path, headers, body: Buffer.from(buf.subarray(pos, pos + len)) }, consumed: pos + len };
}

// === Client ===

/** Sends one request on a fresh connection and returns the parsed response. */
export async function send(
  port: number,
  opts: { method?: string; path?: string; host: string; body?: string | Buffer; chunked?: boolean; timeoutMs?: number },
): Promise<ParsedResponse> {
  const method = opts.method ?? "GET";
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  let head = `${method} ${opts.path ?? "/"} HTTP/1.1\r\nhost: ${opts.host}\r\n`;
  let payload: Buffer;
  if (body === undefined) {
    payload = Buffer.from(`${head}\r\n`);
  } else if (opts.chunked === true) {
    head += "transfer-encoding: chunked\r\n\r\n";
    payload = Buffer.concat([Buffer.from(head), Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]);
  } else {
    head += `content-length: ${body.length}\r\n\r\n`;
    payload = Buffer.concat([Buffer.from(head), body]);
  }
  const r = await rawRequest(port, payload, { until: hasResponses(1), timeoutMs: opts.timeoutMs ?? 5000 });
  const res = splitResponses(r.data)[0];
  if (res === undefined) throw new Error(`no response; got ${JSON.stringify(r.text.slice(0, 200))}`);
  return res;
}

// === Prometheus text ===

/**
 * Sum of the samples of `name` whose labels include `labels` (exact values). A label given as
 * `undefined` must be absent (e.g. `{ rt_route: undefined }` selects the default route).
 */
export async function metric(registry: Registry, name: string, labels: Readonly<Record<string, string | undefined>> = {}): Promise<number> {
  const text = await registry.metrics();
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const pair of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) have.set(pair[1]!, pair[2]!);
    const ok = Object.entries(labels).every(([k, v]) => (v === undefined ? !have.has(k) : have.get(k) === v));
    if (ok) sum += Number(m[3]);
  }
  return sum;
}
