// ServiceProfile routes over HTTP/2 through the real proxy, with a real gRPC client and server
// (@grpc/grpc-js): a retryable route re-sends a call the app failed trailers-only with UNAVAILABLE
// (classified by grpc-status at the response head), and a route timeout answers DEADLINE_EXCEEDED.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

const bytes = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const SERVICE = {
  Flaky: { path: "/test.Echo/Flaky", requestStream: false, responseStream: false, ...bytes },
  Slow: { path: "/test.Echo/Slow", requestStream: false, responseStream: false, ...bytes },
} satisfies grpc.ServiceDefinition;
type Client = grpc.Client & Record<keyof typeof SERVICE, (...args: unknown[]) => unknown>;
const EchoClient = grpc.makeGenericClientConstructor(SERVICE, "Echo");

let server: grpc.Server;
let proxy: RunningProxy;
let dir: string;
let flakyCalls = 0;
const timers = new Set<ReturnType<typeof setTimeout>>();

beforeAll(async () => {
  server = new grpc.Server();
  server.addService(SERVICE, {
    Flaky: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      ++flakyCalls % 2 === 1 ? cb({ code: grpc.status.UNAVAILABLE, details: "try again" }, null) : cb(null, call.request),
    Slow: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      timers.add(setTimeout(() => cb(null, Buffer.from("late")), 3_000));
    },
  });
  const appPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
  dir = mkdtempSync(join(tmpdir(), "meshlet-h2-profiles-"));
  writeFileSync(
    join(dir, "echo.yaml"),
    `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: localhost
spec:
  routes:
  - name: flaky
    condition: { method: POST, pathRegex: /test\\.Echo/Flaky }
    isRetryable: true
  - name: slow
    condition: { pathRegex: /test\\.Echo/Slow }
    timeout: 200ms
  retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 100, ttl: 10s }
`,
  );
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${appPort}`,
  });
});

afterAll(async () => {
  for (const t of timers) clearTimeout(t);
  await proxy.stop();
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

function unary(c: Client, method: keyof typeof SERVICE, msg: Buffer): Promise<{ err: grpc.ServiceError | null; res?: Buffer }> {
  return new Promise((resolve) => c[method](msg, (err: grpc.ServiceError | null, res?: Buffer) => resolve({ err, res })));
}

test("a retryable route: calls the app failed trailers-only with UNAVAILABLE are re-sent and succeed", async () => {
  const c = new EchoClient(`localhost:${proxy.outboundPorts[1]}`, grpc.credentials.createInsecure()) as unknown as Client;
  try {
    for (let i = 0; i < 10; i++) {
      const r = await unary(c, "Flaky", Buffer.from(`call ${i}`));
      expect(r.err).toBeNull();
      expect(r.res!.toString()).toBe(`call ${i}`);
    }
  } finally {
    c.close();
  }
  expect(flakyCalls).toBe(20);
  const metrics = await proxy.metrics();
  const route = { direction: "outbound", rt_route: "flaky" };
  expect(metricValue(metrics, "route_response_total", { ...route, classification: "success", grpc_status: "0" })).toBe(10);
  expect(metricValue(metrics, "route_actual_response_total", { ...route, classification: "failure", grpc_status: "14" })).toBe(10);
});

test("a route timeout answers DEADLINE_EXCEEDED (HTTP 200, grpc-status 4) with the proxy's message", async () => {
  const c = new EchoClient(`localhost:${proxy.outboundPorts[1]}`, grpc.credentials.createInsecure()) as unknown as Client;
  try {
    const r = await unary(c, "Slow", Buffer.from("x"));
    expect(r.err?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(r.err?.details).toContain("timed out after 200ms");
  } finally {
    c.close();
  }
});
