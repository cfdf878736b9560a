// Outcomes as tables: what route_response_total records for each way an exchange ends (Linkerd's
// requests/service.rs), the error label, and what the retry policy sees.
import { describe, expect, test } from "bun:test";

import type { ProxyError } from "../../../src/errors/proxy-error.ts";
import {
  ClientClosedError,
  ConnectRefusedError,
  ResponseHeadersTimeoutError,
  RouteTimeoutError,
  UpstreamClosedError,
} from "../../../src/http/proxy-errors.ts";
import type { ResponseOutcome } from "../../../src/metrics/route.ts";
import type { AttemptOutcome } from "../../../src/retry/policy.ts";
import { compileResponseMatch, DEFAULT_ROUTE } from "../../../src/profiles/match.ts";
import type { Route } from "../../../src/profiles/model.ts";
import { metricErrorLabel as errorLabel } from "../../../src/http/proxy-errors.ts";
import { attemptOutcomeOf, finalOutcome, type RequestEnd } from "../../../src/profiles/route-outcome.ts";

/** 404 is a failure, 503 a success: the route's classes decide, not the 5xx default. */
const classified: Route = {
  ...DEFAULT_ROUTE,
  name: "classified",
  responseClasses: [
    { isFailure: true, matches: compileResponseMatch({ kind: "status", min: 404, max: 404 }) },
    { isFailure: false, matches: compileResponseMatch({ kind: "status", min: 503, max: 503 }) },
  ],
};

const timeout = new RouteTimeoutError(100);
const refused = new ConnectRefusedError("127.0.0.1:1");
const cut = new UpstreamClosedError("127.0.0.1:1");
const gone = new ClientClosedError("client closed the connection");

describe("metricErrorLabel", () => {
  test.each<[string, ProxyError, "timeout" | "unclassified"]>([
    ["route timeout", timeout, "timeout"],
    ["response-headers timeout", new ResponseHeadersTimeoutError(5), "timeout"],
    ["connect refused", refused, "unclassified"],
    ["upstream closed", cut, "unclassified"],
  ])("%s", (_name, err, want) => {
    expect(errorLabel(err)).toBe(want);
  });
});

describe("finalOutcome", () => {
  test.each<[string, Route, RequestEnd, ResponseOutcome | undefined]>([
    ["200 relayed", DEFAULT_ROUTE, { headStatus: 200, status: 200, error: undefined }, { statusCode: 200, classification: "success" }],
    ["500 relayed: 5xx is a failure by default", DEFAULT_ROUTE, { headStatus: 500, status: 500, error: undefined }, { statusCode: 500, classification: "failure" }],
    ["404 with a class marking it a failure", classified, { headStatus: 404, status: 404, error: undefined }, { statusCode: 404, classification: "failure" }],
    ["503 with a class marking it a success", classified, { headStatus: 503, status: 503, error: undefined }, { statusCode: 503, classification: "success" }],
    ["a tunnel the proxy answered itself (no upstream head)", DEFAULT_ROUTE, { headStatus: undefined, status: 200, error: undefined }, { statusCode: 200, classification: "success" }],
    ["route timeout → 504: failure, error=timeout, no status", DEFAULT_ROUTE, { headStatus: undefined, status: 504, error: timeout }, { classification: "failure", error: "timeout" }],
    ["connect refused → 502: failure, no status", DEFAULT_ROUTE, { headStatus: undefined, status: 502, error: refused }, { classification: "failure", error: "unclassified" }],
    ["body cut after the head: its status, failure", DEFAULT_ROUTE, { headStatus: 200, status: 200, error: cut }, { statusCode: 200, classification: "failure", error: "unclassified" }],
    ["invalid head turned into a synthetic 502: no status", DEFAULT_ROUTE, { headStatus: 101, status: 502, error: cut }, { classification: "failure", error: "unclassified" }],
    ["client left mid-body: classified by status", classified, { headStatus: 404, status: 404, error: gone }, { statusCode: 404, classification: "failure" }],
    ["client left before any response: nothing", DEFAULT_ROUTE, { headStatus: undefined, status: 0, error: gone }, undefined],
  ])("%s", (_name, route, end, want) => {
    expect(finalOutcome(route, end)).toEqual(want);
  });
});

describe("attemptOutcomeOf", () => {
  test.each<[string, ResponseOutcome, AttemptOutcome]>([
    ["success", { statusCode: 200, classification: "success" }, { kind: "response", isFailure: false }],
    ["failure response", { statusCode: 503, classification: "failure" }, { kind: "response", isFailure: true }],
    ["any stream error is Linkerd's Err", { statusCode: 200, classification: "failure", error: "unclassified" }, { kind: "error" }],
    ["timeout", { classification: "failure", error: "timeout" }, { kind: "error" }],
  ])("%s", (_name, outcome, want) => {
    expect(attemptOutcomeOf(outcome)).toEqual(want);
  });
});
