// pathRegex safety: constructs that need backtracking are rejected by name; RE2 syntax errors are
// reported with the route name; everything RE2 accepts compiles and matches the whole path.
import { describe, expect, test } from "bun:test";

import { compilePathRegex, unsupportedConstruct } from "../../../src/profiles/path-regex.ts";
import { decodeYaml, withRoutes } from "./yaml-profile.ts";

describe("rejected constructs", () => {
  test.each([
    ["/(a)\\1", "backreference \\1"],
    ["/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10", "backreference \\10"],
    ["/\\12", "backreference \\12"], // RE2 would read an octal escape; Linkerd's Rust regex rejects it
    ["/(?<n>a)\\k<n>", "named backreference \\k<"],
    ["/(?P<n>a)(?P=n)", "named backreference (?P=…)"],
    ["/api/(?=v1)", "lookahead (?=…)"],
    ["/api/(?!internal)", "negative lookahead (?!…)"],
    ["/(?<=x)y", "lookbehind (?<=…)"],
    ["/(?<!x)y", "negative lookbehind (?<!…)"],
    ["/(?>a+)b", "atomic group (?>…)"],
  ])("%s → %s", (regex, construct) => {
    const r = compilePathRegex(regex);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toContain(construct);
      expect(r.error).toContain("linear time");
    }
  });

  test.each([
    ["escaped backslash then digit is a literal", "/a\\\\1"],
    ["digits inside a class", "/[\\d]+"],
    ["lookahead text inside a class is literal", "/[(?=]+"],
    ["\\Q...\\E quotes literally", "/\\Q(?=x)\\E"],
    ["named group (not a backreference)", "/(?P<id>[0-9]+)"],
    ["non-capturing group", "/(?:a|b)+"],
    ["POSIX class", "/[[:alpha:]]+"],
  ])("accepted: %s", (_name, regex) => {
    expect(unsupportedConstruct(regex)).toBeUndefined();
    expect(compilePathRegex(regex).ok).toBe(true);
  });
});

describe("RE2 syntax errors", () => {
  test.each([
    ["/books/[0-9+", "missing closing ]"],
    ["/books/(", "missing closing )"],
    ["/a**", "invalid nested repetition operator"],
    ["/a{2000}", "invalid repeat count"],
    ["/\\Z", "invalid escape sequence"],
  ])("%s → %s", (regex, msg) => {
    const r = compilePathRegex(regex);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(msg);
  });

  test("the load error names the route, the field path and the line", () => {
    const { problems } = decodeYaml(
      withRoutes(`  - name: fine
    condition:
      pathRegex: /ok
  - name: GET /books/{id}
    condition:
      method: GET
      pathRegex: /books/[0-9+
`),
    );
    expect(problems).toHaveLength(1);
    const p = problems[0]!;
    expect(p.severity).toBe("error");
    expect(p.path).toBe("spec.routes[1].condition.pathRegex");
    expect(p.line).toBe(13);
    expect(p.message).toContain('route "GET /books/{id}"');
    expect(p.message).toContain("missing closing ]");
  });
});

describe("normalisation", () => {
  test("surrounding whitespace is trimmed (like Linkerd)", () => {
    const r = compilePathRegex("  /books  ");
    expect(r.ok && r.source).toBe("/books");
    expect(r.ok && r.test("/books")).toBe(true);
  });
});
