// HTTP proxy errors and the ONE rescue table that maps them to synthetic responses
// (status, `l5d-proxy-error`, whether the client connection closes), per linkerd-behavior §4.2.
import * as codes from "../errors/codes.ts";
import { ProxyError, causeOf, type ErrorSide, type Retryable } from "../errors/proxy-error.ts";
import type { RefusalCode } from "../tls/handshake-verdict.ts";

// === Downstream: the client sent something we refuse ===

/** The request head is not valid HTTP/1.x (RFC 9112 §2–§5). */
export class MalformedRequestError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_MALFORMED_REQUEST;
  readonly side: ErrorSide = "downstream";
}

/** The request line names an HTTP version other than 1.0 and 1.1 (RFC 9110 §15.6.6). */
export class HttpVersionNotSupportedError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_VERSION_NOT_SUPPORTED;
  readonly side: ErrorSide = "downstream";
  constructor(version: string) {
    super(`http version ${version} is not supported`);
  }
}

/** The request's body framing is ambiguous or unsupported (RFC 9112 §6): a smuggling attempt or a broken client. */
export class RequestFramingError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_REQUEST_FRAMING;
  readonly side: ErrorSide = "downstream";
}

export class HeadTooLargeError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_HEAD_TOO_LARGE;
  readonly side: ErrorSide = "downstream";
  constructor(maxHeadBytes: number) {
    super(`request head exceeds ${maxHeadBytes} bytes`);
  }
}

export class TooManyHeadersError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_TOO_MANY_HEADERS;
  readonly side: ErrorSide = "downstream";
  constructor(maxHeaders: number) {
    super(`request has more than ${maxHeaders} header fields`);
  }
}

/** The client did not send a complete head in time (slowloris defence). */
export class HeadReadTimeoutError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_HEAD_READ_TIMEOUT;
  readonly side: ErrorSide = "downstream";
  constructor(timeoutMs: number) {
    super(`request head not received within ${timeoutMs}ms`);
  }
}

/** The client went away before the exchange finished; nothing can be sent back. */
export class ClientClosedError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_CLIENT_CLOSED;
  readonly side: ErrorSide = "downstream";
}

// === Upstream: the endpoint failed or misbehaved ===

export class ConnectRefusedError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_CONNECT_REFUSED;
  readonly side: ErrorSide = "upstream";
  override readonly retryable: Retryable = true; // nothing was sent
  constructor(addr: string, options?: { cause?: unknown }) {
    super(`connect to ${addr} failed`, options);
  }
}

export class ConnectTimeoutError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_CONNECT_TIMEOUT;
  readonly side: ErrorSide = "upstream";
  override readonly retryable: Retryable = true;
  constructor(addr: string, timeoutMs: number) {
    super(`connect to ${addr} timed out after ${timeoutMs}ms`);
  }
}

/** The upstream connection failed with an I/O error (reset) while the exchange used it. */
export class UpstreamResetError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_UPSTREAM_RESET;
  readonly side: ErrorSide = "upstream";
  override readonly retryable: Retryable = "if-reused";
  constructor(addr: string, options?: { cause?: unknown }) {
    super(`connection to ${addr} reset`, options);
  }
}

/** The upstream closed the connection before the response was complete. */
export class UpstreamClosedError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_UPSTREAM_CLOSED;
  readonly side: ErrorSide = "upstream";
  override readonly retryable: Retryable = "if-reused";
  constructor(addr: string) {
    super(`connection to ${addr} closed before the response completed`);
  }
}

/** The upstream sent something that is not a valid HTTP/1.x response. */
export class UpstreamProtocolError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_UPSTREAM_PROTOCOL;
  readonly side: ErrorSide = "upstream";
}

/**
 * mTLS origination to a meshed endpoint failed before a byte of the request was sent: the server does
 * not carry the identity discovery named, its chain does not lead to the trust anchors, or the
 * handshake failed. The message starts with the refusal code (handshake-verdict.ts) for `l5d-proxy-error`.
 */
export class PeerIdentityError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_PEER_IDENTITY;
  readonly side: ErrorSide = "upstream";
  constructor(
    addr: string,
    readonly refusal: RefusalCode,
    readonly detail: string,
  ) {
    super(`${refusal}: mTLS to ${addr} refused: ${detail}`);
  }
}

/**
 * `l5d-require-id` named an identity the chosen endpoint is not mTLS'd with: discovery gave it another
 * identity, none (a plaintext endpoint), or this proxy has no identity (mTLS disabled). Linkerd's
 * IdentityRequired (linkerd/app/outbound/src/http/require_id_header.rs): 502, nothing sent upstream.
 */
