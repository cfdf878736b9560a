// The runtime side of the contract with the native front door: the L4 table is pushed for the first
// generation and for each new one (entry ids stable per Server), nothing is pushed when the addon lacks
// setInboundPolicy, and inbound_tcp_authz_* are rendered from inboundPolicyStats() with Server labels.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";

import { resourceKinds } from "../../../src/app/resource-kinds.ts";
import { startInboundPolicy } from "../../../src/authz/inbound-policy-runtime.ts";
import type { NativeInboundPolicy } from "../../../src/authz/l4-table.ts";
import { parseConfig } from "../../../src/config/env.ts";
import { type ConfigSnapshot, loadConfigDir } from "../../../src/resources/config-dir.ts";
import { WatchCell } from "../../../src/rt/watch.ts";
import { metricValue } from "../../support/proxy.ts";

const root = mkdtempSync(join(tmpdir(), "meshlet-authz-runtime-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const config = parseConfig({ MESHLET_POD_LABELS: "app=web", MESHLET_DEFAULT_INBOUND_POLICY: "cluster-unauthenticated" });
const kinds = resourceKinds(config, { nowMs: () => 0 });
let n = 0;
function generation(yaml: string): ConfigSnapshot {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(join(dir, "p.yaml"), yaml);
  const result = loadConfigDir(dir, { kinds });
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join("; "));
  return result.snapshot;
}
const server = (name: string, port: number) => `---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: ${name}}
spec: {podSelector: {matchLabels: {app: web}}, port: ${port}, proxyProtocol: opaque, accessPolicy: all-unauthenticated}
`;
const log = { info() {}, error() {} };

test("pushes per generation with stable ids; renders the TCP families from the native counters", async () => {
  const pushed: NativeInboundPolicy[] = [];
  const stats = [
    { id: 0, allow: 2, deny: 5, terminate: 0 },
    { id: 2, allow: 1, deny: 0, terminate: 3 },
  ];
  const binding = { setInboundPolicy: (t: NativeInboundPolicy) => (pushed.push(t), 0), inboundPolicyStats: () => stats };
  const watch = new WatchCell<ConfigSnapshot>(generation(server("redis", 6379)));
  const registry = new Registry();
  const runtime = startInboundPolicy(config, watch, log, registry, binding);

  expect(pushed).toHaveLength(1);
  expect(pushed[0]!.defaultEntry.rules[0]!.networks.map((x) => x.cidr)).toContain("10.0.0.0/8");
  expect(pushed[0]!.entries).toEqual([{ port: 6379, entry: { id: 1, mode: "check", rules: [{ networks: [{ cidr: "0.0.0.0/0", except: [] }, { cidr: "::/0", except: [] }], requireIdentity: false }], audit: false } }]);

  watch.set(generation(server("memcached", 11211) + server("redis", 6379)));
  expect(pushed).toHaveLength(2);
  expect(pushed[1]!.generation).toBeGreaterThan(pushed[0]!.generation);
  // redis keeps id 1; memcached gets a new one.
  expect(pushed[1]!.entries.map((e) => [e.port, e.entry.id]).sort()).toEqual([[11211, 2], [6379, 1]].sort());

  const m = await registry.metrics();
  expect(metricValue(m, "inbound_tcp_authz_deny_total", { srv_kind: "default", srv_name: "cluster-unauthenticated" })).toBe(5);
  expect(metricValue(m, "inbound_tcp_authz_allow_total", { srv_kind: "default", srv_name: "cluster-unauthenticated", authz_name: "cluster-unauthenticated" })).toBe(2);
  expect(metricValue(m, "inbound_tcp_authz_allow_total", { srv_group: "policy.linkerd.io", srv_kind: "server", srv_name: "memcached", authz_kind: "default", authz_name: "all-unauthenticated" })).toBe(1);
  expect(metricValue(m, "inbound_tcp_authz_terminate_total", { srv_name: "memcached" })).toBe(3);
  runtime.stop();
});

test("without the native policy exports nothing is pushed and the policy still compiles", () => {
  const watch = new WatchCell<ConfigSnapshot>(generation(server("redis", 6379)));
  const runtime = startInboundPolicy(config, watch, log, new Registry(), {});
  expect(runtime.current().byPort.get(6379)?.server.name).toBe("redis");
  runtime.stop();
});

test("mTLS opaque decisions taken in TypeScript are counted with tls=true and the client identity", async () => {
  const watch = new WatchCell<ConfigSnapshot>(generation(server("redis", 6379)));
  const registry = new Registry();
  const binding = { setInboundPolicy: () => 0, inboundPolicyStats: () => [{ id: 0, allow: 0, deny: 7, terminate: 0 }] };
  const runtime = startInboundPolicy(config, watch, log, registry, binding);
  const client = "app.default.serviceaccount.identity.linkerd.cluster.local";
  expect(runtime.admitMeshTcp(6379, "203.0.113.5", client)).toBe(true); // redis: all-unauthenticated
  expect(runtime.admitMeshTcp(6379, "203.0.113.5", client)).toBe(true);
  expect(runtime.admitMeshTcp(9999, "10.1.2.3", client)).toBe(true); // the default: cluster-unauthenticated
  expect(runtime.admitMeshTcp(9999, "203.0.113.5", client)).toBe(false); // outside the cluster networks

  const m = await registry.metrics();
  const mesh = { tls: "true", client_id: client };
  expect(metricValue(m, "inbound_tcp_authz_allow_total", { ...mesh, srv_kind: "server", srv_name: "redis", authz_kind: "default", authz_name: "all-unauthenticated" })).toBe(2);
  expect(metricValue(m, "inbound_tcp_authz_allow_total", { ...mesh, srv_kind: "default", srv_name: "cluster-unauthenticated" })).toBe(1);
  expect(metricValue(m, "inbound_tcp_authz_deny_total", { ...mesh, srv_kind: "default", srv_name: "cluster-unauthenticated" })).toBe(1);
  // The native counters keep their own series (no identity before the front door).
  expect(metricValue(m, "inbound_tcp_authz_deny_total", { tls: "disabled", srv_name: "cluster-unauthenticated" })).toBe(7);
  runtime.stop();
});

test("with an identity, the connections the native table decided are plaintext clients: tls=no_identity, no_tls_from_remote", async () => {
  const watch = new WatchCell<ConfigSnapshot>(generation(server("redis", 6379)));
  const registry = new Registry();
  const binding = { setInboundPolicy: () => 0, inboundPolicyStats: () => [{ id: 0, allow: 3, deny: 2, terminate: 0 }] };
  const runtime = startInboundPolicy({ ...config, identityCertPath: "/var/run/meshlet/identity/tls.crt" }, watch, log, registry, binding);
  const m = await registry.metrics();
  const plaintext = { tls: "no_identity", no_tls_reason: "no_tls_from_remote", srv_name: "cluster-unauthenticated" };
  expect(metricValue(m, "inbound_tcp_authz_allow_total", plaintext)).toBe(3);
  expect(metricValue(m, "inbound_tcp_authz_deny_total", plaintext)).toBe(2);
  expect(metricValue(m, "inbound_tcp_authz_deny_total", { tls: "disabled" })).toBe(0);
  runtime.stop();
});
