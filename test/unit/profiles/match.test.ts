// Route matching as tables: method, pathRegex (anchored to the whole path, query excluded),
// all/any/not, several fields ANDed, first match wins, default route last; response classes.
import { describe, expect, test } from "bun:test";

import {
  classifyResponse,
  compileRequestMatch,
  compileResponseMatch,
  DEFAULT_ROUTE,
  requestPath,
  routeFor,
} from "../../../src/profiles/match.ts";
import type { RequestMatchSpec, ResponseMatchSpec } from "../../../src/profiles/model.ts";
import { profileFromYaml, withRoutes } from "./yaml-profile.ts";

const path = (regex: string): RequestMatchSpec => ({ kind: "path", regex });
const method = (m: string): RequestMatchSpec => ({ kind: "method", method: m });
const all = (...matches: RequestMatchSpec[]): RequestMatchSpec => ({ kind: "all", matches });
const any = (...matches: RequestMatchSpec[]): RequestMatchSpec => ({ kind: "any", matches });
const not = (match: RequestMatchSpec): RequestMatchSpec => ({ kind: "not", match });

describe("compileRequestMatch", () => {
  const cases: [string, RequestMatchSpec, string, string, boolean][] = [
    // name, condition, method, path, matches
    ["method exact", method("GET"), "GET", "/x", true],
    ["method differs", method("GET"), "POST", "/x", false],
    ["method is case-sensitive", method("GET"), "get", "/x", false],
    ["extension method", method("PURGE"), "PURGE", "/x", true],
    ["path whole match", path("/books"), "GET", "/books", true],
    ["path is anchored at the end", path("/books"), "GET", "/books/1", false],
    ["path is anchored at the start", path("/books"), "GET", "/v1/books", false],
    ["explicit anchors are fine", path("^/books/[0-9]+$"), "GET", "/books/12", true],
    ["only a leading anchor", path("^/books"), "GET", "/books/1", false],
    ["only a trailing anchor", path("/books$"), "GET", "/x/books", false],
    ["wildcard", path("/books/.*"), "GET", "/books/1/reviews", true],
    ["top-level alternation is anchored as a whole", path("/a|/b"), "GET", "/a/x", false],
    ["top-level alternation, second branch", path("/a|/b"), "GET", "/b", true],
    ["RE2 classes", path("/users/\\d+"), "GET", "/users/42", true],
    ["RE2 classes mismatch", path("/users/\\d+"), "GET", "/users/4a", false],
    ["case-sensitive path", path("/Books"), "GET", "/books", false],
    ["inline flag for case-insensitivity", path("(?i)/books"), "GET", "/BOOKS", true],
    ["empty all matches everything", all(), "DELETE", "/anything", true],
    ["empty any matches nothing", any(), "GET", "/", false],
    ["all: method and path", all(method("POST"), path("/books")), "POST", "/books", true],
    ["all: method fails", all(method("POST"), path("/books")), "GET", "/books", false],
    ["all: path fails", all(method("POST"), path("/books")), "POST", "/authors", false],
    ["any: first", any(method("PUT"), path("/admin/.*")), "PUT", "/x", true],
    ["any: second", any(method("PUT"), path("/admin/.*")), "GET", "/admin/users", true],
    ["any: neither", any(method("PUT"), path("/admin/.*")), "GET", "/x", false],
    ["not: method", not(method("DELETE")), "GET", "/x", true],
    ["not: method (negated)", not(method("DELETE")), "DELETE", "/x", false],
    ["not of empty any matches everything", not(any()), "GET", "/", true],
    ["not of empty all matches nothing", not(all()), "GET", "/", false],
    [
      "nested: (GET or HEAD) and /books/* but not /books/secret",
      all(any(method("GET"), method("HEAD")), path("/books/.*"), not(path("/books/secret"))),
      "HEAD",
      "/books/1",
      true,
    ],
    [
      "nested: excluded path",
      all(any(method("GET"), method("HEAD")), path("/books/.*"), not(path("/books/secret"))),
      "GET",
      "/books/secret",
      false,
    ],
    [
      "nested: wrong method",
      all(any(method("GET"), method("HEAD")), path("/books/.*"), not(path("/books/secret"))),
      "POST",
      "/books/1",
      false,
    ],
  ];
  test.each(cases)("%s", (_name, spec, m, p, want) => {
    expect(compileRequestMatch(spec)(m, p)).toBe(want);
  });

  test("a pathological-for-backtracking regex runs on RE2 and answers correctly", () => {
    const m = compileRequestMatch(path("/(a+)+b"));
    expect(m("GET", `/${"a".repeat(50_000)}`)).toBe(false);
    expect(m("GET", `/${"a".repeat(50_000)}b`)).toBe(true);
  });
});

