// The tap filter (Linkerd's tap layer): for a request some subscriber's filter matches, sends the
// request, response and end events to those subscribers. It is in a chain only while somebody
// listens (see TapHub.version); with listeners, filters are applied before any event is built.
import type { FilterState, HttpFilter } from "../http/filter.ts";
import { CONTINUE } from "../http/filter.ts";
import type { RequestCtx } from "../http/request-ctx.ts";
import { formatHostPort } from "../config/values.ts";
import type { Direction } from "../rt/direction.ts";
import { type TapResponseEvent, redactHeaders } from "./events.ts";
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

/**
 * One request's tap state; the subscriber list is reused from request to request, and the events come
 * from the hub's pools (the hub takes them back once encoded), so nothing is allocated per request.
 */
export class TappedRequest implements FilterState {
  readonly subscribers: TapSubscriber[] = [];
  /** The request's id in its events. */
  id = 0;
  /** A subscriber asked for header lines (decoding them is most of an event's cost). */
  withHeaders = false;
  requestSent = false;
  responseSent = false;
  /** The response event that waits for completion (responsesMayBeRetried), or undefined. */
  heldResponse: TapResponseEvent | undefined = undefined;
  /** The response's grpc-status, for the end event. */
  grpcStatus: number | undefined = undefined;
  /** The connection's addresses as text, computed once per connection (the slot lives as long as it). */
  conn: RequestCtx["conn"] | undefined = undefined;
  source = "";
  destination = "";

  reset(): void {
    if (this.subscribers.length > 0) this.subscribers.length = 0;
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
    const event = hub.spareRequest();
    event.id = s.id;
    event.tsMs = Date.now();
    event.direction = direction;
    event.tls = identity !== undefined ? "true" : "disabled";
    event.clientId = identity;
    event.source = s.source;
    event.destination = conn.dst !== null ? s.destination : (ctx.authority ?? "");
    event.method = ctx.method;
    event.authority = ctx.authority ?? "";
    event.path = ctx.path;
    event.route = ctx.route;
    event.headers = s.withHeaders ? redactHeaders(ctx.headerList()) : undefined;
    hub.publish(s.subscribers, event);
  };

  const sendResponse = (s: TappedRequest, event: TapResponseEvent): void => {
    s.responseSent = true;
    s.heldResponse = undefined;
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
      // A held response of a discarded attempt is filled in again.
      const event = s.heldResponse ?? hub.spareResponse();
      event.id = s.id;
      event.sinceRequestMs = ctx.timing.responseHeadMs - ctx.timing.startMs;
      event.status = res.status;
      event.headers = s.withHeaders ? redactHeaders(res.headerList()) : undefined;
      if (responsesMayBeRetried) s.heldResponse = event;
      else sendResponse(s, event);
      return false;
    },

    onRetry(_ctx, s) {
      s.grpcStatus = undefined;
      // A held response stays in heldResponse to be filled in by the next attempt, but is not sent.
      if (s.heldResponse !== undefined) s.heldResponse.status = 0;
    },

    onComplete(ctx, s) {
      if (s.subscribers.length === 0) return;
      // A request rejected at its head never reached upstream selection.
      if (!s.requestSent) sendRequest(ctx, s);
      const timing = ctx.timing;
      const held = s.heldResponse;
      if (held !== undefined && held.status > 0) sendResponse(s, held);
      else if (!s.responseSent && ctx.status > 0) {
        // The proxy answered itself (an error response): the client saw this status.
        const response = held ?? hub.spareResponse();
        response.id = s.id;
        response.sinceRequestMs = timing.endMs - timing.startMs;
        response.status = ctx.status;
        response.headers = s.withHeaders ? [] : undefined;
        sendResponse(s, response);
      }
      const end = hub.spareEnd();
      end.id = s.id;
      end.sinceRequestMs = timing.endMs - timing.startMs;
      end.requestBytes = ctx.requestBodyBytes;
      end.responseBytes = ctx.responseBytes;
      end.status = ctx.status > 0 ? ctx.status : undefined;
      end.grpcStatus = s.grpcStatus;
      end.error = ctx.error?.code;
      hub.publish(s.subscribers, end);
      hub.finished(s.subscribers);
      s.subscribers.length = 0; // the connection's slot must not keep departed subscribers alive
    },
  };
}
