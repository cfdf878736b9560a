// Authorization policy in the real sidecar process: per-route allow through HTTPRoute +
// AuthorizationPolicy + NetworkAuthentication, 403 / 404 with the connection kept, gRPC denial as
// 200 + grpc-status, a denied body that never reaches the backend (which counts every byte it gets),
// the authz metrics, and reloads (ServerAuthorization) that change the decision for the next request.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RawUpstream, countHeads, hasResponses, rawRequest, rawUpstream, splitResponses } from "../../support/http-harness.ts";
import { metricValue, type RunningProxy, startProxy } from "../../support/proxy.ts";

let backend: RawUpstream;
let backendBytes = 0;
let proxy: RunningProxy;
const dir = mkdtempSync(join(tmpdir(), "meshlet-authz-"));

const server = (port: number) => `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web}
spec:
  podSelector: {matchLabels: {app: web}}
  port: ${port}
  proxyProtocol: HTTP/1
`;

const routes = (port: number) => `${server(port)}---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: open}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules: [{matches: [{path: {type: PathPrefix, value: /open}}]}]
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: closed}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules: [{matches: [{path: {type: PathPrefix, value: /closed}}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: meshed}
spec:
  parentRefs: [{name: web, kind: Server, group: policy.linkerd.io}]
  rules: [{matches: [{path: {type: Exact, value: /meshed}}]}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: {name: loopback}
spec:
  networks: [{cidr: 127.0.0.0/8}, {cidr: "::1/128"}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: {name: pods}
spec:
  networks: [{cidr: 10.0.0.0/8}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: open-from-loopback}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: open}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: NetworkAuthentication, name: loopback}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: closed-from-pods}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: closed}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: NetworkAuthentication, name: pods}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata: {name: anyone-meshed}
spec:
  identities: ["*"]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: meshed-only}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: meshed}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: MeshTLSAuthentication, name: anyone-meshed}]
`;

const serverAuthorization = (port: number, cidr: string) => `${server(port)}---
apiVersion: policy.linkerd.io/v1beta1
kind: ServerAuthorization
metadata: {name: legacy}
spec:
  server: {name: web}
  client:
    unauthenticated: true
    networks: [{cidr: ${cidr}}]
`;

const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: web\r\n\r\n`;

beforeAll(async () => {
  // Answers every request head with 200; counts every byte it ever receives.
  backend = rawUpstream((conn, chunk) => {
    backendBytes += chunk.length;
    const answered = (conn.state.answered as number | undefined) ?? 0;
    const heads = countHeads(conn.received);
    for (let i = answered; i < heads; i++) conn.socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    conn.state.answered = heads;
  });
  writeFileSync(join(dir, "policy.yaml"), routes(backend.port));
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`,
    MESHLET_POD_LABELS: "app=web",
  });
});