export class IdentityRequiredError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_IDENTITY_REQUIRED;
  readonly side: ErrorSide = "upstream";
  constructor(
    readonly required: string,
    /** The endpoint's identity, or why it has none. */
    readonly found: string | { readonly none: string },
  ) {
    super(`required id ${required}; found ${typeof found === "string" ? found : `none (${found.none})`}`);
  }
}

/** A ServiceProfile route timeout expired before the response head (Linkerd closes the connection). */
export class RouteTimeoutError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_RESPONSE_TIMEOUT;
  readonly side: ErrorSide = "upstream";
  constructor(timeoutMs: number) {
    super(`response timed out after ${timeoutMs}ms`);
  }
}

/** A policy (HTTPRoute) response timeout expired before the response head: 504, connection kept. */
export class ResponseHeadersTimeoutError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_RESPONSE_TIMEOUT;
  readonly side: ErrorSide = "upstream";
  constructor(timeoutMs: number) {
    super(`response headers timed out after ${timeoutMs}ms`);
  }
}

/** A bug or an unexpected exception inside the proxy; answered by the table's default row (500). */
export class InternalError extends ProxyError {
  readonly code = codes.PXY_ERR_UNEXPECTED;
  readonly side: ErrorSide = "internal";
}

// === Availability ===

/** The destination could not be resolved to an endpoint; `reason` (e.g. from discovery) is told to the client too. */
export class NoEndpointError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_NO_ENDPOINT;
  readonly side: ErrorSide = "internal";
  constructor(authority: string, options?: { cause?: unknown; reason?: string }) {
    super(`no endpoint for ${authority}${options?.reason !== undefined ? `: ${options.reason}` : ""}`, options);
  }
}

/** The endpoint's pool is at its connection cap and its wait queue is full. */
export class LoadShedError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_LOAD_SHED;
  readonly side: ErrorSide = "internal";
  constructor(addr: string) {
    super(`service unavailable: ${addr} is overloaded`);
  }
}

/** A request waited in the pool queue longer than the failfast timeout. */
export class FailFastError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_FAIL_FAST;
  readonly side: ErrorSide = "internal";
  constructor(addr: string, timeoutMs: number) {
    super(`no connection to ${addr} became available within ${timeoutMs}ms`);
  }
}

/** The request would be sent back to the proxy's own listener (an authority naming the proxy). */
export class GatewayLoopError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_GATEWAY_LOOP;
  readonly side: ErrorSide = "internal";
  constructor(addr: string) {
    super(`gateway loop detected: ${addr} is this proxy`);
  }
}

// === Authorization policy (inbound; linkerd-behavior §7.3) ===

/** gRPC status codes the policy answers with (grpc/doc/statuscodes.md). */
export const GRPC_NOT_FOUND = 5;
export const GRPC_PERMISSION_DENIED = 7;

/** No route of the port's Server matches the request: 404 (gRPC: NOT_FOUND); the connection stays open. */
export class RouteNotFoundError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_ROUTE_NOT_FOUND;
  readonly side: ErrorSide = "downstream";
  /** Set for gRPC requests: answered as HTTP 200 with this grpc-status. */
  readonly grpcStatus: number | undefined;
  constructor(server: string, grpc: boolean) {
    super(`no route found for request (server ${server})`);
    this.grpcStatus = grpc ? GRPC_NOT_FOUND : undefined;
  }
}

/** The request's route authorizes no matching client: 403 (gRPC: PERMISSION_DENIED); the connection stays open. */
export class UnauthorizedRequestError extends ProxyError {
  readonly code = codes.PXY_ERR_HTTP_UNAUTHORIZED;
  readonly side: ErrorSide = "downstream";
  readonly grpcStatus: number | undefined;
  constructor(server: string, route: string, grpc: boolean) {
    super(`unauthorized request on route ${route} (server ${server})`);
    this.grpcStatus = grpc ? GRPC_PERMISSION_DENIED : undefined;
  }
}

// === The rescue table ===

/** What the client receives for a failure. */
export interface SyntheticResponse {
  readonly status: number;
  readonly reason: string;
  /** Close the client connection after this response (`connection: close`). */
  readonly closeConnection: boolean;
  /** Lowercase message for `l5d-proxy-error` and the body. */
  readonly message: string;
  /** The code for metrics (`error` label) and logs. */
  readonly code: string;
  /** A gRPC request's answer: HTTP 200 with this `grpc-status` (and the message as `grpc-message`). */
  readonly grpcStatus?: number | undefined;
}

type ErrorCtor = abstract new (...args: never[]) => ProxyError;

