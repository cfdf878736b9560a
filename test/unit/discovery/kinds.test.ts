// EndpointSlice and Service through the real loader and kind list: `kubectl get -o yaml` output loads
// unchanged, what Kubernetes would refuse is a located error, what it would drop is a warning, and the
// set checks `meshlet check` reports.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { resourceKinds } from "../../../src/app/resource-kinds.ts";
import { parseConfig } from "../../../src/config/env.ts";
import { checkConfigDir, loadConfigDir } from "../../../src/resources/config-dir.ts";

const root = mkdtempSync(join(tmpdir(), "meshlet-discovery-kinds-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const kinds = resourceKinds(parseConfig({}), { nowMs: () => 0 });
let n = 0;

function dirWith(yaml: string): string {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(join(dir, "d.yaml"), yaml);
  return dir;
}
const problemsOf = (yaml: string) => checkConfigDir(dirWith(yaml), kinds).map((p) => [p.severity, p.line, p.path, p.message] as const);

/** What `kubectl get endpointslices,services -n shop -o yaml` prints (server-set metadata included). */
const KUBECTL_LIST = `apiVersion: v1
items:
- addressType: IPv4
  apiVersion: discovery.k8s.io/v1
  endpoints:
  - addresses:
    - 10.244.0.12
    conditions:
      ready: true
      serving: true
      terminating: false
    nodeName: kind-control-plane
    targetRef:
      kind: Pod
      name: cart-6b9f7c5d8-x2x4q
      namespace: shop
      uid: 6f2c1e0a-1111-2222-3333-444455556666
    zone: eu-west-1a
  - addresses:
    - 10.244.0.13
    conditions:
      ready: false
      serving: false
      terminating: true
    hints:
      forZones:
      - name: eu-west-1a
  kind: EndpointSlice
  metadata:
    annotations:
      endpoints.kubernetes.io/last-change-trigger-time: "2026-11-30T10:00:00Z"
      meshlet.io/identity: cart.shop.serviceaccount.identity.linkerd.cluster.local
    creationTimestamp: "2026-11-30T10:00:00Z"
    generateName: cart-
    generation: 3
    labels:
      endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
      kubernetes.io/service-name: cart
    name: cart-7xk2p
    namespace: shop
    ownerReferences:
    - apiVersion: v1
      blockOwnerDeletion: true
      controller: true
      kind: Service
      name: cart
      uid: 0a0a0a0a-1111-2222-3333-444455556666
    resourceVersion: "1234"
    uid: 1b1b1b1b-1111-2222-3333-444455556666
  ports:
  - appProtocol: http
    name: http
    port: 8080
    protocol: TCP
  - name: metrics
    port: 9990
    protocol: TCP
  - name: dns
    port: 53
    protocol: UDP
- apiVersion: v1
  kind: Service
  metadata:
    name: cart
    namespace: shop
    resourceVersion: "99"
  spec:
    clusterIP: 10.96.14.3
    clusterIPs: [10.96.14.3]
    internalTrafficPolicy: Cluster
    ipFamilies: [IPv4]
    ipFamilyPolicy: SingleStack
    ports:
    - name: http
      port: 80
      protocol: TCP
      targetPort: http
    - name: metrics
      port: 9990
      protocol: TCP
      targetPort: 9990
    selector:
      app: cart
    sessionAffinity: None
    type: ClusterIP
  status:
    loadBalancer: {}
kind: List
metadata:
  resourceVersion: ""
`;

describe("decoding", () => {
  test("kubectl's List of a slice and its Service loads unchanged, with no problem", () => {
    const dir = dirWith(KUBECTL_LIST);
    expect(checkConfigDir(dir, kinds)).toEqual([]);
    const loaded = loadConfigDir(dir, { kinds });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    expect(loaded.snapshot.endpointSlices).toEqual([
      {
        name: "cart-7xk2p",
        namespace: "shop",
        serviceName: "cart",
        addressType: "IPv4",
        identity: "cart.shop.serviceaccount.identity.linkerd.cluster.local",
        endpoints: [
          { addresses: ["10.244.0.12"], ready: true },
          { addresses: ["10.244.0.13"], ready: false },
        ],
        // The UDP port is not kept: discovery serves TCP traffic.
        ports: [
          { name: "http", port: 8080 },
          { name: "metrics", port: 9990 },
        ],
      },
    ]);
    expect(loaded.snapshot.services).toEqual([
      {
        name: "cart",
        namespace: "shop",
        ports: [
          { name: "http", port: 80, targetPort: "http" },
          { name: "metrics", port: 9990, targetPort: 9990 },
        ],
      },
    ]);
  });

  test("conditions absent or null mean ready; a null port number means all ports; IPv6 and FQDN slices load", () => {
    const dir = dirWith(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: v6, labels: {kubernetes.io/service-name: web}}
addressType: IPv6
endpoints:
- addresses: ["fd00::1"]
- addresses: ["fd00::2"]
  conditions: null
ports:
- port: null
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: names, labels: {kubernetes.io/service-name: ext}}
addressType: FQDN
endpoints:
- addresses: [Api.Example.COM.]
ports: [{port: 443}]
`);
    const loaded = loadConfigDir(dir, { kinds });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const [v6, names] = loaded.snapshot.endpointSlices;
    expect(v6!.endpoints.map((e) => e.ready)).toEqual([true, true]);
    expect(v6!.ports).toEqual([{ name: "", port: undefined }]);
    expect(v6!.namespace).toBe("default");
    expect(names!.endpoints[0]!.addresses).toEqual(["api.example.com"]);
  });

  test("addresses that do not match addressType are located errors", () => {
    expect(problemsOf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: bad, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1, "fd00::1", 10.0.0.256]
ports: [{port: 80}]
`)).toEqual([
      ["error", 6, "endpoints[0].addresses[1]", '"fd00::1" is not an IPv4 address (addressType IPv4)'],
      ["error", 6, "endpoints[0].addresses[2]", '"10.0.0.256" is not an IPv4 address (addressType IPv4)'],
    ]);
  });

  test("shapes Kubernetes refuses are errors naming the field; fields it does not define are warnings", () => {
    expect(problemsOf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: bad, labels: {kubernetes.io/service-name: web}}
addressType: IPv5
endpoints:
- addresses: []
  topology: {kubernetes.io/hostname: node-1}
ports:
- port: 70000
  protocol: tcp
`)).toEqual([
      ["error", 4, "addressType", 'must be one of IPv4, IPv6, FQDN, got "IPv5"'],
      ["error", 6, "endpoints[0].addresses", "needs at least 1 entry"],
      ["warning", 7, "endpoints[0].topology", "unknown field topology (known: addresses, conditions, hostname, targetRef, nodeName, zone, hints, deprecatedTopology); ignored (Kubernetes does not define it)"],
      ["error", 9, "ports[0].port", "must be <= 65535"],
      ["error", 10, "ports[0].protocol", 'must be one of TCP, UDP, SCTP, got "tcp"'],
    ]);
  });

  test("a missing addressType is a warning, inferred from the addresses (some of Linkerd's own test slices omit it)", () => {
    const problems = problemsOf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s, labels: {kubernetes.io/service-name: web}}
endpoints: [{addresses: ["fd00::7"]}]
ports: [{port: 80}]
`);
    expect(problems).toEqual([["warning", 1, "", "missing addressType (Kubernetes requires IPv4, IPv6 or FQDN); taken as IPv6 from the addresses"]]);
  });

  test("an identity annotation that is not a DNS name is an error on the annotation", () => {
    const problems = problemsOf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: s
  labels: {kubernetes.io/service-name: web}
  annotations:
    meshlet.io/identity: "web@default"
addressType: IPv4
endpoints: [{addresses: [10.0.0.1]}]
ports: [{port: 80}]
`);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.slice(0, 3)).toEqual(["error", 7, 'metadata.annotations["meshlet.io/identity"]']);
    expect(problems[0]![3]).toStartWith('"web@default" is not a DNS name');
  });

  test("two slices (or Services) of one name in one namespace are a duplicate", () => {
    const slice = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, namespace: a}\naddressType: IPv4\nendpoints: []\nports: [{port: 1}]\n";
    const errors = problemsOf(`${slice}---\n${slice}`).filter((p) => p[0] === "error");
    expect(errors.map((p) => p[3])).toEqual([expect.stringContaining('duplicate EndpointSlice "a/s"')]);
  });

  test("a Service port without a port number is an error", () => {
    expect(problemsOf("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - name: http\n    targetPort: 8080\n")).toEqual([
      ["error", 6, "spec.ports[0].port", "missing required field port"],
    ]);
  });
});

describe("checks across the set", () => {
  test("a slice without the service-name label, or without a TCP port, warns that its endpoints are unused", () => {
    expect(problemsOf(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: orphan}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1]}]
ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: udp, labels: {kubernetes.io/service-name: dns}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.2]}]
ports: [{port: 53, protocol: UDP}]
`)).toEqual([
      ["warning", 3, "metadata.labels", "no kubernetes.io/service-name label: the slice belongs to no service, its endpoints are not used"],
      ["warning", 13, "ports", "no TCP port: the slice's endpoints serve no port of dns.default.svc.cluster.local"],
    ]);
  });

  test("a multi-port slice warns until a Service maps its ports; a Service port that maps to no slice port warns", () => {
    const slice = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1]}]
ports: [{name: http, port: 8080}, {name: admin, port: 9990}]
`;
    expect(problemsOf(slice).map((p) => p.slice(0, 3))).toEqual([["warning", 6, "ports"]]);
    expect(problemsOf(`${slice}---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: grpc, port: 9000, targetPort: grpc}
`)).toEqual([["warning", 14, "spec.ports[1]", "service port 9000 (grpc) matches no port of the service's EndpointSlices by name or targetPort: requests to it get 503"]]);
  });
});
