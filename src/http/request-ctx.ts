// The per-request context the request pipeline's filters (src/http/filter.ts) read and act on: the
// request, its timing and outcome, per-attempt settings (timeout, body retention, classification) and
// header edits. Valid from onRequestHead until onComplete returns; do not keep it afterwards.
import type { ProxyError } from "../errors/proxy-error.ts";
import type { InboundTlsLabels } from "../metrics/http.ts";
import type { FilterState, HttpFilter } from "./filter.ts";
import type { Direction } from "../rt/direction.ts";

/** Where a connection's requests go. `dst` null means: route each request by its authority. */
export interface ConnInfo {
  /**
   * The client's verified mTLS identity; undefined for plaintext clients (all of them until mTLS).
   * Inbound, only meshed clients see `l5d-proxy-error` and internal error text (Linkerd's rule).
   */
  readonly clientIdentity?: string | undefined;
  /** Inbound: the connection's TLS labels for the metrics (inboundTlsLabels); absent: tls="disabled". */
  readonly tls?: InboundTlsLabels | undefined;
  readonly clientAddr: string;
  readonly clientPort: number;
  /** Original destination or the listener's forward target; null for authority-routed outbound. */
  readonly dst: { readonly host: string; readonly port: number } | null;
  readonly direction: Direction;
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

/** How the route (or the engine's default) classifies a response status for metrics and retries. */
export interface ResponseClassifier {
  isFailure(status: number): boolean;
}

/** Linkerd's default: 5xx is a failure (linkerd/app/core/src/classify.rs). */
export const DEFAULT_CLASSIFIER: ResponseClassifier = Object.freeze({ isFailure: (status: number) => status >= 500 && status <= 599 });

/** What filters see of an upstream response head in onResponseHead. */
export interface ResponseView {
  readonly status: number;
  /** kindBit(K_*) of the recognised headers present (see head-parser.ts): a cheap presence test. */
  readonly kindMask: number;
  /** First value of a header by lowercase name, latin1; slow path. */
  header(lowerName: string): string | undefined;
  /** Every header line as [name, value], in order, as the upstream sent them; slow path (tap). */
  headerList(): [string, string][];
}

/** The request as the pipeline's filters see it; valid until onComplete returns. */
export interface RequestCtx {
  readonly conn: ConnInfo;
  readonly method: string;
  /** "HTTP/1.1" or "HTTP/1.0", as the client sent it. */
  readonly httpVersion: string;
  /** The request-target as sent (origin-form path+query, or absolute-form URI). */
  readonly target: string;
  /** Path without query, for route matching. */
  readonly path: string;
  /** Host (or absolute-form/CONNECT authority); undefined for an HTTP/1.0 request without Host. */
  readonly authority: string | undefined;
  /** First value of a request header (case-insensitive name), latin1; slow path, fine for routing. */
  header(name: string): string | undefined;
  /** Every request header line as [name, value], in order, as the client sent them; slow path (tap). */
  headerList(): [string, string][];
  /** kindBit(K_*) of the recognised request headers present. */
  readonly requestKindMask: number;
  /** The declared request body length, or -1 (chunked or none). */
  readonly contentLength: number;

  /** Route name chosen by a profile; free for filters to set (metrics/logs). */
  route: string | undefined;
  /** Classifies upstream responses for the endpoint metrics (a profile route's response classes). */
  classifier: ResponseClassifier;
  /**
   * Per-attempt timeout in ms from the attempt's start (asking the pool for a connection, so a slow
   * connect or queue wait counts) until the response head; 0 = none. Read when the attempt starts: set
   * it in onRequestHead, or in onRetry for the next attempt. On expiry the upstream request is cancelled
   * and onAttemptError decides between a retry and `timeoutError` (504).
   */
  responseTimeoutMs: number;
  /** The error used when responseTimeoutMs expires (default: a route timeout, 504 and close). */
  timeoutError: ((timeoutMs: number) => ProxyError) | undefined;
  /**
   * Keep up to this many request body bytes so the request can be re-sent (Linkerd retries buffer
   * ≤ 64 KiB). 0 = none. Must be set in onRequestHead. A longer body makes the request non-replayable.
   */
  retainBodyBytes: number;

  /** 1 for the first attempt, incremented by every retry. */
  readonly attempt: number;
  /** The request can be sent again: body complete and fully retained (or absent), nothing forwarded yet. */
  readonly replayable: boolean;
  readonly timing: RequestTiming;
  /** Status of the upstream response head that was relayed to the client; 0 if none was. */
  readonly upstreamStatus: number;
  /** Request body bytes received from the client so far, as on the wire (chunk framing included). */
  readonly requestBodyBytes: number;
  /** Bytes sent to the client for this response so far: head and body (a tunnel's bytes are not counted). */
  readonly responseBytes: number;
  /** Final status sent to the client (0 until known). */
  readonly status: number;
  /** The failure, if the exchange failed. */
  readonly error: ProxyError | undefined;
  /**
   * gRPC requests over HTTP/2: the response's grpc-status (trailers-only head or trailers; UNKNOWN when
   * the stream ended without one), for gRPC classification (linkerd-behavior §2.4). Undefined otherwise.
   */
  readonly grpcStatus?: number | undefined;

  /** Drops a request header (lowercase name) from what is sent upstream. Call in onRequestHead. */
  dropRequestHeader(lowerName: string): void;
  /** Adds a request header line upstream. Call in onRequestHead. CR, LF and non-latin1 become spaces. */
  addRequestHeader(name: string, value: string): void;
  /** Drops a response header (lowercase name) from what the client receives. Call in onResponseHead. */
  dropResponseHeader(lowerName: string): void;
  /** Adds a response header line for the client. Call in onResponseHead. */
  addResponseHeader(name: string, value: string): void;
  /** Close the client connection once this response is complete (e.g. `l5d-proxy-connection: close`). */
  closeClientAfterResponse(): void;

  /**
   * The state slot of another filter of the same chain for this request (how cooperating filters,
   * e.g. a profile and its retries, share a decision), or undefined when that filter is not in the chain.
   */
  stateOf<S extends FilterState | undefined>(filter: HttpFilter<S>): S | undefined;

  /** Continues a request a filter paused in onRequestHead (returned PAUSE). */
  resume(): void;
  /**
   * Fails the request with `err`: before the response head reached the client the upstream attempt is
   * cancelled and the rescue table answers; afterwards the client connection is aborted.
   */
  cancel(err: ProxyError): void;
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
  /** The peer's identity from discovery (meshlet.io/identity): the pool dials it with mTLS when this workload has one. */
  readonly identity?: string | undefined;
}
