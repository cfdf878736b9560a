// The snapshot ring on an injected clock: a window counts `now - newest snapshot at least that old`
// (or everything since start while the process is younger), divides by the span really covered, and
// drops old snapshots so memory stays bounded; history has one point per ring interval.
import { expect, test } from "bun:test";
import { Registry } from "prom-client";
import { HttpMetrics } from "../../../src/metrics/http.ts";
import { RouteMetrics } from "../../../src/metrics/route.ts";
import { CoarseClock } from "../../../src/rt/coarse-clock.ts";
import { outcomeDelta } from "../../../src/stats/counter-snapshot.ts";
import { SnapshotRing } from "../../../src/stats/snapshot-ring.ts";
import type { OpenConnections } from "../../../src/l4/transport-metrics.ts";
import { windowReport } from "../../../src/stats/window-report.ts";

const WALL_EPOCH_MS = 1_764_540_000_000;
const INTERVAL_MS = 5_000;
const MAX_WINDOW_MS = 60_000;

function setup(open: OpenConnections[] = []) {
  const time = { ms: 0 };
  const source = { nowMs: () => time.ms };
  const coarse = new CoarseClock(source);
  const limits = { retainIdleMs: 3_600_000, maxSeriesPerFamily: 100 };
  const registry = new Registry();
  const http = new HttpMetrics(registry, undefined, { clock: coarse, limits });
  const routes = new RouteMetrics(registry, { clock: coarse, limits });
  const ring = new SnapshotRing({ http, routes }, { monotonic: source, wall: { nowMs: () => WALL_EPOCH_MS + time.ms } }, INTERVAL_MS, MAX_WINDOW_MS);
  const web = http.target({ direction: "outbound", authority: "web:8080", targetAddr: "10.0.0.1:8080", targetIp: "10.0.0.1", targetPort: 8080 });
  const web2 = http.target({ direction: "outbound", authority: "web:8080", targetAddr: "10.0.0.2:8080", targetIp: "10.0.0.2", targetPort: 8080 });
  const app = http.target({ direction: "inbound", targetAddr: "127.0.0.1:3000", targetIp: "127.0.0.1", targetPort: 3000 });
  const advanceTo = (ms: number) => {
    time.ms = ms;
    coarse.tick();
  };
  const report = (windowMs: number, history = false) =>
    windowReport(ring.window(windowMs), { requestedWindowMs: windowMs, snapshotIntervalMs: INTERVAL_MS, history, openConnections: () => open });
  /** The outbound web:8080 row of a report. */
  const webRow = (windowMs: number) => report(windowMs).authorities.find((a) => a.authority === "web:8080");
  return { ring, http, routes, web, web2, app, advanceTo, report, webRow };
}

test("a process younger than the window counts everything since start, over the time it has lived", () => {
  const { web, web2, app, advanceTo, report } = setup([
    { direction: "outbound", peer: "dst", targetAddr: "10.0.0.1:8080", open: 2 },
    { direction: "outbound", peer: "dst", targetAddr: "10.0.0.2:8080", open: 1 },
    { direction: "outbound", peer: "src", targetAddr: "10.0.0.1:8080", open: 7 }, // accepted, not this row's
    { direction: "inbound", peer: "src", targetAddr: "127.0.0.1:3000", open: 4 },
  ]);
  advanceTo(2_000);
  for (let i = 0; i < 3; i++) {
    web.recordResponse(200, false);
    web.recordLatency(200, 0.5);
  }
  web2.recordResponse(503, true);
  web2.recordLatency(503, 7);
  app.recordResponse(200, false);
  app.recordLatency(200, 3);
  advanceTo(4_000);
  const r = report(60_000);
  expect(r.windowSeconds).toBe(4);
  expect(r.requestedWindowSeconds).toBe(60);
  expect(r.snapshotIntervalSeconds).toBe(5);
  expect(r.authorities).toEqual([
    {
      direction: "inbound", authority: "127.0.0.1:3000", requests: 1, successes: 1, failures: 0, successRate: 1, rps: 0.25,
      latencyMsP50: 2.5, latencyMsP95: 2.95, latencyMsP99: expect.closeTo(2.99, 10), tcpConnections: 4,
    },
    {
      // Both endpoints of web:8080 in one row; p50: rank 2 of 4, 2 of the 3 samples in (0,1].
      direction: "outbound", authority: "web:8080", requests: 4, successes: 3, failures: 1, successRate: 0.75, rps: 1,
      latencyMsP50: expect.closeTo(2 / 3, 10), latencyMsP95: expect.closeTo(9, 10), latencyMsP99: expect.closeTo(9.8, 10), tcpConnections: 3,
    },
  ]);
});

