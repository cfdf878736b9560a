// The access log as an inbound HttpFilter: captures the request's fields at its head (the head buffer is
// reused later), the response's Content-Length at its head, and on completion hands one formatted line
// to the sink. Only in the chain when MESHLET_ACCESS_LOG is apache or json.
import { formatHostPort } from "../config/values.ts";
import { CONTINUE, type FilterState, type HttpFilter } from "../http/filter.ts";
import type { RequestCtx, ResponseView } from "../http/request-ctx.ts";
import type { Clock } from "../rt/clock.ts";
import { type AccessLogFormat, type AccessRecord, apacheLine, jsonLine, rfc3339Nanos } from "./access-log-format.ts";

/** Wall-clock time with sub-millisecond digits, for the timestamp field. */
const preciseWallClock: Clock = { nowMs: () => performance.timeOrigin + performance.now() };

const NS_PER_MS = 1e6;

class AccessLogState implements FilterState {
  /** onRequestHead ran (a request rejected by an earlier filter is not logged). */
  captured = false;
  wallMs = 0;
  method = "";
  uri = "";
  version = "";
  traceId = "";
  requestBytes = "";
  userAgent = "";
  host = "";
  responseBytes = "";
  /** The client's address as text, computed once per connection (the slot lives as long as it). */
  conn: RequestCtx["conn"] | undefined = undefined;
  clientAddr = "";

  reset(): void {
    this.captured = false;
    this.responseBytes = "";
  }
}

export interface AccessLogOptions {
  readonly format: Exclude<AccessLogFormat, "off">;
  /** Receives each finished line (an AccessLogSink). */
  readonly sink: { push(line: string): void };
  /** For the timestamp field; default the wall clock with sub-millisecond digits. */
  readonly wallClock?: Clock;
}

export function accessLogFilter(options: AccessLogOptions): HttpFilter<AccessLogState> {
  const wallClock = options.wallClock ?? preciseWallClock;
  const line = options.format === "json" ? jsonLine : apacheLine;
  const sink = options.sink;
  return {
    name: "access-log",
    newState: () => new AccessLogState(),
    onRequestHead(ctx, state) {
      state.captured = true;
      state.wallMs = wallClock.nowMs();
      state.method = ctx.method;
      state.uri = ctx.target;
      state.version = ctx.httpVersion;
      state.traceId = ctx.header("x-b3-traceid") ?? ctx.header("x-request-id") ?? ctx.header("x-amzn-trace-id") ?? "";
      state.requestBytes = ctx.contentLength >= 0 ? String(ctx.contentLength) : "";
      state.userAgent = ctx.header("user-agent") ?? "";
      state.host = ctx.header("host") ?? ctx.authority ?? "";
      return CONTINUE;
    },
    onResponseHead(_ctx, state, res: ResponseView) {
      state.responseBytes = res.header("content-length") ?? "";
      return false;
    },
    onRetry(_ctx, state) {
      state.responseBytes = "";
    },
    onComplete(ctx, state) {
      if (!state.captured) return;
      sink.push(line(recordOf(ctx, state)));
    },
  };
}

function recordOf(ctx: RequestCtx, s: AccessLogState): AccessRecord {
  const t = ctx.timing;
  const headMs = t.responseHeadMs > 0 ? t.responseHeadMs : t.endMs;
  const totalMs = Math.max(0, headMs - t.startMs);
  const upstreamWaitMs = t.responseHeadMs > 0 && t.dispatchMs > 0 ? t.responseHeadMs - t.dispatchMs : 0;
  const conn = ctx.conn;
  if (s.conn !== conn) {
    s.conn = conn;
    s.clientAddr = formatHostPort({ host: conn.clientAddr, port: conn.clientPort });
  }
  return {
    "client.addr": s.clientAddr,
    "client.id": conn.clientIdentity ?? "-",
    timestamp: rfc3339Nanos(s.wallMs),
    method: s.method,
    uri: s.uri,
    version: s.version,
    trace_id: s.traceId,
    request_bytes: s.requestBytes,
    status: ctx.status,
    response_bytes: s.responseBytes,
    total_ns: String(Math.round(totalMs * NS_PER_MS)),
    processing_ns: String(Math.round(Math.max(0, totalMs - upstreamWaitMs) * NS_PER_MS)),
    user_agent: s.userAgent,
    host: s.host,
  };
}
