// ServiceProfile decoding: how YAML becomes routes, classes, timeouts and budgets, and which
// documents are rejected (Linkerd's pkg/profiles checks plus meshlet's stricter ones).
import { describe, expect, test } from "bun:test";

import { DEFAULT_RETRY_BUDGET } from "../../../src/retry/budget.ts";
import { quantityDecimillis } from "../../../src/profiles/decode.ts";
import { decodeYaml, profileFromYaml, withRoutes } from "./yaml-profile.ts";

const route = (yaml: string) => profileFromYaml(withRoutes(yaml)).routes[0]!;

describe("conditions", () => {
  test("several fields in one match are ANDed (as an all)", () => {
    const r = route(`  - name: r\n    condition:\n      method: GET\n      pathRegex: /x\n`);
    expect(r.condition).toEqual({
      kind: "all",
      matches: [
        { kind: "path", regex: "/x" },
        { kind: "method", method: "GET" },
      ],
    });
    expect(r.matches("GET", "/x")).toBe(true);
    expect(r.matches("POST", "/x")).toBe(false);
  });

  test("`not` as an object (Go types) and as a one-element list (CRD schema) mean the same", () => {
    const a = route(`  - name: r\n    condition:\n      not:\n        method: GET\n`);
    const b = route(`  - name: r\n    condition:\n      not:\n      - method: GET\n`);
    expect(a.condition).toEqual({ kind: "not", match: { kind: "method", method: "GET" } });
    expect(b.condition).toEqual(a.condition!);
  });

  test("an empty string counts as unset (Go's zero value)", () => {
    const r = route(`  - name: r\n    condition:\n      method: GET\n      pathRegex: ""\n`);
    expect(r.condition).toEqual({ kind: "method", method: "GET" });
  });

  test("a lowercase standard method is accepted with a warning (methods are case-sensitive)", () => {
    const { specs, problems } = decodeYaml(withRoutes(`  - name: r\n    condition:\n      method: get\n`));
    expect(specs).toHaveLength(1);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.severity).toBe("warning");
    expect(problems[0]!.message).toContain("case-sensitive");
  });
});

describe("route settings", () => {
  test.each([
    ["250ms", 250],
    ["1.5s", 1500],
    ["1m30s", 90_000],
    ["1500us", 1.5],
    ["2h", 7_200_000],
  ])("timeout %s → %p ms", (timeout, ms) => {
    expect(route(`  - name: r\n    condition:\n      method: GET\n    timeout: ${timeout}\n`).timeoutMs).toBe(ms);
  });

  test("no timeout, not retryable by default", () => {
    const r = route(`  - name: r\n    condition:\n      method: GET\n`);
    expect(r.timeoutMs).toBeUndefined();
    expect(r.isRetryable).toBe(false);
    expect(r.responseClasses).toEqual([]);
  });

  test("isRetryable and response classes", () => {
    const r = route(`  - name: r
    condition:
      method: GET
    isRetryable: true
    responseClasses:
    - condition:
        status:
          max: 429
      isFailure: true
    - condition:
        any:
        - status: {min: 500, max: 502}
        - status: {min: 504}
`);
    expect(r.isRetryable).toBe(true);
    expect(r.responseClasses.map((c) => c.isFailure)).toEqual([true, false]);
    expect(r.responseClasses[0]!.matches(429)).toBe(true);
    expect(r.responseClasses[0]!.matches(428)).toBe(false);
    expect([500, 502, 503, 504].map((s) => r.responseClasses[1]!.matches(s))).toEqual([true, true, false, true]);
  });
});

