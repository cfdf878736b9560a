// The admin dashboard: a real meshlet serves the page and its assets (types, caching, 404 outside the
// list), and headless Chromium shows rows, drawn sparklines and tap events for traffic sent through
// that meshlet, from its real /stats.json and tap server (and the tap-off page from a second meshlet).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";

import { tapUrl } from "../../../src/admin/dashboard.ts";
import { type DashboardTraffic, type TapRequest, checkDashboard, launchChromium } from "../../support/dashboard-check.ts";
import { type RunningProxy, startProxy } from "../../support/proxy.ts";

const PROFILE = `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: localhost
spec:
  routes:
  - name: GET /books
    condition: { method: GET, pathRegex: "/books(/.*)?" }
  - name: POST /books
    condition: { method: POST, pathRegex: "/books(/.*)?" }
`;

let backend: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;
let dir: string;
let adminUrl: string;

beforeAll(async () => {
  backend = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => (new URL(request.url).pathname === "/fail" ? new Response("boom", { status: 500 }) : new Response("a book")),
  });
  dir = mkdtempSync(join(tmpdir(), "meshlet-dashboard-"));
  writeFileSync(join(dir, "localhost.yaml"), PROFILE);
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${backend.port}`,
  });
  adminUrl = `http://127.0.0.1:${proxy.adminPort}`;
});

afterAll(async () => {
  await proxy.stop();
  backend.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

describe("assets", () => {
  test("the page, its script and styles, and the pinned libraries, each with its type and caching", async () => {
    const expected: [string, string, string][] = [
      ["/", "text/html; charset=utf-8", "no-cache"],
      ["/dashboard/dashboard.js", "text/javascript; charset=utf-8", "no-cache"],
      ["/dashboard/dashboard.css", "text/css; charset=utf-8", "no-cache"],
      ["/dashboard/uPlot.min.js", "text/javascript; charset=utf-8", "public, max-age=86400"],
      ["/dashboard/uPlot.min.css", "text/css; charset=utf-8", "public, max-age=86400"],
      ["/dashboard/msgpackr.min.js", "text/javascript; charset=utf-8", "public, max-age=86400"],
    ];
    for (const [path, type, cache] of expected) {
      const res = await fetch(adminUrl + path);
      const body = await res.text();
      expect({ path, status: res.status, type: res.headers.get("content-type"), cache: res.headers.get("cache-control") }).toEqual({ path, status: 200, type, cache });
      expect(body.length).toBeGreaterThan(500);
    }
    expect(await (await fetch(`${adminUrl}/`)).text()).toContain('<script src="/dashboard/dashboard.js">');
    expect(await (await fetch(`${adminUrl}/dashboard/uPlot.min.js`)).text()).toContain("uPlot");
    expect(await (await fetch(`${adminUrl}/dashboard/msgpackr.min.js`)).text()).toContain("msgpackr");
  });

  test("a repeated request with the ETag is a 304", async () => {
    const first = await fetch(`${adminUrl}/dashboard/uPlot.min.js`);
    await first.arrayBuffer();
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    const again = await fetch(`${adminUrl}/dashboard/uPlot.min.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  test("paths outside the asset list are 404, traversal included; other methods are 405", async () => {
    for (const path of ["/dashboard/", "/dashboard/index.html", "/dashboard/nope.js", "/dashboard/%2e%2e/%2e%2e/package.json", "/dashboard/..%2fadmin%2fserver.ts", "/index.html"]) {
      const res = await fetch(adminUrl + path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    const post = await fetch(`${adminUrl}/`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  test("/dashboard/config.json names the tap WebSocket, by the browser's host for a wildcard listener", async () => {
    const res = await fetch(`${adminUrl}/dashboard/config.json`);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect((await res.json()) as object).toEqual({ tapUrl: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/tap$/) });
    expect(tapUrl(null, "127.0.0.1")).toBeNull();
    expect(tapUrl({ host: "127.0.0.1", port: 4190 }, "localhost")).toBe("ws://127.0.0.1:4190/tap");
    expect(tapUrl({ host: "0.0.0.0", port: 4190 }, "10.1.2.3")).toBe("ws://10.1.2.3:4190/tap");
    expect(tapUrl({ host: "::", port: 4190 }, "[fd00::1]")).toBe("ws://[fd00::1]:4190/tap");
    expect(tapUrl({ host: "::1", port: 4190 }, "[::1]")).toBe("ws://[::1]:4190/tap");
  });
});

describe("in Chromium", () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Requests through `through`'s outbound listener to the backend, one after another. */
  function outboundTraffic(through: RunningProxy = proxy): DashboardTraffic {
    const port = through.outboundPorts[0]!;
    // Outbound resolves the Host authority: name the backend (the listener itself would be a loop, 508).
    const authority = `localhost:${backend.port}`;
    return {
      authorityKeys: [`outbound ${authority}`],
      routeKeys: [`outbound ${authority} GET /books`, `outbound ${authority} POST /books`, `outbound ${authority} [DEFAULT]`],
      async send(requests) {
        for (const r of requests) {
          const body = r.method === "POST" ? '{"title":"Dune"}' : undefined;
          const res = await fetch(`http://127.0.0.1:${port}${r.path}`, { method: r.method, body, headers: { host: authority } });
          await res.arrayBuffer();
        }
      },
    };
  }

  test("rows with drawn charts for the traffic sent, live tap events, the tap filter and pause", async () => {
    const traffic = outboundTraffic();
    const report = await checkDashboard(adminUrl, traffic, browser);

    expect(report.pageErrors).toEqual([]);
    for (const key of traffic.authorityKeys) expect(report.authorityRows).toContain(key);
    for (const key of traffic.routeKeys) expect(report.routeRows).toContain(key);
    expect(report.tapRowsUnfiltered).toEqual(expect.arrayContaining(["GET /books 200", "POST /books 200", "GET /fail 500"]));
    expect(report.refusedFilterStatus).toMatch(/^tap refused the subscription: \w+: .*unclosed/);
    // The filter went to the tap server as a subscription: only matching events came back.
    expect(report.tapRowsFiltered).toContain("GET /books/last 200");
    expect(report.tapRowsFiltered.filter((row) => !row.startsWith("GET /books"))).toEqual([]);
    // Paused: the request sent meanwhile never shows; resumed: the probe does.
    expect(report.tapRowsAfterPause).toContain("GET /books/probe-resumed 200");
    expect(report.tapRowsAfterPause.filter((row) => row.includes("while-paused"))).toEqual([]);
  });

  test("with tap off, the page says so and still shows the stats", async () => {
    const tapOff = await startProxy({
      MESHLET_CONFIG_DIR: dir,
      MESHLET_EXTERNAL_PROFILES: "true",
      MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${backend.port}`,
      MESHLET_TAP_LISTEN: "off",
    });
    try {
      const page = await browser.newPage();
      try {
        await outboundTraffic(tapOff).send([{ method: "GET", path: "/books" }]);
        await page.goto(`http://127.0.0.1:${tapOff.adminPort}`, { timeout: 20_000 });
        await page.waitForSelector("#tap-status:text('tap is off')", { timeout: 20_000 });
        await page.waitForSelector(`#authorities tbody tr[data-key="outbound localhost:${backend.port}"]`, { timeout: 20_000 });
        expect(await page.isDisabled("#tap-pause")).toBe(true);
      } finally {
        await page.close();
      }
    } finally {
      await tapOff.stop(); // also when the browser is gone: the proxy process must not outlive the test
    }
  });
});
