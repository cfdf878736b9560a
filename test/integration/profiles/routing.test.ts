// Route selection end to end: profile by authority, first matching route (method, anchored pathRegex
// without the query, all/any/not) → rt_route in the Prometheus text; the default route has no label;
// hosts without a profile get no route series; reloads apply from the next request, bad ones never.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { serviceProfileKind } from "../../../src/profiles/kind.ts";
import { loadConfigDir } from "../../../src/resources/config-dir.ts";
import { watchConfigDir } from "../../../src/resources/watch.ts";
import { FakeClock, metric, profileSetFromYaml, response, scriptedUpstream, send, startProfiledProxy } from "../../support/profiles.ts";

const HOST = "books.default.svc.cluster.local:8080";

const booksProfile = (routes: string) => `
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: books.default.svc.cluster.local
spec:
  routes:
${routes}`;

test("requests are labelled with the first matching route; the rest take the unlabelled default route", async () => {
  const up = scriptedUpstream(() => response(200, "ok"));
  const profiles = profileSetFromYaml(
    booksProfile(`
  - name: get-book
    condition: { method: GET, pathRegex: "/books/[0-9]+" }
  - name: write-books
    condition:
      all:
      - any: [{ method: POST }, { method: PUT }]
      - pathRegex: /books(/.*)?
  - name: delete-outside-admin
    condition:
      all:
      - method: DELETE
      - not: { pathRegex: /admin/.* }
  - name: shadowed
    condition: { method: GET, pathRegex: "/books/1" }
`),
  );
  const p = startProfiledProxy({ profiles, upstreamPort: up.port });
  try {
    const requests: Array<[string, string]> = [
      ["GET", "/books/12?sort=asc"], // get-book: the query is not matched
      ["GET", "/books/1"], // get-book: first match wins over "shadowed"
      ["GET", "/books/12/reviews"], // default: the regex is anchored at the end
      ["POST", "/books"], // write-books
      ["PUT", "/books/7"], // write-books
      ["DELETE", "/books/7"], // delete-outside-admin
      ["DELETE", "/admin/users"], // default: not() excludes it
      ["get", "/books/3"], // default: methods are case-sensitive
    ];
    for (const [method, path] of requests) {
      const res = await send(p.port, { method, path, host: HOST, ...(method === "POST" || method === "PUT" ? { body: "{}" } : {}) });
      expect(res.status).toBe(200);
    }
    // A host without a profile passes untouched and leaves no route series.
    expect((await send(p.port, { path: "/books/1", host: "authors.default.svc.cluster.local:8080" })).status).toBe(200);

    const count = (rt_route: string | undefined) =>
      metric(p.registry, "route_request_total", { direction: "outbound", dst: HOST, rt_route });
    expect(await count("get-book")).toBe(2);
    expect(await count("write-books")).toBe(2);
    expect(await count("delete-outside-admin")).toBe(1);
    expect(await count("shadowed")).toBe(0);
    expect(await count(undefined)).toBe(3);
    expect(await metric(p.registry, "route_request_total")).toBe(8);
    const text = await p.registry.metrics();
    expect(text).toContain(`route_request_total{direction="outbound",dst="${HOST}"} 3`);
    expect(text).not.toContain("authors");
    expect(up.requests.map((r) => `${r.method} ${r.path}`)).toEqual([...requests.map(([m, path]) => `${m} ${path}`), "GET /books/1"]);
  } finally {
    p.stop();
    up.stop();
  }
});

test("a reload (a new Watch value) changes routing from the next request on", async () => {
  const up = scriptedUpstream(() => response(200, "ok"));
  const clock = new FakeClock();
  const v1 = profileSetFromYaml(booksProfile("  - name: v1\n    condition: { pathRegex: /x }\n"), clock);
  const p = startProfiledProxy({ profiles: v1, upstreamPort: up.port });
  try {
    await send(p.port, { path: "/x", host: HOST });
    p.config.set({ profiles: profileSetFromYaml(booksProfile("  - name: v2\n    condition: { pathRegex: /x }\n"), clock, v1) });
    await send(p.port, { path: "/x", host: HOST });
    await send(p.port, { path: "/x", host: HOST });
    expect(await metric(p.registry, "route_request_total", { rt_route: "v1" })).toBe(1);
    expect(await metric(p.registry, "route_request_total", { rt_route: "v2" })).toBe(2);
  } finally {
    p.stop();
    up.stop();
  }
});

test("hot reload from a config directory: an edit applies, a broken file keeps the last good routes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "meshlet-profiles-"));
  const file = join(dir, "books.yaml");
  const up = scriptedUpstream(() => response(200, "ok"));
  const clock = new FakeClock();
  const logged: string[] = [];
  const log = { error: (m: string) => void logged.push(m), warn: () => {}, info: () => {} };
  writeFileSync(file, booksProfile("  - name: before\n    condition: { pathRegex: /x }\n"));
  const kinds = [serviceProfileKind({ clock })];
  const initial = loadConfigDir(dir, { kinds });
  if (!initial.ok) throw new Error("fixture did not load");
  const watch = watchConfigDir({ dir, initial: initial.snapshot, kinds, wallClock: clock, log, registry: new Registry(), pollIntervalMs: 60_000 });
  const p = startProfiledProxy({ profiles: initial.snapshot.profiles, upstreamPort: up.port, generations: watch.config });
  try {
    await send(p.port, { path: "/x", host: HOST });
    writeFileSync(file, booksProfile("  - name: after\n    condition: { pathRegex: /x }\n"));
    expect(watch.reload().ok).toBe(true);
    await send(p.port, { path: "/x", host: HOST });
    writeFileSync(file, booksProfile("  - name: broken\n    condition: { pathRegex: '/(?=x)' }\n"));
    expect(watch.reload().ok).toBe(false);
    await send(p.port, { path: "/x", host: HOST });

    expect(await metric(p.registry, "route_request_total", { rt_route: "before" })).toBe(1);
    expect(await metric(p.registry, "route_request_total", { rt_route: "after" })).toBe(2);
    expect(await metric(p.registry, "route_request_total", { rt_route: "broken" })).toBe(0);
    expect(logged.length).toBeGreaterThan(0);
  } finally {
    watch.close();
    p.stop();
    up.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
