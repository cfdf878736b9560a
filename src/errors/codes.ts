// The catalogue of stable proxy error codes (PXY_ERR_*). Codes never change meaning once shipped:
// metrics, logs and tests match on them, never on message text.

export const PXY_ERR_UNEXPECTED = "PXY_ERR_UNEXPECTED";

// === HTTP: downstream (the client sent something we refuse) ===
export const PXY_ERR_HTTP_MALFORMED_REQUEST = "PXY_ERR_HTTP_MALFORMED_REQUEST";
export const PXY_ERR_HTTP_REQUEST_FRAMING = "PXY_ERR_HTTP_REQUEST_FRAMING";
export const PXY_ERR_HTTP_HEAD_TOO_LARGE = "PXY_ERR_HTTP_HEAD_TOO_LARGE";
export const PXY_ERR_HTTP_TOO_MANY_HEADERS = "PXY_ERR_HTTP_TOO_MANY_HEADERS";
export const PXY_ERR_HTTP_HEAD_READ_TIMEOUT = "PXY_ERR_HTTP_HEAD_READ_TIMEOUT";
export const PXY_ERR_HTTP_CLIENT_CLOSED = "PXY_ERR_HTTP_CLIENT_CLOSED";
export const PXY_ERR_HTTP_VERSION_NOT_SUPPORTED = "PXY_ERR_HTTP_VERSION_NOT_SUPPORTED";

// === HTTP: upstream (the endpoint failed or misbehaved) ===
export const PXY_ERR_HTTP_CONNECT_REFUSED = "PXY_ERR_HTTP_CONNECT_REFUSED";
export const PXY_ERR_HTTP_CONNECT_TIMEOUT = "PXY_ERR_HTTP_CONNECT_TIMEOUT";
export const PXY_ERR_HTTP_UPSTREAM_RESET = "PXY_ERR_HTTP_UPSTREAM_RESET";
export const PXY_ERR_HTTP_UPSTREAM_CLOSED = "PXY_ERR_HTTP_UPSTREAM_CLOSED";
export const PXY_ERR_HTTP_UPSTREAM_PROTOCOL = "PXY_ERR_HTTP_UPSTREAM_PROTOCOL";
/** A meshed endpoint failed mTLS origination: wrong identity, unverified chain, failed handshake. */
export const PXY_ERR_HTTP_PEER_IDENTITY = "PXY_ERR_HTTP_PEER_IDENTITY";
export const PXY_ERR_HTTP_RESPONSE_TIMEOUT = "PXY_ERR_HTTP_RESPONSE_TIMEOUT";
/** `l5d-require-id` named an identity the chosen endpoint is not mTLS'd with (Linkerd's IdentityRequired). */
export const PXY_ERR_HTTP_IDENTITY_REQUIRED = "PXY_ERR_HTTP_IDENTITY_REQUIRED";

// === HTTP: authorization policy (inbound) ===
export const PXY_ERR_HTTP_ROUTE_NOT_FOUND = "PXY_ERR_HTTP_ROUTE_NOT_FOUND";
export const PXY_ERR_HTTP_UNAUTHORIZED = "PXY_ERR_HTTP_UNAUTHORIZED";

// === HTTP: availability (no endpoint, overload) ===
export const PXY_ERR_HTTP_NO_ENDPOINT = "PXY_ERR_HTTP_NO_ENDPOINT";
export const PXY_ERR_HTTP_LOAD_SHED = "PXY_ERR_HTTP_LOAD_SHED";
export const PXY_ERR_HTTP_FAIL_FAST = "PXY_ERR_HTTP_FAIL_FAST";
export const PXY_ERR_HTTP_GATEWAY_LOOP = "PXY_ERR_HTTP_GATEWAY_LOOP";

export type ProxyErrorCode =
  | typeof PXY_ERR_UNEXPECTED
  | typeof PXY_ERR_HTTP_MALFORMED_REQUEST
  | typeof PXY_ERR_HTTP_REQUEST_FRAMING
  | typeof PXY_ERR_HTTP_HEAD_TOO_LARGE
  | typeof PXY_ERR_HTTP_TOO_MANY_HEADERS
  | typeof PXY_ERR_HTTP_HEAD_READ_TIMEOUT
  | typeof PXY_ERR_HTTP_CLIENT_CLOSED
  | typeof PXY_ERR_HTTP_CONNECT_REFUSED
  | typeof PXY_ERR_HTTP_CONNECT_TIMEOUT
  | typeof PXY_ERR_HTTP_UPSTREAM_RESET
  | typeof PXY_ERR_HTTP_UPSTREAM_CLOSED
  | typeof PXY_ERR_HTTP_UPSTREAM_PROTOCOL
  | typeof PXY_ERR_HTTP_PEER_IDENTITY
  | typeof PXY_ERR_HTTP_IDENTITY_REQUIRED
  | typeof PXY_ERR_HTTP_RESPONSE_TIMEOUT
  | typeof PXY_ERR_HTTP_NO_ENDPOINT
  | typeof PXY_ERR_HTTP_LOAD_SHED
  | typeof PXY_ERR_HTTP_FAIL_FAST
  | typeof PXY_ERR_HTTP_GATEWAY_LOOP
  | typeof PXY_ERR_HTTP_VERSION_NOT_SUPPORTED
  | typeof PXY_ERR_HTTP_ROUTE_NOT_FOUND
  | typeof PXY_ERR_HTTP_UNAUTHORIZED;
