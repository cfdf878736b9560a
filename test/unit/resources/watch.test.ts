// Hot reload on a real temp directory with real fs.watch: valid changes apply, a broken file keeps
// the last good routes (logged, and visible in the reload gauges), fixing it applies again.
// Waits poll the Watch value with a generous bound; nothing asserts how long anything took.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";

import { routeFor } from "../../../src/profiles/match.ts";
import { serviceProfileKind } from "../../../src/profiles/kind.ts";
import { loadConfigDir, type ConfigSnapshot } from "../../../src/resources/config-dir.ts";
import { type ConfigWatch, type LogFields, type ReloadLogger, watchConfigDir } from "../../../src/resources/watch.ts";

const root = mkdtempSync(join(tmpdir(), "meshlet-watch-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const clock = { nowMs: () => 0 };
const kinds = [serviceProfileKind({ clock })];
const wallClock = { nowMs: () => 1_700_000_000_000 };

class RecordingLogger implements ReloadLogger {
  readonly lines: { level: string; message: string; fields?: LogFields | undefined }[] = [];
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: "error", message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: "warn", message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: "info", message, fields });
  }
}

function profile(name: string, routeName: string, regex: string, budget = "{retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 10s}"): string {
  return `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: ${name}
spec:
  routes:
  - name: ${routeName}
    condition:
      pathRegex: ${JSON.stringify(regex)}
  retryBudget: ${budget}
`;
}

/** Writes via a hidden temp file and rename, so a reload never sees a half-written file. */
function put(path: string, text: string): void {
  const tmp = join(path, "..", `.${path.replace(/.*\//, "")}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Polls until `done()` holds; fails after a generous bound (a hang guard, not a timing assert). */
async function eventually(what: string, done: () => boolean, boundMs = 10_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for: ${what}`);
    await Bun.sleep(10);
  }
}

const routeNameOf = (snap: ConfigSnapshot, host: string, path: string) =>
  routeFor(snap.profiles.byName.get(host), "GET", path).name;

