// gRPC over the HTTP/2 engine: which requests are gRPC, the `grpc-timeout` deadline, the grpc-status
// of a response (trailers-only head or trailers) and its classification, and the gRPC form of the
// proxy's own error answers (HTTP 200, trailers-only; linkerd-behavior §2.4, §4.2).
import { GRPC_NOT_FOUND, GRPC_PERMISSION_DENIED, type SyntheticResponse } from "../http/proxy-errors.ts";
import { GRPC_FAILURE_CODES } from "../profiles/match.ts";

export const GRPC_UNKNOWN = 2;
export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_ABORTED = 10;
export const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;

/** gRPC is any content-type application/grpc (with +proto, +json, ... suffixes). */
export function isGrpcContentType(value: string | undefined): boolean {
  return value !== undefined && value.toLowerCase().startsWith("application/grpc");
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * The deadline a `grpc-timeout` header asks for, in whole milliseconds (at least 1), or undefined when
 * absent or malformed (gRPC over HTTP/2: 1–8 ASCII digits and one unit of H, M, S, m, u, n).
 */
export function grpcTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value.trim());
  if (m === null) return undefined;
  return Math.max(1, Math.ceil(Number(m[1]) * TIMEOUT_UNIT_MS[m[2]!]!));
}

/** The grpc-status in a flat header list, or undefined when absent or not a number. */
export function grpcStatusOf(headers: readonly string[]): number | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === "grpc-status") {
      const v = headers[i + 1]!;
      return /^\d{1,3}$/.test(v) ? Number(v) : undefined;
    }
  }
  return undefined;
}

/** Linkerd's default gRPC classification: a missing grpc-status at end of stream is UNKNOWN (a failure). */
export function isGrpcFailure(grpcStatus: number | undefined): boolean {
  return GRPC_FAILURE_CODES.has(grpcStatus ?? GRPC_UNKNOWN);
}

/**
 * The grpc-status of a proxy error answer: the one an error carries (authorization), else the code
 * Linkerd pairs with the HTTP status of the rescue table's row (linkerd-behavior §4.2).
 */
export function grpcStatusForSynthetic(syn: SyntheticResponse): number {
  if (syn.grpcStatus !== undefined) return syn.grpcStatus;
  switch (syn.status) {
    case 502:
    case 503:
      return GRPC_UNAVAILABLE;
    case 504:
      return GRPC_DEADLINE_EXCEEDED;
    case 404:
      return GRPC_NOT_FOUND;
    case 403:
      return GRPC_PERMISSION_DENIED;
    case 508:
      return GRPC_ABORTED;
    default:
      return GRPC_INTERNAL;
  }
}

/** Header values must not carry control characters; anything odd becomes a space. */
function sanitize(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, " ");
}

/**
 * The proxy's answer to a failed stream as an HTTP/2 response head (flat list, ends the stream: no
 * body). gRPC requests get HTTP 200 trailers-only with grpc-status / grpc-message; others the rescue
 * table's status with content-length 0. `informational` adds `l5d-proxy-error` (Linkerd's rule).
 */
export function syntheticH2Head(syn: SyntheticResponse, grpc: boolean, informational: boolean): string[] {
  const head = grpc
    ? [":status", "200", "content-type", "application/grpc", "grpc-status", String(grpcStatusForSynthetic(syn))]
    : [":status", String(syn.status), "content-length", "0"];
  // The error text (grpc-message, l5d-proxy-error) only where Linkerd emits it.
  if (informational) {
    if (grpc) head.push("grpc-message", sanitize(syn.message));
    head.push("l5d-proxy-error", sanitize(syn.message));
  }
  return head;
}
