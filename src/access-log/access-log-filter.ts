// The access log as an inbound HttpFilter: captures the request's fields into a record at its head (the
// head buffer is reused later), the response's Content-Length at its head, and on completion queues the
// record with the sink, which formats lines in batches; records are recycled (nothing is allocated per
// request). Only in the chain when MESHLET_ACCESS_LOG is apache or json.
import { formatHostPort } from "../config/values.ts";
import { CONTINUE, type FilterState, type HttpFilter } from "../http/filter.ts";
import type { RequestCtx, ResponseView } from "../http/request-ctx.ts";
import { type Clock, preciseWallClock } from "../rt/clock.ts";
import { AccessLogRecord } from "./access-log-format.ts";

const NS_PER_MS = 1e6;

class AccessLogState implements FilterState {
  /** onRequestHead ran (a request rejected by an earlier filter is not logged). */
  captured = false;
  /** The record being filled in; handed to the sink at completion and replaced by a spare one. */
  record = new AccessLogRecord();
  /** The connection clientAddr was computed for (the slot lives as long as the connection). */
  conn: RequestCtx["conn"] | undefined = undefined;
  clientAddr = "";

  reset(): void {
    this.captured = false;
    this.record.responseBytes = "";
  }
}

export interface AccessLogOptions {
  /** Receives each finished request's record (an AccessLogSink). */
  readonly sink: { push(record: AccessLogRecord): boolean; reuse(): AccessLogRecord | undefined };
  /** For the timestamp field; default the wall clock with sub-millisecond digits. */
  readonly wallClock?: Clock;
}

export function accessLogFilter(options: AccessLogOptions): HttpFilter<AccessLogState> {
  const wallClock = options.wallClock ?? preciseWallClock;
  const { sink } = options;
  return {
    name: "access-log",
    newState: () => new AccessLogState(),
    onRequestHead(ctx, state) {
      state.captured = true;
      const r = state.record;
      r.wallMs = wallClock.nowMs();
      r.method = ctx.method;
      r.uri = ctx.target;
      r.version = ctx.httpVersion;
      r.traceId = ctx.header("x-b3-traceid") ?? ctx.header("x-request-id") ?? ctx.header("x-amzn-trace-id") ?? "";
      r.requestBytes = ctx.contentLength;
      r.userAgent = ctx.header("user-agent") ?? "";
      r.host = ctx.header("host") ?? ctx.authority ?? "";
      return CONTINUE;
    },
    onResponseHead(_ctx, state, res: ResponseView) {
      state.record.responseBytes = res.header("content-length") ?? "";
      return false;
    },
    onRetry(_ctx, state) {
      state.record.responseBytes = "";
    },
    onComplete(ctx, state) {
      if (!state.captured) return;
      completeRecord(ctx, state);
      // Queued, not formatted: the sink formats its whole queue at once, off the request path.
      if (sink.push(state.record)) state.record = sink.reuse() ?? new AccessLogRecord();
    },
  };
}

/** The fields known only once the request is over. */
function completeRecord(ctx: RequestCtx, s: AccessLogState): void {
  const t = ctx.timing;
  const headMs = t.responseHeadMs > 0 ? t.responseHeadMs : t.endMs;
  const totalMs = Math.max(0, headMs - t.startMs);
  const upstreamWaitMs = t.responseHeadMs > 0 && t.dispatchMs > 0 ? t.responseHeadMs - t.dispatchMs : 0;
  const conn = ctx.conn;
  if (s.conn !== conn) {
    s.conn = conn;
    s.clientAddr = formatHostPort({ host: conn.clientAddr, port: conn.clientPort });
  }
  const r = s.record;
  r.clientAddr = s.clientAddr;
  r.clientId = conn.clientIdentity ?? "-";
  r.status = ctx.status;
  r.totalNs = Math.round(totalMs * NS_PER_MS);
  r.processingNs = Math.round(Math.max(0, totalMs - upstreamWaitMs) * NS_PER_MS);
}
