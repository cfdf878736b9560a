// The request rules of the admin endpoints, decided by pure functions: who is a loopback peer
// (/proxy-log-level, /shutdown), which Accept admits JSON (/env.json), how /env.json's query names
// settings, and which Accept-Encoding gets a gzipped /metrics.
import { describe, expect, test } from "bun:test";

import { acceptsJson, queryNames } from "../../../src/admin/env-endpoint.ts";
import { isLoopbackPeer } from "../../../src/admin/loopback-peer.ts";
import { acceptsGzip } from "../../../src/admin/metrics-endpoint.ts";

describe("isLoopbackPeer", () => {
  test.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["::1", true],
    ["::ffff:127.0.0.1", true],
    ["10.0.0.1", false],
    ["192.0.2.2", false],
    ["::ffff:10.0.0.1", false],
    ["fe80::1", false],
    ["1270::1", false],
    ["", false],
  ])("%p → %p", (address, loopback) => {
    expect(isLoopbackPeer(address)).toBe(loopback);
  });
});

describe("acceptsJson", () => {
  test.each([
    [null, true],
    ["", true],
    ["application/json", true],
    ["text/html, application/*;q=0.5", true],
    ["*/*", true],
    ["Application/JSON; charset=utf-8", true],
    ["text/html", false],
    ["text/*", false],
    ["application/json;q=0", false],
    ["application/xml, text/plain", false],
  ])("%p → %p", (accept, ok) => {
    expect(acceptsJson(accept)).toBe(ok);
  });
});

describe("queryNames", () => {
  test("no query is every setting; ?A&B names them; percent-decoding applies", () => {
    expect(queryNames("")).toBeUndefined();
    expect(queryNames("?")).toBeUndefined();
    expect(queryNames("?MESHLET_LOG_LEVEL&NOPE")).toEqual(["MESHLET_LOG_LEVEL", "NOPE"]);
    expect(queryNames("?A&&B%5F")).toEqual(["A", "B_"]);
  });
  test("a k=v item is refused with the item", () => {
    expect(queryNames("?A&k=v")).toBe('env.json takes setting names only (?NAME&NAME), not "k=v"');
    expect(queryNames("?A=")).toContain('not "A="');
    expect(queryNames("?%ZZ")).toBe('invalid percent-encoding in "%ZZ"');
  });
});

describe("acceptsGzip", () => {
  test.each([
    [null, false],
    ["identity", false],
    ["gzip", true],
    ["deflate, gzip;q=0.8, br", true],
    ["GZIP", true],
    ["x-gzip", true],
    ["gzip;q=0", false],
    ["gzipped", false],
  ])("%p → %p", (header, gzip) => {
    expect(acceptsGzip(header)).toBe(gzip);
  });
});
