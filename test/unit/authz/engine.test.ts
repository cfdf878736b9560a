// The policy engine, table-driven: each default policy × client network (in/out of the cluster
// networks) × identity (none/some) × route, for HTTP requests and TCP connections; Servers, routes
// and precedence from real YAML through the loader; CIDR `except`; the L4 table of the contract.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { resourceKinds } from "../../../src/app/resource-kinds.ts";
import { compileInboundPolicy, type PolicyObjects, type PolicySettings } from "../../../src/authz/compile.ts";
import { decideHttp, decideTcp } from "../../../src/authz/decide.ts";
import { portPolicyOf } from "../../../src/authz/inbound-policy.ts";
import { compileL4Table } from "../../../src/authz/l4-table.ts";
import { NetworkMatcher } from "../../../src/authz/networks.ts";
import type { RouteRequest } from "../../../src/authz/route-match.ts";
import { parseConfig } from "../../../src/config/env.ts";
import { DEFAULT_POLICIES, type DefaultPolicyName } from "../../../src/policy/model.ts";
import { loadConfigDir } from "../../../src/resources/config-dir.ts";

const CLUSTER = ["10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"];
const NONE: PolicyObjects = {
  servers: [],
  serverAuthorizations: [],
  authorizationPolicies: [],
  meshTlsAuthentications: [],
  networkAuthentications: [],
  policyHttpRoutes: [],
  gatewayHttpRoutes: [],
};
const settings = (defaultPolicy: DefaultPolicyName): PolicySettings => ({ namespace: "default", podLabels: { app: "web" }, defaultPolicy, clusterNetworks: CLUSTER });

function request(method: string, target: string, headers: Record<string, string> = {}, host?: string): RouteRequest {
  const [path, query = ""] = target.split("?") as [string, string?];
  const params = new URLSearchParams(query);
  return { method, path, host, header: (n) => headers[n], query: (n) => params.get(n) ?? undefined };
}

const IN_CLUSTER = "10.1.2.3";
const OUTSIDE = "203.0.113.9";
const ID = "web.default.serviceaccount.identity.linkerd.cluster.local";

describe("default policies: every policy × network × identity, HTTP and TCP", () => {
  // expected: [in-cluster/no id, in-cluster/id, outside/no id, outside/id]
  const table: Record<DefaultPolicyName, readonly [boolean, boolean, boolean, boolean]> = {
    "all-unauthenticated": [true, true, true, true],
    "all-authenticated": [false, true, false, true],
    "cluster-unauthenticated": [true, true, false, false],
    "cluster-authenticated": [false, true, false, false],
    deny: [false, false, false, false],
    audit: [true, true, true, true],
  };
  const clients = [
    { ip: IN_CLUSTER, identity: undefined },
    { ip: IN_CLUSTER, identity: ID },
    { ip: OUTSIDE, identity: undefined },
    { ip: `::ffff:${OUTSIDE}`, identity: ID },
  ];
  for (const name of DEFAULT_POLICIES) {
    test.each(clients.map((c, i) => [name, c.ip, c.identity ?? "none", c, table[name][i]] as const))("%s, client %s, identity %s", (_n, _ip, _id, client, allowed) => {
      const policy = portPolicyOf(compileInboundPolicy(NONE, settings(name)), 8080);
      const http = decideHttp(policy, request("GET", "/any/route"), client);
      expect(http.kind).toBe(allowed ? "allow" : "deny");
      if (http.kind === "allow") {
        expect(http.route.meta).toEqual({ group: "", kind: "default", name: "default" });
        expect(http.authz).toEqual({ group: "", kind: "default", name: name });
      }
      expect(decideTcp(policy, client).kind).toBe(allowed ? "allow" : "deny");
      expect(policy.server).toEqual({ group: "", kind: "default", name });
    });
  }

  test("deny refuses at accept; the others check", () => {
    for (const name of DEFAULT_POLICIES) expect(compileInboundPolicy(NONE, settings(name)).fallback.denyAtAccept).toBe(name === "deny");
  });
});

describe("networks", () => {
  test("except carves holes; IPv4-mapped clients match IPv4 networks; IPv6 networks", () => {
    const m = new NetworkMatcher([{ cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "10.2.3.4"] }, { cidr: "fd00::/8", except: [] }]);
    expect([m.includes("10.9.9.9"), m.includes("10.1.2.3"), m.includes("10.2.3.4"), m.includes("10.2.3.5")]).toEqual([true, false, false, true]);
    expect([m.includes("::ffff:10.9.9.9"), m.includes("::ffff:10.1.0.1"), m.includes("fd12::1"), m.includes("fe80::1"), m.includes("11.0.0.1")]).toEqual([true, false, true, false, false]);
  });
});

