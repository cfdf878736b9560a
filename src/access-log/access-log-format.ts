// The access log's line formats (linkerd-behavior §10.1): Apache common log style, or one JSON object per
// line with every field a string except status. An AccessRecord holds the fields of one request; the
// writers put its line straight into a LineBuffer (the sink's), field by field.
import type { AccessLogFormat } from "../config/env.ts";
import { LineBuffer, asciiBytes } from "../rt/line-buffer.ts";
import type { LineFormat } from "./access-log-sink.ts";

export type { AccessLogFormat };

/** One request's fields (the JSON keys Linkerd uses are in writeJsonLine); "" where a text value is absent. */
export interface AccessRecord {
  /** client.addr */
  readonly clientAddr: string;
  /** client.id: the client's mTLS identity, "-" when it has none. */
  readonly clientId: string;
  /** timestamp: when the request head was read, wall-clock epoch ms (fractional). */
  readonly wallMs: number;
  readonly method: string;
  readonly uri: string;
  readonly version: string;
  /** trace_id: the first of x-b3-traceid, x-request-id, x-amzn-trace-id. */
  readonly traceId: string;
  /** request_bytes: the request's Content-Length, -1 when it had none. */
  readonly requestBytes: number;
  /** The status sent to the client; 0 when none was. */
  readonly status: number;
  /** response_bytes: the response's Content-Length as sent, "" when it had none. */
  readonly responseBytes: string;
  /** total_ns: from the request head to the response head (or to the end when there was none). */
  readonly totalNs: number;
  /** processing_ns: totalNs less the time spent waiting for the application's response head. */
  readonly processingNs: number;
  /** user_agent */
  readonly userAgent: string;
  readonly host: string;
}

export type LineWriter = (out: LineBuffer, r: AccessRecord) => void;

/** An AccessRecord the filter fills in and the sink queues; reused once its line is written. */
export class AccessLogRecord implements AccessRecord {
  clientAddr = "";
  clientId = "-";
  wallMs = 0;
  method = "";
  uri = "";
  version = "";
  traceId = "";
  requestBytes = -1;
  status = 0;
  responseBytes = "";
  totalNs = 0;
  processingNs = 0;
  userAgent = "";
  host = "";
}

/** Bytes of a line beyond its text fields (keys, timestamp, numbers), for the sink's estimate. */
const FIXED_LINE_BYTES = 240;

/** The sink's view of a format: how to write a record, about how long its line is, and recycling. */
export function lineFormatFor(format: Exclude<AccessLogFormat, "off">): LineFormat<AccessLogRecord> {
  return {
    write: lineWriterFor(format),
    estimateBytes: (r) => FIXED_LINE_BYTES + r.clientAddr.length + r.clientId.length + r.uri.length + r.traceId.length + r.userAgent.length + r.host.length,
    // The longest fields let go of their strings (a spare record should not keep an 8 KB URI alive).
    recycle(r) {
      r.uri = "";
      r.userAgent = "";
      r.traceId = "";
      r.host = "";
    },
  };
}

/** `<client.addr> <client.id> - [<timestamp>] "<METHOD> <uri> <version>" <status>`, newline-terminated. */
export const writeApacheLine: LineWriter = (out, r) => {
  out.text(r.clientAddr);
  out.bytesOf(SPACE);
  out.text(r.clientId);
  out.bytesOf(APACHE.timestamp);
  writeRfc3339Nanos(out, r.wallMs);
  out.bytesOf(APACHE.request);
  out.text(r.method);
  out.bytesOf(SPACE);
  out.text(r.uri);
  out.bytesOf(SPACE);
  out.text(r.version);
  out.bytesOf(APACHE.status);
  out.decimal(r.status);
  out.bytesOf(NEWLINE);
};

