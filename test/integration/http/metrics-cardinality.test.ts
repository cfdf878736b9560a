// Metric cardinality under a flood, through a real meshlet process: 100,000 distinct outbound Host
// headers (and thousands of inbound `<profile>:<port>` authorities) leave at most cap + 1 series per
// family, a small scrape and a bounded RSS, count the folds, and the series are gone after the window.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { flood } from "../../support/http-flood.ts";
import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

const CAP = 100;
const RETAIN_IDLE = "1s";
const FLOOD_REQUESTS = 100_000;
const INBOUND_PORTS = 5_000;
/** Generous: the proxy idles at ~70 MB; unbounded series reached ~600 MB after only 20,000 Hosts. */
const MAX_RSS_MB = 350;
/** cap + 1 series, each with one status: ~5.5 KB each in the endpoint families. */
const MAX_SCRAPE_BYTES = 1_000_000;

let backend: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;

beforeAll(async () => {
  backend = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  const dir = mkdtempSync(join(tmpdir(), "meshlet-cardinality-"));
  writeFileSync(
    join(dir, "localhost.yaml"),
    `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: localhost
spec:
  routes:
  - name: root
    condition: { method: GET, pathRegex: / }
`,
  );
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`,
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${backend.port}`,
    MESHLET_METRICS_RETAIN_IDLE: RETAIN_IDLE,
    MESHLET_METRICS_MAX_SERIES_PER_FAMILY: String(CAP),
  });
});

afterAll(async () => {
  await proxy.stop();
  backend.stop(true);
});

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** Sample lines of `family` (a counter: one line per series) matching `labels`. */
function seriesLines(text: string, family: string, labels: Record<string, string>): string[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${family}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
}

/** Scrapes until `done(text)` holds, at most `timeoutMs`; returns the last scrape. */
async function scrapeUntil(done: (text: string) => boolean, timeoutMs: number): Promise<string> {
  let text = await proxy.metrics();
  for (let waited = 0; !done(text) && waited < timeoutMs; waited += 200) {
    await Bun.sleep(200);
    text = await proxy.metrics();
  }
  return text;
}

describe("bounded HTTP metrics", () => {
  test("100,000 distinct outbound Host headers: series, scrape and RSS stay bounded, then drain", async () => {
    const outbound = { direction: "outbound" };
    // Prometheus scrapes while the traffic runs: every scrape must stay small.
    const scrapes: { bytes: number; series: number }[] = [];
    let flooding = true;
    const scraper = (async () => {
      while (flooding) {
        const text = await proxy.metrics();
        scrapes.push({ bytes: text.length, series: seriesLines(text, "request_total", outbound).length });
        await Bun.sleep(250);
      }
    })();
    const result = await flood({
      port: proxy.outboundPorts[1]!,
      total: FLOOD_REQUESTS,
      connections: 4,
      batch: 64,
      timeoutMs: 120_000,
      request: (i) => `GET / HTTP/1.1\r\nhost: h${i}.flood.test\r\n\r\n`,
    }).finally(() => {
      flooding = false;
    });
    await scraper;
    expect(result.responses).toBe(FLOOD_REQUESTS);
    expect([...result.statuses]).toEqual([[200, FLOOD_REQUESTS]]);

    const text = await proxy.metrics();
    scrapes.push({ bytes: text.length, series: seriesLines(text, "request_total", outbound).length });
    for (const s of scrapes) {
      expect(s.series).toBeLessThanOrEqual(CAP + 1);
      expect(s.bytes).toBeLessThan(MAX_SCRAPE_BYTES);
    }
    // Each new Host is one lookup; all but the label sets that got a series were folded.
    const folds = metricValue(text, "meshlet_metrics_series_overflow_total", { family: "http_endpoint", direction: "outbound" });
    expect(folds).toBeLessThanOrEqual(FLOOD_REQUESTS - CAP);
    expect(folds).toBeGreaterThanOrEqual(FLOOD_REQUESTS - CAP * scrapes.length);
    expect(rssMb(proxy.pid)).toBeLessThan(MAX_RSS_MB);

    // After the retain window every outbound series is gone (the fold counter stays).
    const drained = await scrapeUntil((t) => seriesLines(t, "request_total", outbound).length === 0, 15_000);
    expect(seriesLines(drained, "request_total", outbound)).toEqual([]);
    expect(seriesLines(drained, "response_total", outbound)).toEqual([]);
    expect(drained.split("\n").filter((l) => l.startsWith("response_latency_ms_bucket{") && l.includes('direction="outbound"'))).toEqual([]);
    expect(metricValue(drained, "meshlet_metrics_series_overflow_total", { family: "http_endpoint", direction: "outbound" })).toBe(folds);
    expect(rssMb(proxy.pid)).toBeLessThan(MAX_RSS_MB);
  }, 180_000);

  test("inbound `<profile>:<port>` authorities: one route series, whatever port the Host names", async () => {
    const inbound = { direction: "inbound" };
    const result = await flood({
      port: proxy.inboundPort,
      total: INBOUND_PORTS,
      connections: 2,
      batch: 50,
      timeoutMs: 60_000,
      request: (i) => `GET / HTTP/1.1\r\nhost: localhost:${10_000 + i}\r\n\r\n`,
    });
    expect(result.responses).toBe(INBOUND_PORTS);
    const text = await proxy.metrics();
    // Inbound, dst is the profile's name with the app's port, not the port the Host header names.
    const routes = seriesLines(text, "route_request_total", inbound);
    expect(routes.length).toBe(1);
    expect(routes[0]).toContain(`dst="localhost:`);
    expect(metricValue(text, "meshlet_metrics_series_overflow_total", { family: "http_route", direction: "inbound" })).toBe(0);
    // The endpoint families ignore the inbound authority, as Linkerd's do: one target.
    expect(seriesLines(text, "request_total", inbound).length).toBe(1);
    const drained = await scrapeUntil((t) => seriesLines(t, "route_request_total", inbound).length === 0, 15_000);
    expect(seriesLines(drained, "route_request_total", inbound)).toEqual([]);
  }, 120_000);

  // The engine's caches re-fetch a series the metrics evicted (series.evicted).
  test("a Host that comes back after the retain window is counted again", async () => {
    const send = async () => {
      const r = await flood({ port: proxy.outboundPorts[1]!, total: 1, connections: 1, batch: 1, timeoutMs: 10_000, request: () => "GET / HTTP/1.1\r\nhost: comes-back.test\r\n\r\n" });
      expect(r.responses).toBe(1);
    };
    const series = (t: string) => seriesLines(t, "request_total", { authority: "comes-back.test" });
    await send();
    expect(series(await proxy.metrics()).length).toBe(1);
    const drained = await scrapeUntil((t) => series(t).length === 0, 15_000);
    expect(series(drained)).toEqual([]);
    await send();
    expect(series(await proxy.metrics())).toEqual([expect.stringMatching(/ 1$/)]);
  }, 60_000);
});