afterAll(async () => {
  await proxy.stop();
  backend.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("per-route policy", () => {
  test("allowed, denied (403), meshed-only (403 for a plaintext client) and unrouted (404), on one kept-open connection", async () => {
    const before = backendBytes;
    const result = await rawRequest(proxy.inboundPort, [get("/open/a"), get("/closed"), get("/meshed"), get("/nowhere"), get("/open/b")], { until: hasResponses(5) });
    expect(result.closed).toBe(false);
    const responses = splitResponses(result.data);
    expect(responses.map((r) => r.status)).toEqual([200, 403, 403, 404, 200]);
    // An unmeshed client learns the status, nothing of the proxy's internals.
    expect(responses.every((r) => !r.headers.has("l5d-proxy-error"))).toBe(true);
    // Exactly the two allowed requests reached the backend.
    const allowed = get("/open/a").length + get("/open/b").length;
    expect(backendBytes - before).toBeGreaterThanOrEqual(allowed);
    expect(backendBytes - before).toBeLessThan(allowed + 2 * 200); // the proxy adds a few headers, not three more requests
  });

  test("a denied request's body never reaches the backend", async () => {
    const body = "x".repeat(64 * 1024);
    const before = backendBytes;
    const denied = await rawRequest(proxy.inboundPort, `POST /closed HTTP/1.1\r\nhost: web\r\ncontent-length: ${body.length}\r\n\r\n${body}`, { until: hasResponses(1) });
    expect(splitResponses(denied.data)[0]!.status).toBe(403);
    // The same request on an allowed route does arrive, body and all: the counter sees bodies.
    const ok = await rawRequest(proxy.inboundPort, `POST /open HTTP/1.1\r\nhost: web\r\ncontent-length: ${body.length}\r\n\r\n${body}`, { until: hasResponses(1) });
    expect(splitResponses(ok.data)[0]!.status).toBe(200);
    const delivered = backendBytes - before;
    expect(delivered).toBeGreaterThanOrEqual(body.length);
    expect(delivered).toBeLessThan(2 * body.length);
  });

  test("gRPC requests are denied with HTTP 200 and grpc-status 7 (404 → grpc-status 5)", async () => {
    const grpc = (path: string) => `POST ${path} HTTP/1.1\r\nhost: web\r\ncontent-type: application/grpc+proto\r\ncontent-length: 0\r\n\r\n`;
    const result = await rawRequest(proxy.inboundPort, [grpc("/closed"), grpc("/nowhere")], { until: hasResponses(2) });
    const [denied, missing] = splitResponses(result.data);
    expect([denied!.status, denied!.headers.get("grpc-status"), denied!.headers.get("content-type")]).toEqual([200, "7", "application/grpc"]);
    expect([missing!.status, missing!.headers.get("grpc-status")]).toEqual([200, "5"]);
  });

  test("the authz metrics carry Linkerd's labels", async () => {
    const m = await proxy.metrics();
    const srv = { srv_group: "policy.linkerd.io", srv_kind: "server", srv_name: "web", target_port: String(backend.port), tls: "disabled" };
    expect(
      metricValue(m, "inbound_http_authz_allow_total", { ...srv, route_group: "policy.linkerd.io", route_kind: "HTTPRoute", route_name: "open", authz_kind: "authorizationpolicy", authz_name: "open-from-loopback" }),
    ).toBe(3);
    expect(metricValue(m, "inbound_http_authz_deny_total", { ...srv, route_name: "closed" })).toBe(3);
    expect(metricValue(m, "inbound_http_authz_deny_total", { ...srv, route_group: "gateway.networking.k8s.io", route_name: "meshed" })).toBe(1);
    expect(metricValue(m, "inbound_http_route_not_found_total", srv)).toBe(2);
  });
});

describe("reloads", () => {
  async function statusOf(path: string): Promise<number> {
    const r = await rawRequest(proxy.inboundPort, get(path), { until: hasResponses(1) });
    return splitResponses(r.data)[0]!.status;
  }
  /** Polls (bounded) until the proxy has applied the directory: the reload is asynchronous. */
  async function untilStatus(path: string, status: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if ((await statusOf(path)) === status) return;
      await Bun.sleep(25);
    }
    throw new Error(`${path} never answered ${status}`);
  }

  test("a ServerAuthorization replaces the routes; narrowing its networks denies the next request", async () => {
    writeFileSync(join(dir, "policy.yaml"), serverAuthorization(backend.port, "127.0.0.0/8"));
    await untilStatus("/nowhere", 200); // no routes now: the default route, authorized by the ServerAuthorization
    writeFileSync(join(dir, "policy.yaml"), serverAuthorization(backend.port, "10.0.0.0/8"));
    await untilStatus("/nowhere", 403);
    const m = await proxy.metrics();
    expect(metricValue(m, "inbound_http_authz_allow_total", { srv_name: "web", route_kind: "default", route_name: "default", authz_kind: "serverauthorization", authz_name: "legacy" })).toBeGreaterThanOrEqual(1);
  });

  test("without a Server the default policy applies again", async () => {
    writeFileSync(join(dir, "policy.yaml"), "");
    await untilStatus("/anything", 200);
    const m = await proxy.metrics();
    expect(metricValue(m, "inbound_http_authz_allow_total", { srv_kind: "default", srv_name: "all-unauthenticated", authz_name: "all-unauthenticated" })).toBeGreaterThanOrEqual(1);
  });
});
