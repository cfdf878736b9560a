// The access log's line formats (linkerd-behavior §10.1): Apache common log style, or one JSON object per
// line with every field a string except status. An AccessRecord holds the fields of one request.
import type { AccessLogFormat } from "../config/env.ts";

export type { AccessLogFormat };

/** One request's fields, named as Linkerd's access log names them; "" where a value is absent. */
export interface AccessRecord {
  readonly "client.addr": string;
  /** The client's mTLS identity, "-" when it has none. */
  readonly "client.id": string;
  /** RFC 3339 in UTC with nanoseconds: when the request head was read. */
  readonly timestamp: string;
  readonly method: string;
  readonly uri: string;
  readonly version: string;
  /** The first of x-b3-traceid, x-request-id, x-amzn-trace-id. */
  readonly trace_id: string;
  /** The request's Content-Length. */
  readonly request_bytes: string;
  /** The status sent to the client; 0 when none was. */
  readonly status: number;
  /** The response's Content-Length. */
  readonly response_bytes: string;
  /** From the request head to the response head (or to the end when there was none). */
  readonly total_ns: string;
  /** total_ns less the time spent waiting for the application's response head. */
  readonly processing_ns: string;
  readonly user_agent: string;
  readonly host: string;
}

/** `<client.addr> <client.id> - [<timestamp>] "<METHOD> <uri> <version>" <status>`, newline-terminated. */
export function apacheLine(r: AccessRecord): string {
  return `${r["client.addr"]} ${r["client.id"]} - [${r.timestamp}] "${r.method} ${r.uri} ${r.version}" ${r.status}\n`;
}

/** One JSON object, newline-terminated; field order as in AccessRecord. */
export function jsonLine(r: AccessRecord): string {
  return `${JSON.stringify(r)}\n`;
}

/** `epochMs` (fractional) as RFC 3339 UTC with nine fraction digits, e.g. 2026-11-30T22:10:00.123456789Z. */
export function rfc3339Nanos(epochMs: number): string {
  const wholeSeconds = Math.floor(epochMs / 1000);
  if (wholeSeconds !== cachedSecond) {
    cachedSecond = wholeSeconds;
    cachedPrefix = new Date(wholeSeconds * 1000).toISOString().slice(0, 20); // 2026-11-30T22:10:00.
  }
  const nanos = Math.min(999_999_999, Math.floor((epochMs - wholeSeconds * 1000) * 1e6));
  return `${cachedPrefix}${String(nanos).padStart(9, "0")}Z`;
}

/** The `YYYY-MM-DDTHH:MM:SS.` of the last second formatted: one Date per second, not per line. */
let cachedSecond = Number.NaN;
let cachedPrefix = "";
