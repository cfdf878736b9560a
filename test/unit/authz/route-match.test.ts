// Route selection reads the request's host only for routes that name hostnames (the host is parsed on
// demand: most inbound routes, the default ones included, match any host), and still ranks hosts.
import { expect, test } from "bun:test";

import { type MatchableRoute, type RouteRequest, selectRoute } from "../../../src/authz/route-match.ts";

function request(host: string | undefined): RouteRequest & { hostReads: number } {
  return {
    hostReads: 0,
    method: "GET",
    path: "/books",
    get host() {
      this.hostReads++;
      return host;
    },
    header: () => undefined,
    query: () => undefined,
  };
}

const anyHost: MatchableRoute = { hostnames: [], rules: [] };
const exact: MatchableRoute = { hostnames: ["books.example"], rules: [] };
const wildcard: MatchableRoute = { hostnames: ["*.example"], rules: [] };

test("routes without hostnames match without reading the host", () => {
  const req = request("books.example");
  expect(selectRoute([anyHost, anyHost], req)).toBe(0);
  expect(req.hostReads).toBe(0);
});

test("a route with hostnames reads the host and outranks one without; exact beats wildcard", () => {
  const req = request("books.example");
  expect(selectRoute([anyHost, wildcard, exact], req)).toBe(2);
  expect(req.hostReads).toBeGreaterThan(0);
  expect(selectRoute([anyHost, wildcard], request("other.example"))).toBe(1);
  expect(selectRoute([exact], request("other.example"))).toBe(-1);
  expect(selectRoute([exact, anyHost], request(undefined))).toBe(1);
});
