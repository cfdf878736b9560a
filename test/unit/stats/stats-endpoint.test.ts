// GET /stats.json's query handling: the window in Go duration syntax (default 1m), bounded by the
// ring; history=1 asks for time series; anything else is a 400 with a one-line reason.
import { expect, test } from "bun:test";
import { statsEndpoint } from "../../../src/admin/stats-endpoint.ts";
import type { StatsReport } from "../../../src/stats/rows.ts";

function recordingSource() {
  const calls: [number, boolean][] = [];
  return {
    calls,
    maxWindowMs: 600_000,
    report(windowMs: number, history: boolean): StatsReport {
      calls.push([windowMs, history]);
      return { windowSeconds: windowMs / 1000, requestedWindowSeconds: windowMs / 1000, snapshotIntervalSeconds: 5, authorities: [], routes: [] };
    },
  };
}

const get = (query: string, method = "GET") => new Request(`http://127.0.0.1:4191/stats.json${query}`, { method });

test("the window defaults to 1m and takes Go durations; history=1 is passed on", async () => {
  const source = recordingSource();
  const res = statsEndpoint(get(""), source);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json");
  expect(((await res.json()) as StatsReport).requestedWindowSeconds).toBe(60);
  statsEndpoint(get("?window=1m30s&history=1"), source);
  statsEndpoint(get("?window=10s&history=0"), source);
  expect(source.calls).toEqual([[60_000, false], [90_000, true], [10_000, false]]);
});

test("bad windows and history values are 400 with one line naming the parameter; other methods 405", async () => {
  const source = recordingSource();
  const cases: [string, string][] = [
    ["?window=soon", 'window: invalid duration "soon" (expected a duration like 10s, 1m or 5m)\n'],
    ["?window=10", 'window: missing unit in duration "10" (expected a duration like 10s, 1m or 5m)\n'],
    ["?window=11m", 'window: "11m" is out of range (more than 0, at most 600s)\n'],
    ["?window=0s", 'window: "0s" is out of range (more than 0, at most 600s)\n'],
    ["?history=yes", 'history: expected 1 or 0 (got "yes")\n'],
  ];
  for (const [query, body] of cases) {
    const res = statsEndpoint(get(query), source);
    expect([query, res.status, await res.text()]).toEqual([query, 400, body]);
  }
  expect(statsEndpoint(get("", "POST"), source).status).toBe(405);
  expect(source.calls).toEqual([]);
});
