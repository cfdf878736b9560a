// Loading a config directory: several documents per file, other Linkerd kinds kept aside, unknown
// kinds warned about, and every error of a broken directory reported at once with file, document,
// field path and line (fixtures under test/fixtures/profiles/).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { RECOGNISED_KINDS } from "../../../src/app/resource-kinds.ts";
import { type ProfileKindSettings, serviceProfileKind } from "../../../src/profiles/kind.ts";
import { checkConfigDir, loadConfigDir } from "../../../src/resources/config-dir.ts";
import type { KindRegistration, RecognisedKind } from "../../../src/resources/kind.ts";
import { decodeFiles, readConfigDir } from "../../../src/resources/load.ts";
import { formatProblem, type Problem } from "../../../src/resources/problem.ts";

/**
 * Stand-ins for kinds still to come, so these tests exercise the recognised-kind mechanism whatever
 * the registry implements by now (the policy kinds are implemented: src/policy/kinds.ts).
 */
const LATER_KINDS: readonly RecognisedKind[] = [
  { group: "policy.linkerd.io", kind: "Server", notEnforced: "authorization policy is not implemented yet" },
  { group: "policy.linkerd.io", kind: "AuthorizationPolicy", notEnforced: "authorization policy is not implemented yet" },
  { group: "policy.linkerd.io", kind: "MeshTLSAuthentication", notEnforced: "authorization policy is not implemented yet" },
  { group: "gateway.networking.k8s.io", kind: "HTTPRoute", notEnforced: "policy routes are not implemented yet (ServiceProfile routes are)" },
];
const FIXTURES = join(import.meta.dir, "../../fixtures/profiles");
const clock = { nowMs: () => 0 };
/** The real kind list, with profile settings under test (external profiles on unless a test says otherwise). */
const kindsWith = (settings: ProfileKindSettings = {}): KindRegistration[] => [
  serviceProfileKind({ clock, externalProfiles: true, ...settings }),
  ...RECOGNISED_KINDS,
  ...LATER_KINDS,
];
const kinds = kindsWith();
const tmp = mkdtempSync(join(tmpdir(), "meshlet-load-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("a valid directory", () => {
  const result = loadConfigDir(join(FIXTURES, "valid"), { kinds });

  test("loads every profile of every *.yaml / *.yml file, in name order", () => {
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.problems.map((p) => [p.severity, p.doc, p.path, p.message])).toEqual([
      ["warning", 2, "kind", "Server (policy.linkerd.io) is recognised but not enforced: authorization policy is not implemented yet; such documents have no effect"],
    ]);
    expect([...result.snapshot.profiles.byName.keys()]).toEqual([
      "books.default.svc.cluster.local",
      "localhost",
      "localhost:9090",
    ]);
    expect(result.snapshot.files.map((f) => f.replace(/.*\//, ""))).toEqual(["books.yaml", "local.yml"]);
    expect(result.snapshot.generation).toBe(1);
  });

  test("keeps other Linkerd kinds for later issues", () => {
    if (!result.ok) throw new Error("not ok");
    expect(result.snapshot.kept.map((r) => [r.kind, r.name, r.source.index])).toEqual([["Server", "books-http", 2]]);
    expect(result.snapshot.objects).toEqual({ ServiceProfile: 3, Server: 1 });
  });

  test("a route of the example", () => {
    if (!result.ok) throw new Error("not ok");
    const books = result.snapshot.profiles.byName.get("books.default.svc.cluster.local")!;
    expect(books.routes.map((r) => r.name)).toEqual(["GET /books/{id}", "POST /books", "not DELETE /admin", undefined]);
    expect(books.routes[0]!.timeoutMs).toBe(250);
    expect(books.routes[0]!.isRetryable).toBe(true);
  });
});

describe("a broken directory: all problems at once", () => {
  const problems = checkConfigDir(join(FIXTURES, "broken"), kinds);
  const rows = problems.map((p: Problem) => [p.file.replace(/.*\//, ""), p.severity as string, p.doc, p.path, p.line]);

  // file, severity, doc, field path, line, message fragment
  const expected: [string, string, number, string, number, string][] = [
    ["multi.yaml", "error", 2, "", 16, "invalid yaml"],
    ["multi.yaml", "error", 2, "", 16, "invalid yaml"],
    ["multi.yaml", "warning", 3, "kind", 19, "unknown kind Widget"],
    ["multi.yaml", "error", 4, "apiVersion", 24, "unsupported apiVersion linkerd.io/v1beta1"],
    ["multi.yaml", "error", 5, "metadata.name", 33, "already defined in"],
    ["regex.yaml", "error", 1, "spec.routes[0].condition.pathRegex", 9, 'route "lookahead": lookahead (?=…) is not supported'],
    ["regex.yaml", "error", 1, "spec.routes[1].condition.all[1].pathRegex", 14, 'route "backreference": backreference \\1'],
    ["regex.yaml", "error", 1, "spec.routes[2].condition.pathRegex", 17, 'route "unclosed": invalid regex'],
    ["schema.yaml", "error", 1, "spec.routes[0].condition.pathregex", 9, "unknown field pathregex (did you mean pathRegex?)"],
    ["schema.yaml", "error", 1, "spec.routes[1].condition", 10, "missing required field condition"],
    ["schema.yaml", "error", 1, "spec.routes[2].isRetryable", 15, 'must be a boolean, got string "yes"'],
    ["schema.yaml", "error", 1, "spec.routes[3].condition.not", 18, "not takes exactly one condition"],
    ["semantics.yaml", "error", 1, "metadata.name", 4, "invalid profile name"],
    ["semantics.yaml", "error", 1, "spec.routes[0].condition.method", 9, "not an HTTP token"],
    ["semantics.yaml", "error", 1, "spec.routes[0].responseClasses[0].condition.status.min", 13, "between 100 and 599"],
    ["semantics.yaml", "error", 1, "spec.routes[0].responseClasses[1].condition.status", 15, "cannot be smaller than min"],
    ["semantics.yaml", "error", 1, "spec.routes[0].responseClasses[2].condition.status", 19, "status needs min, max or both"],
    ["semantics.yaml", "error", 1, "spec.routes[1].condition", 22, "must have a field set"],
    ["semantics.yaml", "error", 1, "spec.routes[1].timeout", 23, 'missing unit in duration "10"'],
    ["semantics.yaml", "warning", 1, "spec.retryBudget.retryRatio", 25, "at most 1000"],
    ["semantics.yaml", "warning", 1, "spec.retryBudget.ttl", 27, "between 1s and 60s"],
    ["shape.yml", "error", 1, "", 1, "a resource must be a mapping"],
    ["shape.yml", "error", 2, "", 3, "missing apiVersion"],
  ];

  test("exactly these problems, in file / document / line order", () => {
    expect(rows).toEqual(expected.map(([f, s, d, p, l]) => [f, s, d, p, l]));
  });

  test.each(expected.map((e, i) => [i, ...e] as const))("#%d %s doc %d: %s", (i, _f, _s, _d, _p, _l, fragment) => {
    expect(problems[i]!.message).toContain(fragment);
  });

  test("a regex that merely looks dangerous is accepted (RE2 runs it in linear time)", () => {
    expect(problems.some((p) => p.path === "spec.routes[3].condition.pathRegex" && p.file.endsWith("regex.yaml"))).toBe(false);
  });

  test("loadConfigDir refuses the set", () => {
    const r = loadConfigDir(join(FIXTURES, "broken"), { kinds });
    expect(r.ok).toBe(false);
  });

  test("formatProblem reads like a compiler diagnostic", () => {
    const p = problems.find((x) => x.path === "spec.routes[0].condition.pathRegex")!;
    expect(formatProblem(p)).toMatch(
      /fixtures\/profiles\/broken\/regex\.yaml:9:7: error: doc 1: spec\.routes\[0\]\.condition\.pathRegex: route "lookahead": /,
    );
  });
});

describe("directory handling", () => {
  test("a missing directory is an empty, valid set", () => {
    const r = loadConfigDir(join(tmp, "does-not-exist"), { kinds });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.snapshot.profiles.byName.size).toBe(0);
      expect(r.snapshot.files).toEqual([]);
    }
    expect(checkConfigDir(join(tmp, "does-not-exist"), kinds)).toEqual([]);
  });

  test("a file where the directory should be is an error", () => {
    const f = join(tmp, "plain-file");
    writeFileSync(f, "x");
    const problems = checkConfigDir(f, kinds);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain("cannot read config directory");
  });

  test("reads *.yaml and *.yml at the top level only, skipping hidden files (ConfigMap ..data)", () => {
    const dir = join(tmp, "configmap");
    mkdirSync(join(dir, "..2024_01_01"), { recursive: true });
    mkdirSync(join(dir, "nested.yaml"));
    writeFileSync(join(dir, "..2024_01_01", "sp.yaml"), "kind: x\n");
    symlinkSync("..2024_01_01", join(dir, "..data"));
    symlinkSync(join("..data", "sp.yaml"), join(dir, "sp.yaml"));
    writeFileSync(join(dir, "b.YML"), "");
    writeFileSync(join(dir, ".hidden.yaml"), "");
    writeFileSync(join(dir, "notes.txt"), "");
    const read = readConfigDir(dir);
    expect(read.files.map((f) => f.name)).toEqual(["b.YML", "sp.yaml"]);
  });

  test("empty documents and comment-only files are fine", () => {
    const dir = join(tmp, "empty-docs");
    mkdirSync(dir);
    writeFileSync(join(dir, "a.yaml"), "# nothing yet\n---\n---\n");
    writeFileSync(join(dir, "b.yaml"), "");
    expect(checkConfigDir(dir, kinds)).toEqual([]);
  });
});

describe("kind: List (kubectl get -o yaml)", () => {
  test("items are loaded, with paths and lines inside the list", () => {
    const text = `apiVersion: v1
kind: List
items:
- apiVersion: linkerd.io/v1alpha2
  kind: ServiceProfile
  metadata: {name: a.ns.svc.cluster.local}
  spec: {routes: [{name: r, condition: {method: GET}}]}
- apiVersion: linkerd.io/v1alpha2
  kind: ServiceProfile
  metadata: {name: b.ns.svc.cluster.local}
  spec:
    routes:
    - name: bad
      condition: {pathRegex: "(?!x)"}
- apiVersion: policy.linkerd.io/v1beta3
  kind: Server
  metadata: {name: s}
`;
    const loaded = decodeFiles([{ name: "l.yaml", path: "l.yaml", text }], kinds);
    expect(loaded.decoded.get("linkerd.io/ServiceProfile")?.map((d) => d.resource.name)).toEqual(["a.ns.svc.cluster.local"]);
    expect([...loaded.recognised.values()].flat().map((r) => r.kind)).toEqual(["Server"]);
    expect(loaded.problems.map((p) => [p.severity, p.path, p.line])).toEqual([
      ["error", "items[1].spec.routes[0].condition.pathRegex", 14],
      ["warning", "items[2].kind", 16],
    ]);
  });
});

describe("kinds", () => {
  const decode = (text: string) => decodeFiles([{ name: "k.yaml", path: "k.yaml", text }], kinds);

  test.each([
    ["apiVersion: linkerd.io/v1alpha2\nkind: serviceprofile\n", "(did you mean apiVersion linkerd.io/v1alpha2, kind ServiceProfile?)"],
    ["apiVersion: linkerd.io/v1beta1\nkind: Server\n", "(known as policy.linkerd.io/Server)"],
    ["apiVersion: example.com/v1\nkind: Thing\n", "unknown kind Thing in example.com/v1; ignored"],
  ])("unknown kind warns with a hint: %p", (text, fragment) => {
    const loaded = decode(text);
    expect(loaded.problems.map((p) => p.severity)).toEqual(["warning"]);
    expect(loaded.problems[0]!.message).toContain(fragment);
  });

  test.each([
    "apiVersion: policy.linkerd.io/v1beta3\nkind: Server\nmetadata: {name: s}\n",
    "apiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: a}\n",
    "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n",
    "apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\nmetadata: {name: m}\n",
    "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: g}\n",
  ])("known Linkerd kinds are kept, not rejected, with one warning saying they are not enforced: %p", (text) => {
    const loaded = decode(`${text}---\n${text}`);
    expect(loaded.problems.map((p) => [p.severity, p.doc])).toEqual([["warning", 1]]);
    expect(loaded.problems[0]!.message).toContain("is recognised but not enforced");
    expect([...loaded.recognised.values()].flat()).toHaveLength(2);
  });

  test.each([
    ["42\n", "a resource must be a mapping"],
    ["kind: ServiceProfile\n", "missing apiVersion"],
    ["apiVersion: linkerd.io/v1alpha2\n", "missing kind"],
    ["apiVersion: v1\nkind: List\nitems: 3\n", "a List needs an items array"],
  ])("malformed document %p", (text, fragment) => {
    const loaded = decode(text);
    expect(loaded.problems.map((p) => p.severity)).toEqual(["error"]);
    expect(loaded.problems[0]!.message).toContain(fragment);
  });
});

describe("checks against the environment", () => {
  const valid = join(FIXTURES, "valid");
  /** The problems of the valid fixture other than its Server's "not enforced" warning. */
  const check = (settings: ProfileKindSettings) =>
    checkConfigDir(valid, kindsWith(settings)).filter((p) => !p.message.includes("not enforced"));

  test("external profiles off: profiles outside svc.<domain> are flagged as unreachable", () => {
    const problems = check({ externalProfiles: false, clusterDomain: "cluster.local" });
    expect(problems.map((p) => [p.severity, p.file.replace(/.*\//, ""), p.doc, p.path, p.line])).toEqual([
      ["warning", "local.yml", 1, "metadata.name", 5],
      ["warning", "local.yml", 2, "metadata.name", 15],
    ]);
    expect(problems[0]!.message).toContain("MESHLET_EXTERNAL_PROFILES=true");
  });

  test("external profiles on: nothing to flag", () => {
    expect(check({ externalProfiles: true })).toEqual([]);
  });

  test("a pinned inbound profile is reachable; a missing one is flagged", () => {
    const ok = check({ externalProfiles: true, inboundProfileName: "localhost" });
    expect(ok).toEqual([]);
    const pinnedOutside = check({ externalProfiles: false, inboundProfileName: "localhost" });
    expect(pinnedOutside.map((p) => p.doc)).toEqual([2]); // localhost:9090 only: the pinned one is fine
    const missing = check({ externalProfiles: true, inboundProfileName: "nope" });
    expect(missing.map((p) => [p.severity, p.doc, p.message.includes("MESHLET_INBOUND_PROFILE")])).toEqual([["warning", 0, true]]);
  });

  test("warnings do not fail a load", () => {
    const r = loadConfigDir(valid, { kinds: kindsWith({ externalProfiles: false }) });
    expect(r.ok).toBe(true);
    expect(r.ok && r.snapshot.warnings.length).toBe(3);
  });
});
