// gRPC helpers of the HTTP/2 engine: grpc-timeout parsing (every unit, malformed values ignored),
// grpc-status extraction and default classification, and the proxy's error answers (gRPC trailers-only
// or plain HTTP, the error text only where Linkerd emits it).
import { expect, test } from "bun:test";
import { grpcStatusForSynthetic, grpcStatusOf, grpcTimeoutMs, isGrpcContentType, isGrpcFailure, syntheticH2Head } from "../../../src/h2/grpc.ts";
import { ConnectRefusedError, ConnectTimeoutError, LoadShedError, RouteTimeoutError, UnauthorizedRequestError, rescue } from "../../../src/http/proxy-errors.ts";

test("grpc-timeout: each unit becomes whole milliseconds (at least 1)", () => {
  expect(grpcTimeoutMs("2H")).toBe(7_200_000);
  expect(grpcTimeoutMs("3M")).toBe(180_000);
  expect(grpcTimeoutMs("5S")).toBe(5000);
  expect(grpcTimeoutMs("250m")).toBe(250);
  expect(grpcTimeoutMs("1500u")).toBe(2);
  expect(grpcTimeoutMs("10n")).toBe(1);
  expect(grpcTimeoutMs("99999999m")).toBe(99_999_999);
});

test("grpc-timeout: absent or malformed values are no deadline", () => {
  for (const bad of [undefined, "", "10", "m", "10x", "-5S", "123456789S", "1.5S", "10 S"]) expect(grpcTimeoutMs(bad)).toBeUndefined();
});

test("content-type application/grpc with any suffix is gRPC", () => {
  expect(isGrpcContentType("application/grpc")).toBe(true);
  expect(isGrpcContentType("application/grpc+proto")).toBe(true);
  expect(isGrpcContentType("Application/GRPC+json")).toBe(true);
  expect(isGrpcContentType("application/json")).toBe(false);
  expect(isGrpcContentType(undefined)).toBe(false);
});

test("grpc-status from a header list; classification by Linkerd's default failure codes, missing = UNKNOWN", () => {
  expect(grpcStatusOf([":status", "200", "grpc-status", "13", "grpc-message", "x"])).toBe(13);
  expect(grpcStatusOf(["grpc-status", "abc"])).toBeUndefined();
  expect(grpcStatusOf([":status", "200"])).toBeUndefined();
  for (const code of [2, 4, 7, 13, 14, 15]) expect(isGrpcFailure(code)).toBe(true);
  for (const code of [0, 1, 3, 5, 6, 8, 9, 10, 11, 12, 16]) expect(isGrpcFailure(code)).toBe(false);
  expect(isGrpcFailure(undefined)).toBe(true);
});

test("proxy errors map to Linkerd's gRPC codes", () => {
  expect(grpcStatusForSynthetic(rescue(new ConnectRefusedError("a:1")))).toBe(14);
  expect(grpcStatusForSynthetic(rescue(new LoadShedError("a:1")))).toBe(14);
  expect(grpcStatusForSynthetic(rescue(new ConnectTimeoutError("a:1", 100)))).toBe(4);
  expect(grpcStatusForSynthetic(rescue(new RouteTimeoutError(100)))).toBe(4);
  expect(grpcStatusForSynthetic(rescue(new UnauthorizedRequestError("srv", "rt", true)))).toBe(7);
  expect(grpcStatusForSynthetic(rescue(new Error("boom")))).toBe(13);
});

test("synthetic answers: gRPC trailers-only (200) or the table's status, error text only when informational", () => {
  const syn = rescue(new ConnectRefusedError("10.0.0.1:80"));
  expect(syntheticH2Head(syn, true, true)).toEqual([
    ":status", "200", "content-type", "application/grpc", "grpc-status", "14",
    "grpc-message", "connect to 10.0.0.1:80 failed", "l5d-proxy-error", "connect to 10.0.0.1:80 failed",
  ]);
  expect(syntheticH2Head(syn, true, false)).toEqual([":status", "200", "content-type", "application/grpc", "grpc-status", "14"]);
  expect(syntheticH2Head(syn, false, true)).toEqual([":status", "502", "content-length", "0", "l5d-proxy-error", "connect to 10.0.0.1:80 failed"]);
  expect(syntheticH2Head(syn, false, false)).toEqual([":status", "502", "content-length", "0"]);
});
