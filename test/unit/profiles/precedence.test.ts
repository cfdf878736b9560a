// Profiles keyed by namespace and name (Linkerd's destination controller): the client's namespace
// (MESHLET_NAMESPACE) overrides the service's own namespace; profiles elsewhere are ignored.
import { describe, expect, test } from "bun:test";

import { buildProfileSet } from "../../../src/profiles/set.ts";
import { profileScope, selectProfiles, serviceNamespaceOf } from "../../../src/profiles/precedence.ts";
import { decodeYaml } from "./yaml-profile.ts";

const ctx = (namespace: string) => ({ namespace, clusterDomain: "cluster.local" });

describe("serviceNamespaceOf", () => {
  test.each<[string, string | undefined]>([
    ["books.server.svc.cluster.local", "server"],
    ["books.server.svc.cluster.local:8080", "server"],
    ["pod-0.books.server.svc.cluster.local", "server"],
    ["server.svc.cluster.local", undefined], // no service label
    ["books.server.svc.example.org", undefined], // another cluster domain
    ["localhost", undefined],
    ["localhost:8080", undefined],
  ])("%s -> %p", (name, ns) => {
    expect(serviceNamespaceOf(name, "cluster.local")).toBe(ns);
  });
});

describe("profileScope", () => {
  test("client namespace first, then the service's, else none", () => {
    expect(profileScope("books.server.svc.cluster.local", "client", ctx("client"))).toBe("client");
    expect(profileScope("books.server.svc.cluster.local", "server", ctx("client"))).toBe("service");
    expect(profileScope("books.server.svc.cluster.local", "linkerd", ctx("client"))).toBeUndefined();
    // A name outside the cluster has no service namespace: only the client's applies.
    expect(profileScope("localhost", "default", ctx("default"))).toBe("client");
    expect(profileScope("localhost", "other", ctx("default"))).toBeUndefined();
  });
});

// Linkerd's own fixture (controller/k8s/api_test.go): one name in three namespaces.
const THREE = ["linkerd", "server", "client"]
  .map(
    (ns) => `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: books.server.svc.cluster.local, namespace: ${ns}}
spec:
  routes: [{name: from-${ns}, condition: {method: GET}}]
`,
  )
  .join("---\n");

describe("selectProfiles / buildProfileSet", () => {
  const { specs, problems } = decodeYaml(THREE);

  test("one name in three namespaces decodes without a duplicate error", () => {
    expect(problems).toEqual([]);
    expect(specs.map((s) => s.namespace)).toEqual(["linkerd", "server", "client"]);
  });

  test.each<[string, string | undefined]>([
    ["client", "from-client"], // the client's own namespace wins over the service's
    ["server", "from-server"],
    ["linkerd", "from-linkerd"],
    ["default", "from-server"], // an unrelated client: the service's namespace
  ])("MESHLET_NAMESPACE=%s -> route %p", (namespace, route) => {
    const set = buildProfileSet(specs, { clock: { nowMs: () => 0 }, namespaces: ctx(namespace) });
    expect(set.byName.get("books.server.svc.cluster.local")?.routes[0]?.name).toBe(route);
    expect(set.byName.size).toBe(1);
  });

  test("the ignored profiles say why", () => {
    const sel = selectProfiles(specs, ctx("client"));
    expect(sel.ignored.map((i) => [i.profile.namespace, i.reason])).toEqual([
      ["linkerd", "other-namespace"],
      ["server", "overridden"],
    ]);
  });

  test("a profile only in an unrelated namespace applies to nobody", () => {
    const only = decodeYaml(THREE.split("---\n")[0]!).specs;
    const set = buildProfileSet(only, { clock: { nowMs: () => 0 }, namespaces: ctx("default") });
    expect(set.byName.size).toBe(0);
  });

  test("the same namespace and name twice is still a duplicate", () => {
    const twice = decodeYaml(`${THREE.split("---\n")[1]!}---\n${THREE.split("---\n")[1]!}`);
    expect(twice.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('duplicate ServiceProfile "server/books.server.svc.cluster.local"'),
    ]);
  });
});
