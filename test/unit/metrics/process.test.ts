// process_* families read from /proc: Linkerd's names and types, the values of a given reading, and
// the real /proc of this test process.
import { expect, test } from "bun:test";
import { Registry } from "prom-client";
import { type ProcessStats, readProcessStats, registerProcessMetrics } from "../../../src/metrics/process.ts";

const valueOf = (text: string, name: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

test("each family renders the reading of its scrape, with Linkerd's names and types", async () => {
  const stats: ProcessStats = { cpuSeconds: 1.5, startTimeSeconds: 1_700_000_000.25, residentBytes: 41 << 20, virtualBytes: 900 << 20, threads: 7, openFds: 12, maxFds: 20000 };
  let reads = 0;
  const registry = new Registry();
  registerProcessMetrics(registry, () => (reads++, stats));
  const text = await registry.metrics();
  expect(reads).toBe(1);
  expect(text).toContain("# TYPE process_cpu_seconds_total counter");
  expect(text).toContain("# TYPE process_resident_memory_bytes gauge");
  expect(valueOf(text, "process_cpu_seconds_total")).toBe(1.5);
  expect(valueOf(text, "process_start_time_seconds")).toBe(1_700_000_000.25);
  expect(valueOf(text, "process_resident_memory_bytes")).toBe(41 << 20);
  expect(valueOf(text, "process_virtual_memory_bytes")).toBe(900 << 20);
  expect(valueOf(text, "process_threads")).toBe(7);
  expect(valueOf(text, "process_open_fds")).toBe(12);
  expect(valueOf(text, "process_max_fds")).toBe(20000);
  // The counter follows the process (reset to the reading), not the sum of scrapes.
  const again = await registry.metrics();
  expect(valueOf(again, "process_cpu_seconds_total")).toBe(1.5);
  expect(reads).toBe(2);
});

test("a scrape where /proc cannot be read still renders", async () => {
  const registry = new Registry();
  registerProcessMetrics(registry, () => undefined);
  expect(await registry.metrics()).toContain("# TYPE process_open_fds gauge");
});

test("/proc/self of this process gives plausible values", () => {
  const s = readProcessStats()!;
  const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(require("node:fs").readFileSync("/proc/self/status", "utf8"))![1]);
  expect(s.residentBytes).toBeGreaterThan(0);
  expect(Math.abs(s.residentBytes / 1024 - rssKb)).toBeLessThan(rssKb / 2);
  expect(s.threads).toBeGreaterThan(0);
  expect(s.openFds).toBeGreaterThanOrEqual(3);
  expect(s.maxFds).toBeGreaterThan(s.openFds);
  expect(s.startTimeSeconds).toBeLessThanOrEqual(Date.now() / 1000 + 1);
  expect(s.startTimeSeconds).toBeGreaterThan(Date.now() / 1000 - 86_400);
  expect(s.cpuSeconds).toBeGreaterThan(0);
});
