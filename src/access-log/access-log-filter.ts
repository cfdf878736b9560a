// The access log as an inbound HttpFilter: captures the request's fields at its head (the head buffer is
// reused later), the response's Content-Length at its head, and on completion has the sink write the
// line from its state (the state is the line's record: nothing is allocated per request). Only in the
// chain when MESHLET_ACCESS_LOG is apache or json.
import { formatHostPort } from "../config/values.ts";
import { CONTINUE, type FilterState, type HttpFilter } from "../http/filter.ts";
import type { RequestCtx, ResponseView } from "../http/request-ctx.ts";
import { type Clock, preciseWallClock } from "../rt/clock.ts";
import type { AccessRecord, LineWriter } from "./access-log-format.ts";
import type { LineBuffer } from "../rt/line-buffer.ts";

const NS_PER_MS = 1e6;

class AccessLogState implements FilterState, AccessRecord {
  /** onRequestHead ran (a request rejected by an earlier filter is not logged). */
  captured = false;
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
  /** The connection clientAddr was computed for (the slot lives as long as the connection). */
  conn: RequestCtx["conn"] | undefined = undefined;

  reset(): void {
    this.captured = false;
    this.responseBytes = "";
  }
}

export interface AccessLogOptions {
  /** How a line is written (access-log-format.ts). */
  readonly write: LineWriter;
  /** Receives each finished request (an AccessLogSink). */
  readonly sink: { push<T>(write: (out: LineBuffer, item: T) => void, item: T): void };
  /** For the timestamp field; default the wall clock with sub-millisecond digits. */
  readonly wallClock?: Clock;
}

export function accessLogFilter(options: AccessLogOptions): HttpFilter<AccessLogState> {
  const wallClock = options.wallClock ?? preciseWallClock;
  const { write, sink } = options;
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
      state.requestBytes = ctx.contentLength;
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
      completeRecord(ctx, state);
      sink.push(write, state);
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
  s.clientId = conn.clientIdentity ?? "-";
  s.status = ctx.status;
  s.totalNs = Math.round(totalMs * NS_PER_MS);
  s.processingNs = Math.round(Math.max(0, totalMs - upstreamWaitMs) * NS_PER_MS);
}