/** One JSON object, newline-terminated, with Linkerd's keys in this order. */
export const writeJsonLine: LineWriter = (out, r) => {
  out.bytesOf(JSON_KEY.clientAddr);
  out.jsonString(r.clientAddr);
  out.bytesOf(JSON_KEY.clientId);
  out.jsonString(r.clientId);
  out.bytesOf(JSON_KEY.timestamp);
  writeRfc3339Nanos(out, r.wallMs);
  out.bytesOf(JSON_KEY.method);
  out.jsonString(r.method);
  out.bytesOf(JSON_KEY.uri);
  out.jsonString(r.uri);
  out.bytesOf(JSON_KEY.version);
  out.jsonString(r.version);
  out.bytesOf(JSON_KEY.traceId);
  out.jsonString(r.traceId);
  out.bytesOf(JSON_KEY.requestBytes);
  if (r.requestBytes >= 0) out.decimal(r.requestBytes);
  out.bytesOf(JSON_KEY.status);
  out.decimal(r.status);
  out.bytesOf(JSON_KEY.responseBytes);
  out.jsonString(r.responseBytes);
  out.bytesOf(JSON_KEY.totalNs);
  out.decimal(r.totalNs);
  out.bytesOf(JSON_KEY.processingNs);
  out.decimal(r.processingNs);
  out.bytesOf(JSON_KEY.userAgent);
  out.jsonString(r.userAgent);
  out.bytesOf(JSON_KEY.host);
  out.jsonString(r.host);
  out.bytesOf(JSON_KEY.end);
};

// The fixed parts of the lines, encoded once (LineBuffer.bytesOf copies them faster than text()).
const SPACE = asciiBytes(" ");
const NEWLINE = asciiBytes("\n");
const APACHE = { timestamp: asciiBytes(" - ["), request: asciiBytes('] "'), status: asciiBytes('" ') };
const JSON_KEY = {
  clientAddr: asciiBytes('{"client.addr":'),
  clientId: asciiBytes(',"client.id":'),
  timestamp: asciiBytes(',"timestamp":"'),
  method: asciiBytes('","method":'),
  uri: asciiBytes(',"uri":'),
  version: asciiBytes(',"version":'),
  traceId: asciiBytes(',"trace_id":'),
  requestBytes: asciiBytes(',"request_bytes":"'),
  status: asciiBytes('","status":'),
  responseBytes: asciiBytes(',"response_bytes":'),
  totalNs: asciiBytes(',"total_ns":"'),
  processingNs: asciiBytes('","processing_ns":"'),
  userAgent: asciiBytes('","user_agent":'),
  host: asciiBytes(',"host":'),
  end: asciiBytes("}\n"),
};

export function lineWriterFor(format: Exclude<AccessLogFormat, "off">): LineWriter {
  return format === "json" ? writeJsonLine : writeApacheLine;
}

/** The line as a string (tests and tools; the proxy writes into its sink's buffer). */
export function formatLine(write: LineWriter, r: AccessRecord): string {
  const out = new LineBuffer(256);
  write(out, r);
  return new TextDecoder().decode(out.bytes.subarray(0, out.length));
}

/** `epochMs` (fractional) as RFC 3339 UTC with nine fraction digits, e.g. 2026-11-30T22:10:00.123456789Z. */
export function writeRfc3339Nanos(out: LineBuffer, epochMs: number): void {
  const wholeSeconds = Math.floor(epochMs / 1000);
  if (wholeSeconds !== cachedSecond) {
    cachedSecond = wholeSeconds;
    cachedPrefix = new Date(wholeSeconds * 1000).toISOString().slice(0, 20); // 2026-11-30T22:10:00.
  }
  out.text(cachedPrefix);
  out.decimal(Math.min(999_999_999, Math.floor((epochMs - wholeSeconds * 1000) * 1e6)), 9);
  out.bytesOf(ZULU);
}

const ZULU = asciiBytes("Z");

/** The `YYYY-MM-DDTHH:MM:SS.` of the last second formatted: one Date per second, not per line. */
let cachedSecond = Number.NaN;
let cachedPrefix = "";
