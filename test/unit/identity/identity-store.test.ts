// openIdentityStore: the start-up load (problems → ConfigError), rotation by plain rewrites and by a
// Kubernetes Secret volume's `..data` symlink swap (listeners told, metrics moved), a bad new set kept
// out with one warning per content, an unchanged rewrite ignored, and expiry judged on the clock given.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { ConfigError } from "../../../src/config/env.ts";
import { openIdentityStore } from "../../../src/identity/identity-store.ts";
import type { IdentityStore, WorkloadIdentity } from "../../../src/identity/workload-identity.ts";
import { createLogger } from "../../../src/log/logger.ts";
import { Registry } from "../../../src/metrics/prom-client.ts";
import { newCa, writeLeaf } from "./identity-fixtures.ts";

const stores: IdentityStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function harness() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("debug", "json", (line) => void lines.push(JSON.parse(line))).scoped("identity");
  const registry = new Registry();
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await registry.getSingleMetric(name)?.get())?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
    return m?.value;
  };
  return { lines, log, registry, metric };
}

/** Polls `check` every 20 ms until it returns true; fails after `limitMs` (a bound, not a timing assertion). */
async function eventually(check: () => boolean | Promise<boolean>, limitMs = 10_000): Promise<void> {
  for (let waited = 0; waited < limitMs; waited += 20) {
    if (await check()) return;
    await Bun.sleep(20);
  }
  throw new Error("condition not met in time");
}

const FAST = { pollIntervalMs: 50, debounceMs: 20 };

