// Introspection of a running sidecar with a ServiceProfile loaded: the ready banner's fields,
// /config.json (settings with their source, the resource generation, files and last reload result)
// and /pools.json (the inbound pool to the app after five keep-alive requests).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import packageJson from "../../../package.json" with { type: "json" };
import { type RunningProxy, startProxy } from "../../support/proxy.ts";

const PROFILE = (name: string) => `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: ${name}
spec:
  routes:
  - name: books
    condition: { method: GET, pathRegex: /books }
`;

let backend: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;
let dir: string;

beforeAll(async () => {
  backend = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  dir = mkdtempSync(join(tmpdir(), "meshlet-introspection-"));
  writeFileSync(join(dir, "app.yaml"), PROFILE("localhost"));
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`,
    MESHLET_OPAQUE_PORTS: "5432,8000-8002",
    // Long enough that the pooled connection is still there when /pools.json is read.
    MESHLET_HTTP_POOL_IDLE_TIMEOUT: "10m",
  });
});

afterAll(async () => {
  await proxy.stop();
  backend.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

async function getJson(path: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${proxy.adminPort}${path}`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json");
  return res.json();
}

test("the ready line names the version, bound addresses, forward target, opaque ports, config dir and how to stop", () => {
  const ready = proxy.logs.find((l) => l.message === "meshlet ready")!;
  expect(ready).toMatchObject({
    version: packageJson.version,
    inbound: `127.0.0.1:${proxy.inboundPort}`,
    outbound: `127.0.0.1:${proxy.outboundPorts[0]}`,
    admin: `127.0.0.1:${proxy.adminPort}`,
    forward: `127.0.0.1:${backend.port}`,
    opaquePorts: "5432,8000-8002",
    configDir: dir,
    gracePeriodMs: 30_000,
  });
  expect(String(ready.stop)).toContain("SIGTERM");
});

test("/config.json: settings with their source, and the resource generation with its files", async () => {
  const view = await getJson("/config.json");
  expect(view.version).toBe(packageJson.version);
  const setting = (name: string) => view.settings.find((s: { name: string }) => s.name === name);
  expect(setting("MESHLET_EXTERNAL_PROFILES")).toEqual({ name: "MESHLET_EXTERNAL_PROFILES", value: "true", source: "env" });
  expect(setting("MESHLET_DETECT_TIMEOUT")).toEqual({ name: "MESHLET_DETECT_TIMEOUT", value: "10s", source: "default" });
  expect(view.resources).toMatchObject({
    dir,
    generation: 1,
    files: [join(dir, "app.yaml")],
    serviceProfiles: ["localhost"],
    lastReload: { ok: true, problems: [] },
  });
});

test("/config.json follows reloads: a broken change is reported and ignored, a valid one is a new generation", async () => {
  writeFileSync(join(dir, "broken.yaml"), "apiVersion: linkerd.io/v1alpha2\nkind: ServiceProfile\nmetadata: {}\n");
  let view = await pollConfig((v) => v.resources.lastReload.ok === false);
  expect(view.resources.generation).toBe(1);
  expect(view.resources.serviceProfiles).toEqual(["localhost"]);
  expect(view.resources.lastReload.problems.some((p: { file: string; severity: string }) => p.file === join(dir, "broken.yaml") && p.severity === "error")).toBe(true);

  writeFileSync(join(dir, "broken.yaml"), PROFILE("books.default.svc.cluster.local"));
  view = await pollConfig((v) => v.resources.lastReload.ok === true);
  expect(view.resources.generation).toBe(2);
  expect(view.resources.files).toEqual([join(dir, "app.yaml"), join(dir, "broken.yaml")]);
  expect([...view.resources.serviceProfiles].sort()).toEqual(["books.default.svc.cluster.local", "localhost"]);
});

test("/pools.json: the inbound pool to the app after five sequential requests reuses one connection", async () => {
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`http://127.0.0.1:${proxy.inboundPort}/books`);
    expect(await res.text()).toBe("ok");
  }
  const view = await getJson("/pools.json");
  expect(view.inbound.endpoints).toEqual([
    { endpoint: `127.0.0.1:${backend.port}`, open: 1, connecting: 0, idle: 1, inUse: 0, queued: 0, opened: 1, dispatched: 5, reuseRatio: 0.8 },
  ]);
  expect(view.inbound).toMatchObject({ opened: 1, dispatched: 5, reuseRatio: 0.8 });
  expect(view.outbound).toEqual({ opened: 0, dispatched: 0, reuseRatio: null, endpoints: [], http2: { opened: 0, dispatched: 0, reuseRatio: null, endpoints: [] } });
});

test("introspection endpoints answer GET only", async () => {
  for (const path of ["/config.json", "/pools.json"]) {
    const res = await fetch(`http://127.0.0.1:${proxy.adminPort}${path}`, { method: "POST" });
    expect([res.status, res.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
  }
});

/** Reads /config.json until `done` holds (reloads apply within about a second); bounded. */
async function pollConfig(done: (view: any) => boolean): Promise<any> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const view = await getJson("/config.json");
    if (done(view)) return view;
    await Bun.sleep(100);
  }
  throw new Error("the reload did not show in /config.json within 100 polls");
}