describe("profile-level settings", () => {
  test("Linkerd's default budget when none is set", () => {
    const p = profileFromYaml(withRoutes(`  - name: r\n    condition:\n      method: GET\n`));
    expect(p.retryBudget).toEqual(DEFAULT_RETRY_BUDGET);
    expect(p.budget.reserve).toBe(500);
  });

  test("a configured budget", () => {
    const p = profileFromYaml(`apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: b.ns.svc.cluster.local}
spec:
  retryBudget: {retryRatio: 0.3, minRetriesPerSecond: 2, ttl: 1m}
`);
    expect(p.retryBudget).toEqual({ ttlMs: 60_000, minRetriesPerSecond: 2, retryRatio: 0.3 });
    expect(p.budget.withdrawAmount).toBe(3);
    expect(p.budget.reserve).toBe(2 * 60 * 3);
    expect(p.routes).toHaveLength(1); // only the default route
  });

  test("dstOverrides in decimillis; weight 0 dropped", () => {
    const p = profileFromYaml(`apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: b.ns.svc.cluster.local}
spec:
  dstOverrides:
  - {authority: b-v1.ns.svc.cluster.local:8080, weight: 1}
  - {authority: b-v2.ns.svc.cluster.local, weight: 500m}
  - {authority: b-v3.ns.svc.cluster.local, weight: 0}
  opaquePorts: ["3306", 6379, "9000-9010"]
`);
    expect(p.dstOverrides).toEqual([
      { authority: "b-v1.ns.svc.cluster.local:8080", weight: 10_000 },
      { authority: "b-v2.ns.svc.cluster.local", weight: 5_000 },
    ]);
    expect(p.opaquePorts).toEqual([
      { from: 3306, to: 3306 },
      { from: 6379, to: 6379 },
      { from: 9000, to: 9010 },
    ]);
  });

  test.each([
    [1, 10_000],
    ["1", 10_000],
    ["500m", 5_000],
    ["0.1", 1_000],
    ["1k", 10_000_000],
    ["1Ki", 10_240_000],
    ["1e2", 1_000_000],
    ["1n", 10], // MilliValue rounds up
  ])("quantity %p → %p decimillis", (q, want) => {
    expect(quantityDecimillis(q)).toBe(want);
  });

  test("metadata may carry anything Kubernetes adds; status is ignored", () => {
    const { specs, problems } = decodeYaml(`apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: b.ns.svc.cluster.local
  namespace: ns
  labels: {app: b}
  annotations: {x: y}
  resourceVersion: "123"
spec:
  routes:
  - name: r
    condition: {method: GET}
status: {}
`);
    expect(problems).toEqual([]);
    expect(specs[0]!.namespace).toBe("ns");
  });

  test.each([
    ["books.default.svc.cluster.local", true],
    ["localhost", true],
    ["localhost:8080", true],
    ["127.0.0.1", true],
    ["Books.default", false],
    ["books_default", false],
    ["books:0", false],
    ["books:70000", false],
    ["-books", false],
  ])("profile name %s valid: %p", (name, ok) => {
    const { specs, problems } = decodeYaml(withRoutes(`  - name: r\n    condition: {method: GET}\n`, name));
    expect(specs.length === 1).toBe(ok);
    if (!ok) expect(problems[0]!.path).toBe("metadata.name");
  });
});

describe("versions", () => {
  test("v1alpha1 requires routes; v1alpha2 does not (but warns)", () => {
    const doc = (v: string) => `apiVersion: linkerd.io/${v}\nkind: ServiceProfile\nmetadata: {name: b.ns.svc.cluster.local}\nspec: {}\n`;
    const v1 = decodeYaml(doc("v1alpha1"));
    expect(v1.specs).toHaveLength(0);
    expect(v1.problems.map((p) => [p.path, p.message])).toEqual([["spec.routes", "missing required field routes"]]);
    const v2 = decodeYaml(doc("v1alpha2"));
    expect(v2.specs).toHaveLength(1);
    expect(v2.problems.map((p) => p.severity)).toEqual(["warning"]);
  });
});

