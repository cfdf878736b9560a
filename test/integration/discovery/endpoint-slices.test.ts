// Endpoint discovery in the real sidecar process: an EndpointSlice in MESHLET_CONFIG_DIR makes
// `web.default.svc.cluster.local:8080` mean two Bun HTTP servers on loopback — curl through the outbound
// listener reaches both, round-robin; editing the slice moves the traffic; without a ready endpoint
// the answer is 503 naming the cause; /endpoints.json shows the table and `meshlet check` its problems.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BUN, CLI, type RunningProxy, startProxy } from "../../support/proxy.ts";

const AUTHORITY = "web.default.svc.cluster.local:8080";
let servers: ReturnType<typeof Bun.serve>[] = [];
let port = 0;
let proxy: RunningProxy;
const dir = mkdtempSync(join(tmpdir(), "meshlet-discovery-"));

/** Two servers on one port, at 127.0.0.1 and 127.0.0.2 (one slice port serves both endpoints). */
function startServers(): void {
  for (let attempt = 0; attempt < 20 && servers.length < 2; attempt++) {
    const first = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("one") });
    try {
      const second = Bun.serve({ hostname: "127.0.0.2", port: first.port, fetch: () => new Response("two") });
      servers = [first, second];
      port = first.port!;
    } catch {
      first.stop(true); // the port is taken on 127.0.0.2: try another
    }
  }
  if (servers.length < 2) throw new Error("could not bind two loopback servers on one port");
}

function writeSlice(endpoints: readonly { ip: string; ready?: boolean }[]): void {
  const list = endpoints.map((e) => `- addresses: ["${e.ip}"]\n  conditions: {ready: ${e.ready ?? true}}`).join("\n");
  writeFileSync(
    join(dir, "web.yaml"),
    `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: default
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports:
- {name: http, port: ${port}, protocol: TCP}
endpoints:${endpoints.length === 0 ? " []" : `\n${list}`}
`,
  );
}

/** Status, body and l5d-proxy-error of GET http://web.default.svc.cluster.local:8080/ through the outbound listener (curl -x). */
async function get(): Promise<{ status: number; body: string; proxyError: string }> {
  const proc = spawn(["curl", "-sS", "--max-time", "10", "-D", "-", "-x", `http://127.0.0.1:${proxy.outboundPorts[0]}`, `http://${AUTHORITY}/`], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`curl exited ${code}: ${err}`);
  const [head = "", body = ""] = out.split("\r\n\r\n");
  const status = Number(head.split(" ")[1]);
  const proxyError = /^l5d-proxy-error: (.*)$/im.exec(head)?.[1] ?? "";
  return { status, body, proxyError };
}

async function endpointsJson(): Promise<{ services: { authority: string; ports: { endpoints: { address: string; ready: boolean }[] }[] }[] }> {
  return (await fetch(`http://127.0.0.1:${proxy.adminPort}/endpoints.json`)).json() as never;
}

/** Waits (bounded) until the table in force lists exactly these endpoints, e.g. ["127.0.0.1 ready", "127.0.0.2 not ready"]. */
async function untilTable(expected: readonly string[]): Promise<void> {
  let seen: string[] = [];
  for (let i = 0; i < 200; i++) {
    const view = await endpointsJson();
    seen = (view.services[0]?.ports[0]?.endpoints ?? []).map((e) => `${e.address} ${e.ready ? "ready" : "not ready"}`);
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await Bun.sleep(25);
  }
  throw new Error(`the table never listed [${expected.join(", ")}] (last: [${seen.join(", ")}])`);
}

beforeAll(async () => {
  startServers();
  writeSlice([{ ip: "127.0.0.1" }, { ip: "127.0.0.2" }]);
  proxy = await startProxy({ MESHLET_CONFIG_DIR: dir });
});