describe("requestPath: the query is never matched", () => {
  test.each([
    ["/books", "/books"],
    ["/books?id=1", "/books"],
    ["/books?", "/books"],
    ["/a/b?c=/d", "/a/b"],
    ["/frag#x", "/frag"],
    ["*", "*"],
    ["http://books.default:8080/books/1?x=y", "/books/1"],
    ["http://books.default:8080", "/"],
    ["http://books.default:8080?q=/x", "/"],
    ["/%2Fencoded", "/%2Fencoded"],
  ])("%s → %s", (target, want) => {
    expect(requestPath(target)).toBe(want);
  });

  test("origin-form without a query is returned as is", () => {
    const target = "/books/1";
    expect(requestPath(target)).toBe(target);
  });
});

describe("routeFor (from YAML)", () => {
  const profile = profileFromYaml(
    withRoutes(`  - name: GET /books/{id}
    condition:
      method: GET
      pathRegex: /books/[^/]+
  - name: books
    condition:
      pathRegex: /books(/.*)?
  - name: not-get
    condition:
      not:
        method: GET
  - name: list-not
    condition:
      not:
      - pathRegex: /never
`),
  );
  const route = (m: string, target: string) => routeFor(profile, m, requestPath(target))?.name;

  test.each<[string, string, string | undefined]>([
    ["GET", "/books/1", "GET /books/{id}"],
    ["GET", "/books/1?expand=true", "GET /books/{id}"], // query excluded
    ["GET", "/books/1/reviews", "books"], // first route does not match the whole path
    ["POST", "/books/1", "books"], // several fields are ANDed: method fails
    ["GET", "/books", "books"],
    ["POST", "/authors", "not-get"],
    ["GET", "/authors", "list-not"], // `not` written as a one-element list (the CRD's shape)
  ])("%s %s → %s", (m, target, want) => {
    expect(route(m, target)).toBe(want as string);
  });

  test("the default route comes last, has no name and matches the rest", () => {
    const p = profileFromYaml(withRoutes(`  - name: only\n    condition:\n      pathRegex: /only\n`));
    expect(p.routes.at(-1)).toBe(DEFAULT_ROUTE);
    const r = routeFor(p, "GET", "/other");
    expect(r).toBe(DEFAULT_ROUTE);
    expect(r.name).toBeUndefined();
    expect(r.isRetryable).toBe(false);
    expect(r.timeoutMs).toBeUndefined();
  });

  test("no profile → default route", () => {
    expect(routeFor(undefined, "GET", "/")).toBe(DEFAULT_ROUTE);
  });
});

describe("response classes", () => {
  const status = (min: number, max: number): ResponseMatchSpec => ({ kind: "status", min, max });

  test.each<[string, ResponseMatchSpec, number, boolean]>([
    ["range inside", status(500, 599), 503, true],
    ["range bounds are inclusive", status(500, 599), 599, true],
    ["range outside", status(500, 599), 499, false],
    ["all", { kind: "all", matches: [status(400, 599), { kind: "not", match: status(404, 404) }] }, 404, false],
    ["all (other)", { kind: "all", matches: [status(400, 599), { kind: "not", match: status(404, 404) }] }, 410, true],
    ["any", { kind: "any", matches: [status(404, 404), status(429, 429)] }, 429, true],
    ["any (none)", { kind: "any", matches: [status(404, 404), status(429, 429)] }, 500, false],
  ])("%s", (_name, spec, code, want) => {
    expect(compileResponseMatch(spec)(code)).toBe(want);
  });

  const profile = profileFromYaml(
    withRoutes(`  - name: classes
    condition:
      pathRegex: /.*
    responseClasses:
    - condition:
        status:
          min: 404
      isFailure: true
    - condition:
        status:
          max: 503
      isFailure: false
    - condition:
        status:
          min: 500
          max: 599
      isFailure: true
    - condition:
        status:
          min: 200
          max: 299
        not:
          status:
            min: 204
      isFailure: true
`),
  );
  const route = profile.routes[0]!;

  test.each<[number, string]>([
    [404, "failure"], // min-only = exactly 404 (the documented behaviour)
    [405, "success"], // not 404: falls through to the default rules
    [503, "success"], // max-only = exactly 503, and the first match decides
    [502, "failure"],
    [200, "failure"], // status and not in one match are ANDed
    [204, "success"],
    [302, "success"],
  ])("status %p → %s", (code, want) => {
    expect(classifyResponse(route, code)).toBe(want as "success" | "failure");
  });

  test("without classes: 5xx is a failure, everything else a success", () => {
    expect(classifyResponse(DEFAULT_ROUTE, 500)).toBe("failure");
    expect(classifyResponse(DEFAULT_ROUTE, 599)).toBe("failure");
    expect(classifyResponse(DEFAULT_ROUTE, 404)).toBe("success");
    expect(classifyResponse(DEFAULT_ROUTE, 200)).toBe("success");
  });

  test("gRPC status classifies when the caller passes one", () => {
    expect(classifyResponse(DEFAULT_ROUTE, 200, 0)).toBe("success");
    expect(classifyResponse(DEFAULT_ROUTE, 200, 14)).toBe("failure");
    expect(classifyResponse(DEFAULT_ROUTE, 200, 5)).toBe("success"); // NOT_FOUND is not a default failure
  });
});
