// The policy kinds through the real loader: decoding faithful to Linkerd's CRDs, located errors for
// what Linkerd would refuse, and the set checks `meshlet check` reports (dangling refs, overlap, no port).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { resourceKinds } from "../../../src/app/resource-kinds.ts";
import { parseConfig } from "../../../src/config/env.ts";
import { checkConfigDir, loadConfigDir } from "../../../src/resources/config-dir.ts";

const root = mkdtempSync(join(tmpdir(), "meshlet-policy-kinds-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const kinds = resourceKinds(parseConfig({ MESHLET_POD_LABELS: "app=web", MESHLET_NAMESPACE: "default" }), { nowMs: () => 0 });
let n = 0;

function problemsOf(yaml: string) {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(join(dir, "policy.yaml"), yaml);
  return checkConfigDir(dir, kinds).map((p) => [p.severity, p.line, p.path, p.message] as const);
}

const SERVER = (name: string, port: number | string, selector = "app: web") => `---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: ${name}}
spec:
  podSelector:
    matchLabels: {${selector}}
  port: ${port}
  proxyProtocol: HTTP/1
`;

describe("decoding", () => {
  test("a complete policy set loads, with every object in its index", () => {
    const dir = join(root, "full");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "p.yaml"),
      `${SERVER("web", 8080)}---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: get-books}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /books}, method: GET}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: {name: office}
spec:
  networks: [{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}, {cidr: "fd00::/8"}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: books-from-office}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: get-books}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: NetworkAuthentication, name: office}]
`,
    );
    const result = loadConfigDir(dir, { kinds });
    expect(result.problems).toEqual([]);
    if (!result.ok) throw new Error("not ok");
    expect(result.snapshot.servers.map((s) => [s.name, s.port, s.proxyProtocol, s.accessPolicy])).toEqual([["web", 8080, "HTTP/1", "deny"]]);
    expect(result.snapshot.policyHttpRoutes[0]!.rules[0]!.matches[0]!.method).toBe("GET");
    expect(result.snapshot.networkAuthentications[0]!.networks).toEqual([
      { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] },
      { cidr: "fd00::/8", except: [] },
    ]);
    expect(result.snapshot.authorizationPolicies[0]!.targetRef).toEqual({ group: "policy.linkerd.io", kind: "HTTPRoute", name: "get-books", namespace: "default" });
  });

  test("a bad CIDR is one located error", () => {
    expect(problemsOf("apiVersion: policy.linkerd.io/v1alpha1\nkind: NetworkAuthentication\nmetadata: {name: n}\nspec:\n  networks:\n  - cidr: 10.0.0.0/33\n")).toEqual([
      ["error", 6, "spec.networks[0].cidr", '"10.0.0.0/33": prefix length must be 0-32'],
    ]);
  });

  test("an unknown proxyProtocol is refused as the CRD does", () => {
    const [p, ...rest] = problemsOf(SERVER("s", 80).replace("HTTP/1", "HTTP/3"));
    expect(rest).toEqual([]);
    expect(p![0]).toBe("error");
    expect(p![2]).toBe("spec.proxyProtocol");
  });

  test("ServerAuthorization must choose unauthenticated or meshTLS", () => {
    const doc = `${SERVER("web", 80)}---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: both}
spec:
  server: {name: web}
  client: {unauthenticated: true, meshTLS: {unauthenticatedTLS: true}}
`;
    expect(problemsOf(doc)).toEqual([["error", 16, "spec.client", "set exactly one of unauthenticated: true and meshTLS"]]);
  });

  test("an AuthorizationPolicy requiring two NetworkAuthentications is refused (Linkerd's admission rule)", () => {
    const doc = `apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: a}
spec:
  targetRef: {kind: Namespace, name: default}
  requiredAuthenticationRefs: [{kind: NetworkAuthentication, name: a}, {kind: NetworkAuthentication, name: b}]
`;
    const errors = problemsOf(doc).filter((p) => p[0] === "error");
    expect(errors.map((p) => p[3])).toEqual(["at most one NetworkAuthentication may be required"]);
  });
});

describe("checks across the set", () => {
  test("references to absent objects are warnings, located", () => {
    const doc = `apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: a}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: missing}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: nobody}]
`;
    const problems = problemsOf(doc);
    expect(problems.every((p) => p[0] === "warning")).toBe(true);
    expect(problems.map((p) => [p[1], p[2]])).toEqual([
      [5, "spec.targetRef"],
      [6, "spec.requiredAuthenticationRefs[0]"],
    ]);
    expect(problems[0]![3]).toContain('Server "missing"');
  });

  test("a Server that selects no port of this pod is a warning saying why", () => {
    const [p, ...rest] = problemsOf(SERVER("other", 80, "app: api"));
    expect(rest).toEqual([]);
    expect(p![0]).toBe("warning");
    expect(p![3]).toContain("Server other selects no port of this pod: its podSelector does not match");
  });

  test("two Servers on one port of this pod: an error on the second, with its line", () => {
    const problems = problemsOf(`${SERVER("a", 8080)}${SERVER("b", 8080)}`);
    expect(problems).toEqual([["error", 17, "spec.port", "Server b overlaps Server a on port 8080 of this pod (Linkerd's admission refuses overlapping Servers)"]]);
  });
});
