// The per-request context and the hook points of the HTTP/1 request lifecycle (Pingora-style phases):
// profiles and retries plug in here (route, per-route timeout, retry on response or error) without
// touching the codec. Valid from onRequest until onComplete returns; do not keep it afterwards.
import type { ProxyError } from "../errors/proxy-error.ts";

/** Where a connection's requests go. `dst` null means: route each request by its authority. */
export interface ConnInfo {
  readonly clientAddr: string;
  readonly clientPort: number;
  /** Original destination or the listener's forward target; null for authority-routed outbound. */
  readonly dst: { readonly host: string; readonly port: number } | null;
  readonly direction: "inbound" | "outbound";
}

/** Milliseconds on the server clock; 0 until the phase happens. */
export interface RequestTiming {
  /** The request head was parsed. */
  readonly startMs: number;
  /** The latest attempt got an upstream connection and its head was written. */
  readonly dispatchMs: number;
  /** The (final) response head arrived — time to first byte is responseHeadMs - startMs. */
  readonly responseHeadMs: number;
  /** The exchange finished (response complete, failed or aborted). */
  readonly endMs: number;
}

export interface RequestCtx {
  readonly conn: ConnInfo;
  readonly method: string;
  /** The request-target as sent (origin-form path+query, or absolute-form URI). */
  readonly target: string;
  /** Path without query, for route matching. */
  readonly path: string;
  /** Host (or absolute-form/CONNECT authority); undefined for an HTTP/1.0 request without Host. */
  readonly authority: string | undefined;
  /** First value of a request header (case-insensitive name), latin1; slow path, fine for routing. */
  header(name: string): string | undefined;

  /** Route name chosen by a profile; free for hooks to set (metrics/logs). */
  route: string | undefined;
  /**
   * Per-attempt timeout in ms from the attempt's start (asking the pool for a connection, so a slow
   * connect or queue wait counts) until the response head; 0 = none. Read when the attempt starts: set
   * it in onRequest, or before returning true from onResponseHead/onError for the retry. On expiry the
   * upstream request is cancelled and onError decides between a retry and `timeoutError` (504).
   */
  responseTimeoutMs: number;
  /** The error used when responseTimeoutMs expires (default: a route timeout, 504 and close). */
  timeoutError: ((timeoutMs: number) => ProxyError) | undefined;
  /**
   * Keep up to this many request body bytes so the request can be re-sent (Linkerd retries buffer
   * ≤ 64 KiB). 0 = none. Must be set in onRequest. A longer body makes the request non-replayable.
   */
  retainBodyBytes: number;

  /** 1 for the first attempt, incremented by every retry. */
  readonly attempt: number;
  /** The request can be sent again: body complete and fully retained (or absent), nothing forwarded yet. */
  readonly replayable: boolean;
  readonly timing: RequestTiming;
  /** Final status sent to the client (0 until known). */
  readonly status: number;
  /** The failure, if the exchange failed. */
  readonly error: ProxyError | undefined;

  /**
   * Fails the request with `err`: before the response head reached the client the upstream attempt is
   * cancelled and the rescue table answers; afterwards the client connection is aborted.
   */
  cancel(err: ProxyError): void;
}

export interface HttpHooks {
  /** After the head is parsed, before the upstream is chosen. Set route/timeouts/retention here. */
  onRequest?(ctx: RequestCtx): void;
  /** When an attempt's final response head arrives. Return true to retry (honoured only if ctx.replayable). */
  onResponseHead?(ctx: RequestCtx, status: number): boolean;
  /** When an attempt fails before a response head (connect error, reset, timeout). Return true to retry. */
  onError?(ctx: RequestCtx, err: ProxyError): boolean;
  /** Once per request, when it is over. */
  onComplete?(ctx: RequestCtx): void;
}

/** The upstream chosen for a request. */
export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  /**
   * CONNECT only: the proxy itself opens host:port, answers 200 and tunnels (http_proxy mode), instead
   * of forwarding the CONNECT request to an upstream that would answer it.
   */
  readonly terminateConnect?: boolean;
}