describe("openIdentityStore", () => {
  test("a bad set at start is a ConfigError listing each problem", async () => {
    const files = await writeLeaf(await newCa(), "web.example");
    writeFileSync(files.key, (await writeLeaf(await newCa(), "other.example")).keyPem);
    const { log, registry } = harness();
    let error: unknown;
    try {
      openIdentityStore({ paths: files, log, registry });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.name)).toEqual(["MESHLET_IDENTITY_KEY"]);
  });

  test("plain rewrites rotate: listeners get the new identity, metrics move, an unchanged rewrite does nothing", async () => {
    const ca = await newCa();
    const files = await writeLeaf(ca, "web.example", { validMs: 3600_000 });
    const h = harness();
    const store = openIdentityStore({ paths: files, log: h.log, registry: h.registry, ...FAST });
    stores.push(store);
    const first = store.current();
    expect(first.name).toBe("web.example");
    expect(await h.metric("control_identity_cert_refreshes_total", { result: "ok" })).toBe(1);
    expect(await h.metric("control_identity_cert_expiration_timestamp_seconds")).toBe(first.notAfterMs / 1000);

    const seen: WorkloadIdentity[] = [];
    store.onChange((identity) => seen.push(identity));
    await writeLeaf(ca, "web.example", { validMs: 7200_000, dir: files.dir });
    await eventually(() => seen.length === 1);
    expect(store.current()).toBe(seen[0]!);
    expect(seen[0]!.notAfterMs).toBeGreaterThan(first.notAfterMs);
    expect(await h.metric("control_identity_cert_refreshes_total", { result: "ok" })).toBe(2);
    expect(await h.metric("control_identity_cert_expiration_timestamp_seconds")).toBe(seen[0]!.notAfterMs / 1000);
    expect(h.lines.filter((l) => l.message === "identity rotated")).toHaveLength(1);

    // The same bytes written again: nothing installed, nothing logged.
    writeFileSync(files.cert, seen[0]!.certChainPem);
    writeFileSync(files.key, seen[0]!.keyPem);
    await Bun.sleep(300);
    expect(seen).toHaveLength(1);
    expect(await h.metric("control_identity_cert_refreshes_total", { result: "ok" })).toBe(2);
  });

  test("a bad new set keeps the old identity and warns once with the reasons; a good one then installs", async () => {
    const ca = await newCa();
    const files = await writeLeaf(ca, "web.example");
    const h = harness();
    const store = openIdentityStore({ paths: files, log: h.log, registry: h.registry, ...FAST });
    stores.push(store);
    const before = store.current();
    writeFileSync(files.key, (await writeLeaf(await newCa(), "other.example")).keyPem);
    await eventually(() => h.lines.some((l) => l.message === "identity files changed but are not usable; keeping the current identity"));
    expect(store.current()).toBe(before);
    expect(h.lines.find((l) => l.code === "MESHLET_ERR_IDENTITY_KEY_MISMATCH")).toMatchObject({ level: "warn", scope: "identity", path: files.key });
    expect(await h.metric("control_identity_cert_refreshes_total", { result: "error" })).toBe(1);
    // Touching the same bad content again is not a second failure.
    writeFileSync(files.key, readFileSync(files.key, "utf8"));
    await Bun.sleep(300);
    expect(await h.metric("control_identity_cert_refreshes_total", { result: "error" })).toBe(1);

    await writeLeaf(ca, "web.example", { dir: files.dir });
    await eventually(() => store.current() !== before);
    expect(store.current().name).toBe("web.example");
    expect(await h.metric("control_identity_cert_refreshes_total", { result: "ok" })).toBe(2);
  });

  test("a Kubernetes Secret volume's ..data symlink swap rotates all three files at once", async () => {
    const ca = await newCa();
    const volume = mkdtempSync(join(tmpdir(), "meshlet-secret-volume-"));
    const generation = async (stamp: string, name: string) => {
      const dir = join(volume, `..${stamp}`);
      mkdirSync(dir);
      await writeLeaf(ca, name, { dir });
      return dir;
    };
    await generation("2026_12_01_00_00_00.1", "web.example");
    symlinkSync("..2026_12_01_00_00_00.1", join(volume, "..data"));
    for (const f of ["ca.crt", "tls.crt", "tls.key"]) symlinkSync(join("..data", f), join(volume, f));
    const paths = { trustAnchors: join(volume, "ca.crt"), cert: join(volume, "tls.crt"), key: join(volume, "tls.key") };
    const h = harness();
    const store = openIdentityStore({ paths, log: h.log, registry: h.registry, ...FAST });
    stores.push(store);
    expect(store.current().name).toBe("web.example");

    // What the kubelet's atomic writer does: a new timestamped dir, a temp symlink renamed onto ..data.
    const before = store.current();
    await generation("2026_12_01_01_00_00.2", "web.example");
    symlinkSync("..2026_12_01_01_00_00.2", join(volume, "..data_tmp"));
    renameSync(join(volume, "..data_tmp"), join(volume, "..data"));
    rmSync(join(volume, "..2026_12_01_00_00_00.1"), { recursive: true });
    await eventually(() => store.current() !== before);
    expect(store.current().name).toBe("web.example");
    expect(h.lines.filter((l) => l.level === "warn")).toEqual([]);
  });

  test("a valid certificate for another name is refused: the identity is fixed for the process", async () => {
    const ca = await newCa();
    const files = await writeLeaf(ca, "web.example");
    const h = harness();
    const store = openIdentityStore({ paths: files, log: h.log, registry: h.registry, ...FAST });
    stores.push(store);
    const before = store.current();
    await writeLeaf(ca, "db.example", { dir: files.dir });
    await eventually(() => h.lines.some((l) => l.code === "MESHLET_ERR_IDENTITY_RENAMED"));
    expect(h.lines.find((l) => l.code === "MESHLET_ERR_IDENTITY_RENAMED")?.message).toBe(
      "MESHLET_IDENTITY_CERT: expected a certificate for web.example, the identity this proxy started with (restart to change it); got one for db.example",
    );
    expect(store.current()).toBe(before);
  });

  test("expired() follows the clock against the certificate in force", async () => {
    const files = await writeLeaf(await newCa(), "web.example", { validMs: 3600_000 });
    let nowMs = Date.now();
    const h = harness();
    const store = openIdentityStore({ paths: files, log: h.log, registry: h.registry, wallClock: { nowMs: () => nowMs }, ...FAST });
    stores.push(store);
    expect(store.expired()).toBe(false);
    nowMs = store.current().notAfterMs; // the last valid millisecond
    expect(store.expired()).toBe(false);
    nowMs += 1;
    expect(store.expired()).toBe(true);
  });
});

