// How a profiled request (or one attempt) ended, as route metrics (§5.1) and the retry policy (§3.2)
// see it: a response classified by its route, a stream error labelled "timeout" or "unclassified",
// or nothing when the client left before any response (Linkerd records nothing for a dropped future).
import { PXY_ERR_HTTP_CLIENT_CLOSED } from "../errors/codes.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import { metricErrorLabel } from "../http/proxy-errors.ts";
import type { ResponseOutcome } from "../metrics/route.ts";
import type { AttemptOutcome } from "../retry/policy.ts";
import { classifyResponse } from "./match.ts";
import type { Route } from "./model.ts";

/** An upstream response of `status`, classified by the route's response classes (§2.4). */
export function responseOutcome(route: Route, status: number, grpcStatus?: number): ResponseOutcome {
  return { statusCode: status, classification: classifyResponse(route, status, grpcStatus), grpcStatus };
}

/** How the exchange ended, as the engine reports it in onComplete. */
export interface RequestEnd {
  /** Status of the upstream response head the proxy kept (did not retry); undefined if none arrived. */
  readonly headStatus: number | undefined;
  /** Status sent to the client (a synthetic one after a proxy error); 0 if none. */
  readonly status: number;
  readonly error: ProxyError | undefined;
  /** The response's grpc-status for gRPC requests (HTTP/2), classified by the gRPC codes when no class matches. */
  readonly grpcStatus?: number | undefined;
}

/**
 * The outcome to count in route_response_total (and, for the last attempt, route_actual_response_total);
 * undefined means record nothing. Following linkerd2-proxy's metrics layer (requests/service.rs):
 * - a response that ended normally: its status, classified by the route;
 * - an error before any upstream response (connect failure, route timeout → the client got a
 *   synthetic 5xx): failure with `error`, and no status_code — the proxy's answer is not a response;
 * - an error after the upstream head was relayed (body cut): that status, failure, `error`;
 * - the client went away mid-body: the response body was dropped, which Linkerd classifies by status;
 * - the client went away before any response: nothing (the response future was dropped).
 */
export function finalOutcome(route: Route, end: RequestEnd): ResponseOutcome | undefined {
  const { headStatus, error } = end;
  // The upstream's head reached the client iff the client's status is still that head's status
  // (a proxy error before relaying it replaces the status with the synthetic one).
  const relayed = headStatus !== undefined && end.status === headStatus;
  if (error === undefined) return responseOutcome(route, headStatus ?? end.status, end.grpcStatus);
  if (error.code === PXY_ERR_HTTP_CLIENT_CLOSED) return relayed ? responseOutcome(route, headStatus, end.grpcStatus) : undefined;
  const label = metricErrorLabel(error);
  return relayed
    ? { statusCode: headStatus, classification: "failure", error: label }
    : { classification: "failure", error: label };
}

/** The retry policy's view of an outcome: any stream error is Linkerd's `Err` (never retryable). */
export function attemptOutcomeOf(outcome: ResponseOutcome): AttemptOutcome {
  return outcome.error !== undefined ? { kind: "error" } : { kind: "response", isFailure: outcome.classification === "failure" };
}