async function metric(registry: Registry, name: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

async function reloads(registry: Registry, result: "success" | "failure"): Promise<number> {
  const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(`meshlet_config_reloads_total{result="${result}"} `));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

let active: ConfigWatch | undefined;
afterEach(() => {
  active?.close();
  active = undefined;
});

function start(dir: string, registry: Registry, log: ReloadLogger, pollIntervalMs = 100): ConfigWatch {
  const initial = loadConfigDir(dir, { kinds });
  if (!initial.ok) throw new Error("initial load failed");
  active = watchConfigDir({ dir, initial: initial.snapshot, kinds, wallClock, log, registry, pollIntervalMs, debounceMs: 50 });
  return active;
}

describe("watchConfigDir", () => {
  test("applies changes; a broken file keeps the last good routes; fixing it applies again", async () => {
    const dir = join(root, "reload");
    mkdirSync(dir);
    const books = "books.default.svc.cluster.local";
    put(join(dir, "books.yaml"), profile(books, "v1", "/v1/.*"));
    const registry = new Registry();
    const log = new RecordingLogger();
    const w = start(dir, registry, log);
    const generations: number[] = [];
    w.config.subscribe((s) => generations.push(s.generation));
    expect(routeNameOf(w.config.get(), books, "/v1/x")).toBe("v1");
    expect(await metric(registry, "meshlet_config_last_reload_successful")).toBe(1);
    // The start-up load counts once (the watcher's own re-check of unchanged content adds nothing).
    expect(await reloads(registry, "success")).toBe(1);

    // 1. A valid change applies.
    put(join(dir, "books.yaml"), profile(books, "v2", "/v2/.*"));
    await eventually("v2 applied", () => routeNameOf(w.config.get(), books, "/v2/x") === "v2");
    const good = w.config.get();
    expect(good.generation).toBe(2);
    expect(await reloads(registry, "success")).toBeGreaterThanOrEqual(2);
    expect(await reloads(registry, "failure")).toBe(0);

    // 2. A broken file (in another file of the set) is rejected as a whole: v2 stays in force.
    put(join(dir, "authors.yaml"), profile("authors.default.svc.cluster.local", "bad", "/(a)\\1"));
    await eventually("rejection noticed", () => !w.status.get().ok);
    expect(w.config.get()).toBe(good);
    expect(routeNameOf(w.config.get(), books, "/v2/x")).toBe("v2");
    expect(w.config.get().profiles.byName.has("authors.default.svc.cluster.local")).toBe(false);
    const status = w.status.get();
    expect(status.generation).toBe(2);
    expect(status.problems.map((p) => [p.file.replace(/.*\//, ""), p.path])).toEqual([
      ["authors.yaml", "spec.routes[0].condition.pathRegex"],
    ]);
    const errors = log.lines.filter((l) => l.level === "error");
    expect(errors.some((l) => l.message.includes("keeping the last good configuration"))).toBe(true);
    const located = errors.filter((l) => l.message === "config error").map((l) => String(l.fields?.problem));
    expect(located.some((p) => p.includes("authors.yaml:9") && p.includes("backreference"))).toBe(true);
    // Stable messages: the directory is a field, not part of the text.
    expect(errors.find((l) => l.message === "config change rejected; keeping the last good configuration")?.fields?.dir).toBe(dir);
    expect(await metric(registry, "meshlet_config_last_reload_successful")).toBe(0);
    expect(await metric(registry, "meshlet_config_errors")).toBe(1);
    expect(await reloads(registry, "failure")).toBeGreaterThanOrEqual(1);

    // 3. Fixing the file applies the whole set.
    put(join(dir, "authors.yaml"), profile("authors.default.svc.cluster.local", "fixed", "/a/.*"));
    await eventually("fix applied", () => w.config.get().profiles.byName.has("authors.default.svc.cluster.local"));
    expect(w.status.get().ok).toBe(true);
    expect(w.config.get().generation).toBe(3);
    expect(routeNameOf(w.config.get(), books, "/v2/x")).toBe("v2");
    expect(await metric(registry, "meshlet_config_last_reload_successful")).toBe(1);
    expect(await metric(registry, "meshlet_config_errors")).toBe(0);
    expect(await metric(registry, "meshlet_config_last_reload_success_timestamp_seconds")).toBe(1_700_000_000);
    expect(generations).toEqual([2, 3]);
  });

  test("a hostile file (10,000 levels of nesting) dropped into the live directory: failure counted, last good kept", async () => {
    const dir = join(root, "hostile");
    mkdirSync(dir);
    const name = "h.default.svc.cluster.local";
    put(join(dir, "h.yaml"), profile(name, "good", "/.*"));
    const registry = new Registry();
    const log = new RecordingLogger();
    const w = start(dir, registry, log);
    const good = w.config.get();

    put(join(dir, "deep.yaml"), "[".repeat(10_000) + "]".repeat(10_000));
    await eventually("rejection noticed", () => !w.status.get().ok);
    expect(w.config.get()).toBe(good);
    expect(w.status.get().problems.map((p) => [p.file.replace(/.*\//, ""), p.doc, p.line, p.column])).toEqual([["deep.yaml", 1, 1, 101]]);
    expect(await metric(registry, "meshlet_config_last_reload_successful")).toBe(0);
    expect(await reloads(registry, "failure")).toBeGreaterThanOrEqual(1);
    const problem = log.lines.find((l) => l.level === "error" && l.message === "config error")?.fields;
    expect([String(problem?.problem), problem?.line, problem?.column]).toEqual([expect.stringContaining("deep.yaml:1:101"), 1, 101]);
    expect(String(problem?.problem)).toContain("nesting deeper");

    rmSync(join(dir, "deep.yaml"));
    await eventually("valid again", () => w.status.get().ok);
    expect(await metric(registry, "meshlet_config_last_reload_successful")).toBe(1);
    expect(w.config.get().profiles.byName.get(name)?.routes[0]?.name).toBe("good");
  });

  test("fs.watch alone delivers a change (polling effectively off)", async () => {
    const dir = join(root, "events");
    mkdirSync(dir);
    const name = "g.default.svc.cluster.local";
    put(join(dir, "g.yaml"), profile(name, "before", "/.*"));
    const w = start(dir, new Registry(), new RecordingLogger(), 3_600_000);
    put(join(dir, "g.yaml"), profile(name, "after", "/.*"));
    await eventually("event-driven reload", () => w.config.get().profiles.byName.get(name)?.routes[0]?.name === "after");
  });

  test("a budget survives a reload that does not change it", async () => {
    const dir = join(root, "budget");
    mkdirSync(dir);
    const name = "b.default.svc.cluster.local";
    put(join(dir, "b.yaml"), profile(name, "r1", "/.*"));
    const w = start(dir, new Registry(), new RecordingLogger(), 60_000);
    const before = w.config.get().profiles.byName.get(name)!.budget;

    put(join(dir, "b.yaml"), profile(name, "r2", "/.*"));
    w.reload();
    expect(w.config.get().profiles.byName.get(name)!.routes[0]!.name).toBe("r2");
    expect(w.config.get().profiles.byName.get(name)!.budget).toBe(before);

    put(join(dir, "b.yaml"), profile(name, "r2", "/.*", "{retryRatio: 0.5, minRetriesPerSecond: 1, ttl: 1s}"));
    w.reload();
    expect(w.config.get().profiles.byName.get(name)!.budget).not.toBe(before);
  });

  test("reloading unchanged content keeps the generation", () => {
    const dir = join(root, "unchanged");
    mkdirSync(dir);
    put(join(dir, "b.yaml"), profile("c.default.svc.cluster.local", "r", "/.*"));
    const w = start(dir, new Registry(), new RecordingLogger(), 60_000);
    const snap = w.config.get();
    expect(w.reload().ok).toBe(true);
    expect(w.config.get()).toBe(snap);
  });

  test("the directory may disappear (empty set) and come back (polling re-arms the watch)", async () => {
    const dir = join(root, "comes-and-goes");
    mkdirSync(dir);
    const name = "d.default.svc.cluster.local";
    put(join(dir, "d.yaml"), profile(name, "r", "/.*"));
    const w = start(dir, new Registry(), new RecordingLogger());

    renameSync(dir, `${dir}.away`);
    await eventually("empty set", () => w.config.get().profiles.byName.size === 0);
    expect(w.status.get().ok).toBe(true);

    renameSync(`${dir}.away`, dir);
    await eventually("back", () => w.config.get().profiles.byName.has(name));
    put(join(dir, "e.yaml"), profile("e.default.svc.cluster.local", "r", "/.*"));
    await eventually("new file seen", () => w.config.get().profiles.byName.has("e.default.svc.cluster.local"));
  });

  test("a directory created after startup is picked up", async () => {
    const dir = join(root, "late");
    const w = start(dir, new Registry(), new RecordingLogger());
    expect(w.config.get().profiles.byName.size).toBe(0);
    mkdirSync(dir);
    put(join(dir, "f.yaml"), profile("f.default.svc.cluster.local", "r", "/.*"));
    await eventually("late dir loaded", () => w.config.get().profiles.byName.size === 1);
  });
});
