// A tap subscription: the first (text) message a client sends, `{"direction","method","authority",
// "path","limit","headers"}` with every field optional (obs-contract §2), checked and compiled into the
// filter the proxy applies before it builds any event. Problems carry stable codes the server sends back.
import { compilePathRegex } from "../profiles/path-regex.ts";
import type { Direction } from "../rt/direction.ts";

export interface TapFilter {
  readonly direction: Direction | undefined;
  /** Upper-case method, compared exactly. */
  readonly method: string | undefined;
  /** Lower-case authority, compared exactly with the request's (lower-cased) authority. */
  readonly authority: string | undefined;
  /** Whole-path RE2 match, as a ServiceProfile pathRegex (query excluded). */
  readonly path: ((path: string) => boolean) | undefined;
  /** Stop after this many requests; 0 = unbounded. */
  readonly limit: number;
  /** Include the (redacted) header lines in request and response events, like Linkerd's `extract.http.headers`. */
  readonly headers: boolean;
}

export type TapSubscriptionErrorCode =
  | "MESHLET_ERR_TAP_NOT_JSON"
  | "MESHLET_ERR_TAP_UNKNOWN_FIELD"
  | "MESHLET_ERR_TAP_DIRECTION"
  | "MESHLET_ERR_TAP_METHOD"
  | "MESHLET_ERR_TAP_AUTHORITY"
  | "MESHLET_ERR_TAP_PATH"
  | "MESHLET_ERR_TAP_LIMIT"
  | "MESHLET_ERR_TAP_HEADERS";

export class TapSubscriptionError extends Error {
  constructor(
    readonly code: TapSubscriptionErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const FIELDS = new Set(["direction", "method", "authority", "path", "limit", "headers"]);
/** RFC 9110 method token. */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,32}$/;
const MAX_AUTHORITY_CHARS = 512;
const MAX_PATH_REGEX_CHARS = 1024;

/** Parses and compiles a subscription message; throws TapSubscriptionError naming the field at fault. */
export function parseSubscription(text: string): TapFilter {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TapSubscriptionError("MESHLET_ERR_TAP_NOT_JSON", `the subscription must be a JSON object: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TapSubscriptionError("MESHLET_ERR_TAP_NOT_JSON", "the subscription must be a JSON object");
  }
  const fields = raw as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (!FIELDS.has(name)) throw new TapSubscriptionError("MESHLET_ERR_TAP_UNKNOWN_FIELD", `unknown field ${JSON.stringify(name)} (known: ${[...FIELDS].join(", ")})`);
  }
  return {
    direction: optionalString(fields, "direction", "MESHLET_ERR_TAP_DIRECTION", (v) => {
      if (v !== "inbound" && v !== "outbound") throw new TapSubscriptionError("MESHLET_ERR_TAP_DIRECTION", `direction must be "inbound" or "outbound" (got ${JSON.stringify(v)})`);
      return v;
    }),
    method: optionalString(fields, "method", "MESHLET_ERR_TAP_METHOD", (v) => {
      if (!METHOD.test(v)) throw new TapSubscriptionError("MESHLET_ERR_TAP_METHOD", `method must be an HTTP method token like GET (got ${JSON.stringify(v)})`);
      return v.toUpperCase();
    }),
    authority: optionalString(fields, "authority", "MESHLET_ERR_TAP_AUTHORITY", (v) => {
      if (v === "" || v.length > MAX_AUTHORITY_CHARS || /[\s/]/.test(v)) {
        throw new TapSubscriptionError("MESHLET_ERR_TAP_AUTHORITY", `authority must be host or host:port, as the request's Host (got ${JSON.stringify(v)})`);
      }
      return v.toLowerCase();
    }),
    path: optionalString(fields, "path", "MESHLET_ERR_TAP_PATH", (v) => {
      if (v.length > MAX_PATH_REGEX_CHARS) throw new TapSubscriptionError("MESHLET_ERR_TAP_PATH", `path regex longer than ${MAX_PATH_REGEX_CHARS} characters`);
      const compiled = compilePathRegex(v);
      if (!compiled.ok) throw new TapSubscriptionError("MESHLET_ERR_TAP_PATH", `path: ${compiled.error}`);
      return compiled.test;
    }),
    limit: limitOf(fields.limit),
    headers: headersOf(fields.headers),
  };
}

function optionalString<T>(fields: Record<string, unknown>, name: string, code: TapSubscriptionErrorCode, parse: (value: string) => T): T | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new TapSubscriptionError(code, `${name} must be a string (got ${JSON.stringify(value)})`);
  return parse(value);
}

function headersOf(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw new TapSubscriptionError("MESHLET_ERR_TAP_HEADERS", `headers must be true or false (got ${JSON.stringify(value)})`);
  return value;
}

function limitOf(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new TapSubscriptionError("MESHLET_ERR_TAP_LIMIT", `limit must be a whole number of requests, at least 1 (got ${JSON.stringify(value)})`);
  }
  return value;
}
