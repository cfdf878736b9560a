// The tap wire events (obs-contract §2): what the proxy sends a subscriber, plain MessagePack maps
// (event-encoder.ts), the events of one flush interval per binary WebSocket frame, and the header
// redaction applied before anything leaves the proxy.
import type { Direction } from "../rt/direction.ts";

/** The WebSocket's path on MESHLET_TAP_LISTEN. */
export const TAP_PATH = "/tap";

/** Close code for a refused subscription (RFC 6455 policy violation), after the error event. */
export const CLOSE_INVALID_SUBSCRIPTION = 1008;

/** Close code once a subscription's limit is reached and its last request ended. */
export const CLOSE_LIMIT_REACHED = 1000;

/** A header line as sent on the wire: [name, value]. */
export type HeaderPair = [string, string];

export interface TapRequestEvent {
  type: "request";
  /** Unique per process (a counter); the response and end events of the request carry it too. */
  id: number;
  /** Wall-clock ms when the request went upstream (or was refused), just after its head was parsed. */
  tsMs: number;
  direction: Direction;
  /** "true" for an mTLS client (clientId is then set); "disabled" until meshlet terminates mTLS. */
  tls: string;
  clientId?: string;
  /** "ip:port" of the client. */
  source: string;
  /** "ip:port" of the original destination or forward target; the authority for authority-routed outbound requests. */
  destination: string;
  method: string;
  authority: string;
  path: string;
  /** The ServiceProfile route, when one matched (set by the profile filter, which runs after tap: see tap-filter.ts). */
  route?: string;
  /** Only when a subscriber asked for headers. */
  headers?: HeaderPair[];
}

export interface TapResponseEvent {
  type: "response";
  id: number;
  /** Response head time minus request head time. */
  sinceRequestMs: number;
  status: number;
  /** The upstream's response head (empty for a response the proxy made itself), only when a subscriber asked for headers. */
  headers?: HeaderPair[];
}

export interface TapEndEvent {
  type: "end";
  id: number;
  sinceRequestMs: number;
  /** The status the client received; absent when none was sent (connection aborted). */
  status?: number;
  grpcStatus?: number;
  /** The failure's stable code (e.g. MESHLET_ERR_UPSTREAM_CONNECT), when the exchange failed. */
  error?: string;
  /** Request body bytes received from the client (chunk framing included). */
  requestBytes: number;
  /** Bytes sent to the client for the response, head included. */
  responseBytes: number;
}

export interface TapDroppedEvent {
  type: "dropped";
  /** Events not sent to this subscriber since the previous notice, because it read too slowly. */
  count: number;
}

export interface TapErrorEvent {
  type: "error";
  code: string;
  message: string;
}

export type TapEvent = TapRequestEvent | TapResponseEvent | TapEndEvent | TapDroppedEvent | TapErrorEvent;

/** Header values never sent (the name is kept, the value replaced): credentials and session cookies. */
export const REDACTED_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "x-auth-token",
]);

export const REDACTED_VALUE = "<redacted>";

/** Replaces, in place, the values of REDACTED_HEADERS (any case) by REDACTED_VALUE; returns `headers`. */
export function redactHeaders(headers: HeaderPair[]): HeaderPair[] {
  for (const pair of headers) {
    if (REDACTED_HEADERS.has(pair[0].toLowerCase())) pair[1] = REDACTED_VALUE;
  }
  return headers;
}
