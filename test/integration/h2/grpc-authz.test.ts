// Authorization policy over HTTP/2: a real gRPC client (@grpc/grpc-js) through meshlet's inbound h2
// engine to a real gRPC server, under a Server (proxyProtocol gRPC) with one authorized route — the
// allowed method is served, a method on a route nobody authorized is PERMISSION_DENIED (grpc-status 7),
// a method on no route is NOT_FOUND (5), neither reaches the app, and the authz metrics count them.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as grpc from "@grpc/grpc-js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

const bytes = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const SERVICE = {
  Echo: { path: "/test.Books/Echo", requestStream: false, responseStream: false, ...bytes },
  Burn: { path: "/test.Books/Burn", requestStream: false, responseStream: false, ...bytes },
  Hide: { path: "/test.Books/Hide", requestStream: false, responseStream: false, ...bytes },
} satisfies grpc.ServiceDefinition;
type Method = keyof typeof SERVICE;
type Client = grpc.Client & Record<Method, (...args: unknown[]) => unknown>;
const BooksClient = grpc.makeGenericClientConstructor(SERVICE, "Books");

const policy = (port: number) => `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: books}
spec:
  podSelector: {matchLabels: {app: books}}
  port: ${port}
  proxyProtocol: gRPC
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: echo}
spec:
  parentRefs: [{name: books, kind: Server, group: policy.linkerd.io}]
  rules: [{matches: [{path: {type: Exact, value: /test.Books/Echo}, method: POST}]}]
---
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata: {name: burn}
spec:
  parentRefs: [{name: books, kind: Server, group: policy.linkerd.io}]
  rules: [{matches: [{path: {type: Exact, value: /test.Books/Burn}}]}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: {name: loopback}
spec:
  networks: [{cidr: 127.0.0.0/8}, {cidr: "::1/128"}]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: echo-from-loopback}
spec:
  targetRef: {group: policy.linkerd.io, kind: HTTPRoute, name: echo}
  requiredAuthenticationRefs: [{group: policy.linkerd.io, kind: NetworkAuthentication, name: loopback}]
`;

let server: grpc.Server;
let proxy: RunningProxy;
const served: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "meshlet-grpc-authz-"));

beforeAll(async () => {
  server = new grpc.Server();
  const answer = (name: string) => (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    served.push(name);
    cb(null, call.request);
  };
  server.addService(SERVICE, { Echo: answer("Echo"), Burn: answer("Burn"), Hide: answer("Hide") });
  const appPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  writeFileSync(join(dir, "policy.yaml"), policy(appPort));
  proxy = await startProxy({ MESHLET_CONFIG_DIR: dir, MESHLET_INBOUND_FORWARD: `127.0.0.1:${appPort}`, MESHLET_POD_LABELS: "app=books" });
});

afterAll(async () => {
  await proxy.stop();
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

function call(c: Client, method: Method): Promise<{ code: number; details?: string; res?: Buffer }> {
  return new Promise((resolve) => {
    c[method](Buffer.from("dune"), new grpc.Metadata(), {}, (err: grpc.ServiceError | null, res?: Buffer) =>
      resolve(err === null ? { code: grpc.status.OK, res } : { code: err.code, details: err.details }),
    );
  });
}

test("the authorized method is served; unauthorized and unrouted methods get gRPC statuses and never reach the app", async () => {
  const c = new BooksClient(`127.0.0.1:${proxy.inboundPort}`, grpc.credentials.createInsecure()) as unknown as Client;
  try {
    const allowed = await call(c, "Echo");
    expect(allowed.code).toBe(grpc.status.OK);
    expect(allowed.res!.toString()).toBe("dune");

    const denied = await call(c, "Burn");
    expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
    const unrouted = await call(c, "Hide");
    expect(unrouted.code).toBe(grpc.status.NOT_FOUND);

    // The same HTTP/2 connection keeps serving after the refusals.
    expect((await call(c, "Echo")).code).toBe(grpc.status.OK);
  } finally {
    c.close();
  }
  expect(served).toEqual(["Echo", "Echo"]);
  const metrics = await proxy.metrics();
  expect(metricValue(metrics, "inbound_http_authz_allow_total", { route_name: "echo" })).toBe(2);
  expect(metricValue(metrics, "inbound_http_authz_deny_total", { route_name: "burn" })).toBe(1);
  expect(metricValue(metrics, "inbound_http_route_not_found_total", { srv_name: "books" })).toBe(1);
});