describe("rejections (one document each; every problem located)", () => {
  const cases: [string, string, string, string][] = [
    // name, routes yaml, expected path, expected message fragment
    ["null child in all", `  - name: r\n    condition:\n      all:\n      -\n`, "spec.routes[0].condition.all[0]", "must be a mapping, got null"],
    ["empty condition", `  - name: r\n    condition: {}\n`, "spec.routes[0].condition", "must have a field set"],
    ["nested empty condition", `  - name: r\n    condition:\n      any:\n      - {}\n`, "spec.routes[0].condition.any[0]", "must have a field set"],
    ["empty route name", `  - name: ""\n    condition: {method: GET}\n`, "spec.routes[0].name", "non-empty name"],
    ["zero timeout", `  - name: r\n    condition: {method: GET}\n    timeout: 0s\n`, "spec.routes[0].timeout", "greater than zero"],
    ["negative timeout", `  - name: r\n    condition: {method: GET}\n    timeout: -1s\n`, "spec.routes[0].timeout", "greater than zero"],
    ["bad duration unit", `  - name: r\n    condition: {method: GET}\n    timeout: 10d\n`, "spec.routes[0].timeout", 'unknown unit "d"'],
    ["numeric timeout", `  - name: r\n    condition: {method: GET}\n    timeout: 10\n`, "spec.routes[0].timeout", "must be a string"],
    ["method with a space", `  - name: r\n    condition: {method: "GE T"}\n`, "spec.routes[0].condition.method", "not an HTTP token"],
    [
      "two-element not",
      `  - name: r\n    condition:\n      not: [{method: GET}, {method: PUT}]\n`,
      "spec.routes[0].condition.not",
      "exactly one condition",
    ],
    [
      "empty response any",
      `  - name: r\n    condition: {method: GET}\n    responseClasses:\n    - condition: {any: []}\n`,
      "spec.routes[0].responseClasses[0].condition.any",
      "at least one condition",
    ],
    [
      "class without condition",
      `  - name: r\n    condition: {method: GET}\n    responseClasses:\n    - isFailure: true\n`,
      "spec.routes[0].responseClasses[0].condition",
      "missing required field condition",
    ],
    [
      "status below 100",
      `  - name: r\n    condition: {method: GET}\n    responseClasses:\n    - condition: {status: {max: 99}}\n`,
      "spec.routes[0].responseClasses[0].condition.status.max",
      "between 100 and 599",
    ],
    [
      "unknown field in a route",
      `  - name: r\n    condition: {method: GET}\n    retries: 3\n`,
      "spec.routes[0].retries",
      "unknown field retries",
    ],
  ];
  test.each(cases)("%s", (_name, routes, path, fragment) => {
    const { specs, problems } = decodeYaml(withRoutes(routes));
    expect(specs).toHaveLength(0);
    const errors = problems.filter((p) => p.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe(path);
    expect(errors[0]!.message).toContain(fragment);
    expect(errors[0]!.line).toBeGreaterThanOrEqual(7);
  });

  test.each([
    ["negative ratio", "{retryRatio: -1, minRetriesPerSecond: 10, ttl: 10s}", "spec.retryBudget.retryRatio"],
    ["negative min", "{retryRatio: 0.2, minRetriesPerSecond: -1, ttl: 10s}", "spec.retryBudget.minRetriesPerSecond"],
    ["ttl not a duration", "{retryRatio: 0.2, minRetriesPerSecond: 10, ttl: ten}", "spec.retryBudget.ttl"],
    ["missing ttl", "{retryRatio: 0.2, minRetriesPerSecond: 10}", "spec.retryBudget.ttl"],
  ])("budget Linkerd's validation rejects: %s", (_name, budget, path) => {
    const { specs, problems } = decodeYaml(
      `apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {name: b.ns.svc.cluster.local}\nspec:\n  retryBudget: ${budget}\n`,
    );
    expect(specs).toHaveLength(0);
    expect(problems.map((p) => [p.severity, p.path])).toEqual([["error", path]]);
  });

  // Linkerd accepts these documents; its proxy drops the budget (with a warning) and keeps the routes
  // without retries. meshlet does the same, and the warning names the field.
  test.each([
    ["ratio above 1000", "{retryRatio: 1001, minRetriesPerSecond: 10, ttl: 10s}", "spec.retryBudget.retryRatio", "at most 1000"],
    ["ttl below 1s", "{retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 999ms}", "spec.retryBudget.ttl", "between 1s and 60s, got 999ms"],
    ["ttl above 60s", "{retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 61s}", "spec.retryBudget.ttl", "between 1s and 60s, got 61s"],
    ["negative ttl", "{retryRatio: 0.2, minRetriesPerSecond: 10, ttl: -1s}", "spec.retryBudget.ttl", "between 1s and 60s"],
    ["min too large", "{retryRatio: 0.2, minRetriesPerSecond: 2147483647, ttl: 10s}", "spec.retryBudget.minRetriesPerSecond", "at most 2147483646"],
  ])("budget Linkerd's proxy drops: %s (a warning; the routes stay, not retried)", (_name, budget, path, fragment) => {
    const { specs, problems } = decodeYaml(
      withRoutes(`  - name: r\n    condition: {method: GET}\n    isRetryable: true\n`).replace("spec:\n", `spec:\n  retryBudget: ${budget}\n`),
    );
    expect(problems.map((p) => [p.severity, p.path])).toEqual([["warning", path]]);
    expect(problems[0]!.message).toContain(fragment);
    expect(problems[0]!.message).toContain("routes are not retried");
    expect(specs[0]!.routes.map((r) => [r.name, r.isRetryable])).toEqual([["r", false], [undefined, false]]);
    expect(specs[0]!.retryBudget).toEqual(DEFAULT_RETRY_BUDGET);
  });

  test("one defect, one error: an ill-typed status bound is not also 'status needs min, max or both'", () => {
    const { problems } = decodeYaml(
      withRoutes(`  - name: r\n    condition: {method: GET}\n    responseClasses:\n    - condition: {not: {status: {min: false}}}\n`),
    );
    expect(problems.map((p) => [p.path, p.message])).toEqual([
      ["spec.routes[0].responseClasses[0].condition.not.status.min", "must be an integer, got boolean false"],
    ]);
  });

  test("one defect, one error: a null method is not also 'must have a field set'", () => {
    const { problems } = decodeYaml(withRoutes(`  - name: r\n    condition: {method: null}\n`));
    expect(problems.map((p) => [p.path, p.message])).toEqual([["spec.routes[0].condition.method", "must be a string, got null"]]);
  });

  test("duplicate route names only warn (their metrics share a label)", () => {
    const { specs, problems } = decodeYaml(
      withRoutes(`  - name: r\n    condition: {method: GET}\n  - name: r\n    condition: {method: PUT}\n`),
    );
    expect(specs).toHaveLength(1);
    expect(problems.map((p) => [p.severity, p.path])).toEqual([["warning", "spec.routes[1].name"]]);
  });
});
