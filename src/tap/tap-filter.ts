// The tap filter (Linkerd's tap layer): for a request some subscriber's filter matches, sends the
// request, response and end events to those subscribers. It is in a chain only while somebody
// listens (see TapHub.version); with listeners, filters are applied before any event is built.
import type { FilterState, HttpFilter } from "../http/filter.ts";
import { CONTINUE } from "../http/filter.ts";
import type { RequestCtx } from "../http/request-ctx.ts";
import { formatHostPort } from "../config/values.ts";
import type { Direction } from "../rt/direction.ts";
import { type TapEndEvent, type TapRequestEvent, type TapResponseEvent, redactHeaders } from "./events.ts";
import type { TapHub, TapSubscriber } from "./hub.ts";

export interface TapFilterOptions {
  readonly direction: Direction;
  readonly hub: TapHub;
  /**
   * A later filter of the chain may retry a response (outbound with profiles): the response event is
   * then held until the request completes, so a discarded attempt's response is never shown.
   */
  readonly responsesMayBeRetried: boolean;
}

/** One request's tap state; the subscriber list is reused from request to request. */
export class TappedRequest implements FilterState {
  readonly subscribers: TapSubscriber[] = [];
  id = 0;
  /** A subscriber asked for header lines (decoding them is most of an event's cost). */
  withHeaders = false;
  requestSent = false;
  responseSent = false;
  /** The connection's addresses as text, computed once per connection (the slot lives as long as it). */
  conn: RequestCtx["conn"] | undefined = undefined;
  source = "";
  destination = "";
  /** A response held until completion (responsesMayBeRetried). */
  heldResponse: TapResponseEvent | undefined = undefined;
  grpcStatus: number | undefined = undefined;

  reset(): void {
    if (this.subscribers.length > 0) this.subscribers.length = 0;
    this.id = 0;
    this.withHeaders = false;
    this.requestSent = false;
    this.responseSent = false;
    this.heldResponse = undefined;
    this.grpcStatus = undefined;
  }
}

export type TapHttpFilter = HttpFilter<TappedRequest>;

export function tapFilter(options: TapFilterOptions): TapHttpFilter {
  const { direction, hub, responsesMayBeRetried } = options;

  const sendRequest = (ctx: RequestCtx, s: TappedRequest): void => {
    s.requestSent = true;
    const conn = ctx.conn;
    if (s.conn !== conn) {
      s.conn = conn;
      s.source = formatHostPort({ host: conn.clientAddr, port: conn.clientPort });
      s.destination = conn.dst !== null ? formatHostPort(conn.dst) : "";
    }
    const identity = conn.clientIdentity;
    const event: TapRequestEvent = {
      type: "request",
      id: s.id,
      tsMs: Date.now(),
      direction,
      tls: identity !== undefined ? "true" : "disabled",
      source: s.source,
      destination: conn.dst !== null ? s.destination : (ctx.authority ?? ""),
      method: ctx.method,
      authority: ctx.authority ?? "",
      path: ctx.path,
    };
    if (identity !== undefined) event.clientId = identity;
    if (ctx.route !== undefined) event.route = ctx.route;
    if (s.withHeaders) event.headers = redactHeaders(ctx.headerList());
    hub.publish(s.subscribers, event);
  };

  const sendResponse = (s: TappedRequest, event: TapResponseEvent): void => {
    s.responseSent = true;
    hub.publish(s.subscribers, event);
  };

  return {
    name: "tap",
    newState: () => new TappedRequest(),

    onRequestHead(ctx, s) {
      hub.match(ctx, direction, s.subscribers);
      if (s.subscribers.length > 0) {
        s.id = hub.nextId();
        s.withHeaders = hub.matchedWantHeaders;
      }
      return CONTINUE;
    },

    // Runs after every filter's request-head phase, so the profile's route is known; passes.
    selectUpstream(ctx, s) {
      if (s.subscribers.length > 0 && !s.requestSent) sendRequest(ctx, s);
      return undefined;
    },

    onResponseHead(ctx, s, res) {
      if (s.subscribers.length === 0) return false;
      const grpc = res.header("grpc-status");
      s.grpcStatus = grpc !== undefined && /^\d+$/.test(grpc) ? Number(grpc) : undefined;
      const event: TapResponseEvent = { type: "response", id: s.id, sinceRequestMs: ctx.timing.responseHeadMs - ctx.timing.startMs, status: res.status };
      if (s.withHeaders) event.headers = redactHeaders(res.headerList());
      if (responsesMayBeRetried) s.heldResponse = event;
      else sendResponse(s, event);
      return false;
    },

    onRetry(_ctx, s) {
      s.heldResponse = undefined;
      s.grpcStatus = undefined;
    },

    onComplete(ctx, s) {
      if (s.subscribers.length === 0) return;
      // A request rejected at its head never reached upstream selection.
      if (!s.requestSent) sendRequest(ctx, s);
      const timing = ctx.timing;
      if (s.heldResponse !== undefined) sendResponse(s, s.heldResponse);
      else if (!s.responseSent && ctx.status > 0) {
        // The proxy answered itself (an error response): the client saw this status.
        sendResponse(s, { type: "response", id: s.id, sinceRequestMs: timing.endMs - timing.startMs, status: ctx.status, ...(s.withHeaders ? { headers: [] } : {}) });
      }
      const error = ctx.error;
      const end: TapEndEvent = { type: "end", id: s.id, sinceRequestMs: timing.endMs - timing.startMs, requestBytes: ctx.requestBodyBytes, responseBytes: ctx.responseBytes };
      if (ctx.status > 0) end.status = ctx.status;
      if (s.grpcStatus !== undefined) end.grpcStatus = s.grpcStatus;
      if (error !== undefined) end.error = error.code;
      hub.publish(s.subscribers, end);
      hub.finished(s.subscribers);
      s.subscribers.length = 0; // the connection's slot must not keep departed subscribers alive
    },
  };
}