const root = mkdtempSync(join(tmpdir(), "meshlet-engine-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function load(yaml: string, env: Record<string, string> = {}) {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(join(dir, "p.yaml"), yaml);
  const config = parseConfig({ MESHLET_POD_LABELS: "app=web", ...env });
  const result = loadConfigDir(dir, { kinds: resourceKinds(config, { nowMs: () => 0 }) });
  if (!result.ok) throw new Error(result.problems.map((p) => `${p.line}: ${p.message}`).join("\n"));
  return compileInboundPolicy(result.snapshot, {
    namespace: config.namespace,
    podLabels: config.podLabels,
    defaultPolicy: config.defaultInboundPolicy,
    clusterNetworks: config.clusterNetworks.map((c) => c.text),
  });
}

const SERVER = `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web, labels: {tier: front}}
spec:
  podSelector: {matchLabels: {app: web}}
  port: 8080
  proxyProtocol: HTTP/1
`;
const ROUTES = `---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: books}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /books}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: book-by-id}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules:
  - matches: [{path: {type: RegularExpression, value: "/books/[0-9]+"}, method: GET}]
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: admin-header}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /books}, headers: [{name: x-admin, value: "yes"}]}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: {name: office}
spec:
  networks: [{cidr: 10.0.0.0/8, except: [10.66.0.0/16]}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: books-from-office}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: books}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: NetworkAuthentication, name: office}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: {name: meshed}
spec:
  identities: ["*.default.serviceaccount.identity.linkerd.cluster.local"]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: by-id-meshed}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: book-by-id}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: meshed}]
`;

describe("a Server with routes", () => {
  const policy = load(SERVER + ROUTES);
  const port = portPolicyOf(policy, 8080);
  const plain = { ip: IN_CLUSTER, identity: undefined };

  test("the Server owns its port; other ports keep the default policy", () => {
    expect(port.server).toEqual({ group: "policy.linkerd.io", kind: "server", name: "web" });
    expect(portPolicyOf(policy, 9090).server).toEqual({ group: "", kind: "default", name: "all-unauthenticated" });
  });

  test.each([
    ["GET", "/books", {}, "books"],
    ["GET", "/books/", {}, "books"],
    ["GET", "/books/17", {}, "book-by-id"], // longer path match wins (regex compared by length)
    ["POST", "/books/17", {}, "books"], // the method does not match book-by-id
    ["GET", "/books", { "x-admin": "yes" }, "admin-header"], // equal path length, more header matches
    ["GET", "/booksx", {}, undefined], // PathPrefix is segment-aligned
    ["GET", "/", {}, undefined],
  ] as const)("%s %s %j → route %s", (method, path, headers, route) => {
    const d = decideHttp(port, request(method, path, headers), { ip: IN_CLUSTER, identity: ID });
    if (route === undefined) expect(d.kind).toBe("not-found");
    else expect(d.kind === "not-found" ? undefined : d.route.meta.name).toBe(route);
  });

  test.each([
    ["/books", IN_CLUSTER, undefined, "allow"],
    ["/books", "10.66.1.1", undefined, "deny"], // except
    ["/books", OUTSIDE, undefined, "deny"],
    ["/books/1", IN_CLUSTER, undefined, "deny"], // needs an identity
    ["/books/1", IN_CLUSTER, ID, "allow"],
    ["/books/1", IN_CLUSTER, "web.other.serviceaccount.identity.linkerd.cluster.local", "deny"],
  ] as const)("GET %s from %s identity %s: %s", (path, ip, identity, kind) => {
    expect(decideHttp(port, request("GET", path), { ip, identity }).kind).toBe(kind);
  });

  test("the allow names the AuthorizationPolicy; a route without authorization denies", () => {
    const d = decideHttp(port, request("GET", "/books"), plain);
    expect(d.kind === "allow" && d.authz).toEqual({ group: "policy.linkerd.io", kind: "authorizationpolicy", name: "books-from-office" });
    expect(decideHttp(port, request("GET", "/books", { "x-admin": "yes" }), plain).kind).toBe("deny");
  });

  test("TCP on a Server port uses the Server's authorizations only: none here, so denied", () => {
    expect(decideTcp(port, plain).kind).toBe("deny");
  });
});

describe("Server-level authorizations", () => {
  test("a Server without routes or authorization denies every request (403), and TCP", () => {
    const port = portPolicyOf(load(SERVER), 8080);
    expect(decideHttp(port, request("GET", "/"), { ip: IN_CLUSTER, identity: ID }).kind).toBe("deny");
    expect(decideTcp(port, { ip: IN_CLUSTER, identity: ID }).kind).toBe("deny");
  });

  test("accessPolicy audit allows, labelled audit", () => {
    const port = portPolicyOf(load(SERVER.replace("proxyProtocol: HTTP/1", "proxyProtocol: HTTP/1\n  accessPolicy: audit")), 8080);
    const d = decideHttp(port, request("GET", "/"), { ip: OUTSIDE, identity: undefined });
    expect(d.kind === "allow" && d.authz).toEqual({ group: "", kind: "default", name: "audit" });
  });

  test("ServerAuthorization by selector on the Server's labels, networks default to the cluster's", () => {
    const port = portPolicyOf(
      load(`${SERVER}---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: front-plain}
spec:
  server: {selector: {matchLabels: {tier: front}}}
  client: {unauthenticated: true}
`),
      8080,
    );
    const d = decideTcp(port, { ip: IN_CLUSTER, identity: undefined });
    expect(d.kind === "allow" && d.authz).toEqual({ group: "policy.linkerd.io", kind: "serverauthorization", name: "front-plain" });
    expect(decideTcp(port, { ip: OUTSIDE, identity: undefined }).kind).toBe("deny");
    expect(decideHttp(port, request("GET", "/x"), { ip: IN_CLUSTER, identity: undefined }).kind).toBe("allow");
  });

  test("a Server that does not select this pod leaves the port to the default policy", () => {
    const policy = load(SERVER.replace("app: web}", "app: api}"), { MESHLET_DEFAULT_INBOUND_POLICY: "deny" });
    expect(policy.byPort.size).toBe(0);
    expect(portPolicyOf(policy, 8080).denyAtAccept).toBe(true);
  });

  test("a namespace-wide AuthorizationPolicy applies to the Server", () => {
    const port = portPolicyOf(
      load(`${SERVER}---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: ns-all}
spec:
  targetRef: {kind: Namespace, name: default}
  requiredAuthenticationRefs: []
`),
      8080,
    );
    expect(decideTcp(port, { ip: OUTSIDE, identity: undefined }).kind).toBe("allow");
  });
});

describe("the L4 table (notes/authz-contract.md)", () => {
  test("default entry, Server entries by port, rules with networks and identity requirement", () => {
    const policy = load(`${SERVER}---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: meshed}
spec:
  server: {name: web}
  client:
    networks: [{cidr: 10.0.0.0/8, except: [10.9.0.0/16]}]
    meshTLS: {identities: ["*"]}
`, { MESHLET_DEFAULT_INBOUND_POLICY: "deny" });
    expect(compileL4Table(policy, 7)).toEqual({
      generation: 7,
      defaultEntry: { id: 0, mode: "deny", rules: [], audit: false },
      entries: [{ port: 8080, entry: { id: 1, mode: "check", rules: [{ networks: [{ cidr: "10.0.0.0/8", except: ["10.9.0.0/16"] }], requireIdentity: true }], audit: false } }],
    });
  });
});

describe("route precedence: hosts, query parameters, ties", () => {
  const route = (name: string, spec: string) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
${spec}`;
  const port = portPolicyOf(
    load(
      SERVER +
        route("any-host", "  rules: [{matches: [{path: {type: PathPrefix, value: /api/v1/long}}]}]\n") +
        route("wildcard", "  hostnames: ['*.example.com']\n  rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]\n") +
        route("exact-host", "  hostnames: [api.example.com]\n  rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]\n") +
        route("query", "  hostnames: [q.example.com]\n  rules: [{matches: [{path: {type: PathPrefix, value: /}, queryParams: [{name: v, value: '2'}]}]}]\n") +
        // listed second-tie first: the name decides, not the file order
        route("second-tie", "  hostnames: [q.example.com]\n  rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]\n") +
        route("first-tie", "  hostnames: [q.example.com]\n  rules: [{matches: [{path: {type: PathPrefix, value: /}}]}]\n"),
    ),
    8080,
  );
  const name = (target: string, host?: string) => {
    const d = decideHttp(port, request("GET", target, {}, host), { ip: IN_CLUSTER, identity: ID });
    return d.kind === "not-found" ? undefined : d.route.meta.name;
  };

  test.each([
    ["/api/v1/long/x", "api.example.com", "exact-host"], // a host match beats a longer path on a route without hostnames
    ["/x", "www.example.com", "wildcard"],
    ["/x", "example.com", undefined], // *.example.com needs a label before the suffix; any-host has no / prefix route
    ["/api/v1/long", "other.org", "any-host"],
    ["/x?v=2", "q.example.com", "query"], // one query match beats none
    ["/x?v=3", "q.example.com", "first-tie"], // equal scores: the older route, then the name, wins (no timestamps here)
  ] as const)("GET %s host %s → %s", (target, host, expected) => {
    expect(name(target, host)).toBe(expected);
  });
});