afterAll(async () => {
  await proxy?.stop();
  for (const s of servers) s.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

test("requests for the service reach both endpoints of its slice, round-robin, instead of DNS", async () => {
  const bodies: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await get();
    expect(res.status).toBe(200);
    bodies.push(res.body);
  }
  expect(bodies.filter((b) => b === "one")).toHaveLength(5);
  expect(bodies.filter((b) => b === "two")).toHaveLength(5);
});

test("/endpoints.json shows the authority, the slice port and both endpoints", async () => {
  const view = await endpointsJson();
  expect(view).toMatchObject({
    clusterDomain: "cluster.local",
    services: [
      {
        authority: "web.default.svc.cluster.local",
        service: "default/web",
        serviceDocument: false,
        slices: ["default/web-abc12"],
        ports: [
          {
            port: "*",
            endpoints: [
              { address: "127.0.0.1", port, identity: null, ready: true, slice: "default/web-abc12" },
              { address: "127.0.0.2", port, identity: null, ready: true, slice: "default/web-abc12" },
            ],
          },
        ],
      },
    ],
  });
});

test("editing the slice while running moves the traffic: a not-ready endpoint gets none", async () => {
  writeSlice([{ ip: "127.0.0.1", ready: false }, { ip: "127.0.0.2" }]);
  await untilTable(["127.0.0.1 not ready", "127.0.0.2 ready"]);
  for (let i = 0; i < 6; i++) expect((await get()).body).toBe("two");
  writeSlice([{ ip: "127.0.0.1" }]);
  await untilTable(["127.0.0.1 ready"]);
  for (let i = 0; i < 6; i++) expect((await get()).body).toBe("one");
});

test("with no endpoint left the answer is 503 with the cause in l5d-proxy-error; endpoints coming back serve again", async () => {
  writeSlice([]);
  await untilTable([]);
  const res = await get();
  expect(res.status).toBe(503);
  expect(res.proxyError).toBe(`no endpoint for ${AUTHORITY}: its EndpointSlices list no endpoint`);
  writeSlice([{ ip: "127.0.0.2", ready: false }]);
  await untilTable(["127.0.0.2 not ready"]);
  expect((await get()).proxyError).toBe(`no endpoint for ${AUTHORITY}: none of its 1 endpoint is ready`);
  writeSlice([{ ip: "127.0.0.2" }]);
  await untilTable(["127.0.0.2 ready"]);
  expect(await get()).toMatchObject({ status: 200, body: "two" });
});

test("an invalid edit keeps the last good table", async () => {
  writeFileSync(join(dir, "web.yaml"), "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: web-abc12, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nendpoints:\n- addresses: [not-an-ip]\n");
  await proxy.waitForLog((l) => l.message === "config error" && String(l.problem).includes('"not-an-ip" is not an IPv4 address'));
  await untilTable(["127.0.0.2 ready"]);
  expect(await get()).toMatchObject({ status: 200, body: "two" });
});

test("meshlet check reports a slice without service label, several ports without a Service, and a bad identity", async () => {
  const bad = mkdtempSync(join(tmpdir(), "meshlet-discovery-check-"));
  try {
    writeFileSync(
      join(bad, "slices.yaml"),
      `apiVersion: v1
kind: List
items:
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: orphan, namespace: shop}
  addressType: IPv4
  endpoints: [{addresses: [10.0.0.1]}]
  ports: [{port: 80}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: two-ports, namespace: shop, labels: {kubernetes.io/service-name: cart}}
  addressType: IPv4
  endpoints: [{addresses: [10.0.0.2]}]
  ports: [{name: http, port: 8080}, {name: admin, port: 9990}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata:
    name: meshed
    namespace: shop
    labels: {kubernetes.io/service-name: pay}
    annotations: {meshlet.io/identity: "pay sa!"}
  addressType: IPv4
  endpoints: [{addresses: [10.0.0.3]}]
  ports: [{port: 8080}]
`,
    );
    const proc = spawn([BUN, CLI, "check", "--config-dir", bad], { env: { PATH: process.env.PATH ?? "" }, stdout: "pipe", stderr: "pipe" });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(64);
    const file = join(bad, "slices.yaml");
    expect(stderr).toContain(`${file}:22:19: error: doc 1: items[2].metadata.annotations["meshlet.io/identity"]: "pay sa!" is not a DNS name`);
    expect(stderr).toContain(`${file}:6:3: warning: doc 1: items[0].metadata.labels: no kubernetes.io/service-name label`);
    expect(stderr).toContain(`${file}:15:3: warning: doc 1: items[1].ports: 2 ports and no Service shop/cart in the config directory`);
  } finally {
    rmSync(bad, { recursive: true, force: true });
  }
});