/** The one mapping from error class to status; the first matching row in the cause chain wins. */
const RESCUE_TABLE: ReadonlyArray<readonly [ErrorCtor, number, string, boolean]> = [
  // class                       status  reason                            close
  [MalformedRequestError,        400, "Bad Request",                     true],
  [RequestFramingError,          400, "Bad Request",                     true],
  [HttpVersionNotSupportedError, 505, "HTTP Version Not Supported",      true],
  [HeadTooLargeError,            431, "Request Header Fields Too Large", true],
  [TooManyHeadersError,          431, "Request Header Fields Too Large", true],
  [HeadReadTimeoutError,         408, "Request Timeout",                 true],
  [ConnectRefusedError,          502, "Bad Gateway",                     true],
  [UpstreamResetError,           502, "Bad Gateway",                     true],
  [UpstreamClosedError,          502, "Bad Gateway",                     true],
  [UpstreamProtocolError,        502, "Bad Gateway",                     true],
  [PeerIdentityError,            502, "Bad Gateway",                     true],
  [IdentityRequiredError,        502, "Bad Gateway",                     true],
  [ConnectTimeoutError,          504, "Gateway Timeout",                 true],
  [RouteTimeoutError,            504, "Gateway Timeout",                 true],
  [ResponseHeadersTimeoutError,  504, "Gateway Timeout",                 false],
  [FailFastError,                504, "Gateway Timeout",                 true],
  [NoEndpointError,              503, "Service Unavailable",             true],
  [LoadShedError,                503, "Service Unavailable",             true],
  [GatewayLoopError,             508, "Loop Detected",                   true],
  [RouteNotFoundError,           404, "Not Found",                       false],
  [UnauthorizedRequestError,     403, "Forbidden",                       false],
];

/** Decides the synthetic response for any failure; unknown errors become 500 "unexpected error". */
export function rescue(err: unknown): SyntheticResponse {
  for (const [ctor, status, reason, closeConnection] of RESCUE_TABLE) {
    const match = causeOf(err, ctor);
    if (match === undefined) continue;
    const grpcStatus = (match as { grpcStatus?: number | undefined }).grpcStatus;
    if (grpcStatus !== undefined) return { status: 200, reason: "OK", closeConnection, message: match.message, code: match.code, grpcStatus };
    return { status, reason, closeConnection, message: match.message, code: match.code };
  }
  return { status: 500, reason: "Internal Server Error", closeConnection: true, message: "unexpected error", code: codes.PXY_ERR_UNEXPECTED };
}

/**
 * The `error` label of a request that failed without a (complete) response, in Linkerd's vocabulary
 * (linkerd/app/core/src/classify.rs): "timeout" for a response timeout, "unclassified" for everything
 * else (HTTP/1 has no h2 reset reasons). Matched on the stable code, never on message text.
 */
export function metricErrorLabel(err: ProxyError): "timeout" | "unclassified" {
  return err.code === codes.PXY_ERR_HTTP_RESPONSE_TIMEOUT ? "timeout" : "unclassified";
}

/** Header values must not carry CR/LF/NUL (response splitting); anything odd becomes a space. */
function sanitizeHeaderValue(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, " ");
}

/**
 * Serializes a synthetic response. `keepAliveHeader` adds `connection: keep-alive` for HTTP/1.0
 * clients whose connection stays open. `informational` (Linkerd: outbound always, inbound only for
 * meshed clients) adds `l5d-proxy-error` / `l5d-proxy-connection` and the error text as the body;
 * without it the client learns the status and nothing about the proxy's internals (the log has them).
 */
export function renderSyntheticResponse(
  resp: SyntheticResponse,
  opts: { readonly closeConnection: boolean; readonly keepAliveHeader: boolean; readonly informational: boolean },
): Buffer {
  const grpc = resp.grpcStatus !== undefined;
  const body = opts.informational && !grpc ? `${resp.message}\n` : "";
  let head =
    `HTTP/1.1 ${resp.status} ${resp.reason}\r\n` +
    (body !== "" ? `content-type: text/plain; charset=utf-8\r\n` : "") +
    // gRPC "trailers-only" answer: the status travels in the head, no message body.
    (grpc ? `content-type: application/grpc\r\ngrpc-status: ${resp.grpcStatus}\r\ngrpc-message: ${sanitizeHeaderValue(resp.message)}\r\n` : "") +
    `content-length: ${Buffer.byteLength(body)}\r\n`;
  if (opts.informational) head += `l5d-proxy-error: ${sanitizeHeaderValue(resp.message)}\r\n`;
  if (opts.closeConnection) {
    head += "connection: close\r\n";
    if (opts.informational) head += "l5d-proxy-connection: close\r\n";
  } else if (opts.keepAliveHeader) {
    head += "connection: keep-alive\r\n";
  }
  return Buffer.from(`${head}\r\n${body}`, "utf8");
}