test("an older process: the base is the newest snapshot at least the window old", () => {
  const { ring, web, advanceTo, report, webRow } = setup();
  advanceTo(1_000);
  web.recordResponse(200, false); // before the 5 s snapshot
  advanceTo(5_000);
  ring.record();
  advanceTo(7_000);
  for (let i = 0; i < 6; i++) web.recordResponse(200, false);
  web.recordResponse(500, true);
  advanceTo(10_000);
  ring.record();
  advanceTo(12_000);
  // A 5 s window at 12 s: the newest snapshot taken at or before 7 s is the one at 5 s.
  expect(webRow(5_000)).toMatchObject({ requests: 7, successes: 6, failures: 1, rps: 1 });
  expect(report(5_000).windowSeconds).toBe(7);
  // A 10 s window at 12 s: nothing as old as 2 s but the start: every request, over 12 s.
  expect(webRow(10_000)).toMatchObject({ requests: 8, successes: 7, rps: 8 / 12 });
  // A 2 s window at 12 s: the 10 s snapshot; nothing happened since.
  expect(webRow(2_000)).toMatchObject({ requests: 0, successRate: null, rps: 0, latencyMsP50: null });
});

test("the ring keeps what the longest window needs and no more", () => {
  const { ring, web, advanceTo, report, webRow } = setup();
  for (let t = INTERVAL_MS; t <= 100_000; t += INTERVAL_MS) {
    advanceTo(t - 1);
    web.recordResponse(200, false); // one request per interval
    advanceTo(t);
    ring.record();
  }
  expect(ring.size).toBe(MAX_WINDOW_MS / INTERVAL_MS + 2);
  // At 100 s a 60 s window starts at the 40 s snapshot: 12 requests in 60 s.
  expect(report(60_000)).toMatchObject({ windowSeconds: 60 });
  expect(webRow(60_000)).toMatchObject({ requests: 12, rps: 0.2 });
  expect(() => ring.window(MAX_WINDOW_MS + 1)).toThrow(RangeError);
});

test("routes: effective and actual counted apart, the default route as [DEFAULT], latency from the effective histogram", () => {
  const { ring, routes, advanceTo, report } = setup();
  const list = routes.stats({ direction: "outbound", dst: "books:8080", route: "list-books" });
  const fallback = routes.stats({ direction: "outbound", dst: "books:8080", route: undefined });
  advanceTo(1_000);
  for (let i = 0; i < 10; i++) {
    list.request();
    list.actualRequest();
    list.actualResponse({ statusCode: 503, classification: "failure" });
    list.actualRequest();
    list.actualResponse({ statusCode: 200, classification: "success" });
    list.response({ statusCode: 200, classification: "success" });
    list.latency(15, 200);
  }
  fallback.response({ classification: "failure", error: "timeout" });
  advanceTo(5_000);
  ring.record();
  advanceTo(10_000);
  const r = report(60_000, true);
  expect(r.routes.map((x) => [x.dst, x.route])).toEqual([["books:8080", "[DEFAULT]"], ["books:8080", "list-books"]]);
  const [def, books] = r.routes;
  expect(books!.effective).toEqual({ requests: 10, successes: 10, failures: 0, successRate: 1, rps: 1 });
  expect(books!.actual).toEqual({ requests: 20, successes: 10, failures: 10, successRate: 0.5, rps: 2 });
  expect(books!.latencyMsP50).toBe(15);
  expect(def!.effective).toMatchObject({ requests: 1, failures: 1, successRate: 0 });
  expect(def!.latencyMsP99).toBeNull();
  // History: one point per interval, stamped with the wall clock at its end.
  expect(books!.history).toEqual([
    { tMs: WALL_EPOCH_MS + 5_000, rps: 2, successRate: 1, latencyMsP99: expect.closeTo(19.9, 10) },
    { tMs: WALL_EPOCH_MS + 10_000, rps: 0, successRate: null, latencyMsP99: null },
  ]);
  // Endpoint series that saw nothing in the window still have a row, as viz lists idle resources.
  expect(r.authorities.map((a) => [a.authority, a.requests, a.history?.length])).toEqual([["127.0.0.1:3000", 0, 2], ["web:8080", 0, 2]]);
});

test("a counter that went down (series expired and came back) counts from zero, as increase() does", () => {
  expect(outcomeDelta({ successes: 3, failures: 0 }, { successes: 10, failures: 2 })).toEqual({ successes: 3, failures: 0 });
  expect(outcomeDelta({ successes: 12, failures: 2 }, { successes: 10, failures: 2 })).toEqual({ successes: 2, failures: 0 });
  expect(outcomeDelta({ successes: 1, failures: 1 }, undefined)).toEqual({ successes: 1, failures: 1 });
});
