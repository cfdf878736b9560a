// Linkerd's `process_*` families (kubert-prometheus-process), read from /proc/self at scrape time:
// prom-client's default collectors would do the same at ~6 MB of RSS for modules meshlet does not need.
import { readdirSync, readFileSync } from "node:fs";
import { Counter, Gauge, type Registry } from "./prom-client.ts";
import { registry as sharedRegistry } from "./registry.ts";

/** What /proc says about this process; undefined where a file cannot be read (not Linux). */
export interface ProcessStats {
  readonly cpuSeconds: number;
  readonly startTimeSeconds: number;
  readonly residentBytes: number;
  readonly virtualBytes: number;
  readonly threads: number;
  readonly openFds: number;
  readonly maxFds: number;
}

const PAGE_BYTES = 4096;
// USER_HZ: the unit of /proc/PID/stat times; 100 on every Linux ABI Bun runs on.
const CLOCK_TICKS_PER_S = 100;

/** Reads /proc/self/{stat,fd,limits} and /proc/stat (boot time). */
export function readProcessStats(): ProcessStats | undefined {
  let stat: string, limits: string, system: string;
  try {
    stat = readFileSync("/proc/self/stat", "utf8");
    limits = readFileSync("/proc/self/limits", "utf8");
    system = readFileSync("/proc/stat", "utf8");
  } catch {
    return undefined;
  }
  // Fields after the command name (which may hold spaces): state is field 3, so index i is field i + 3.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  const bootTimeS = Number(/^btime (\d+)$/m.exec(system)?.[1] ?? 0);
  const maxFds = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  return {
    cpuSeconds: (f[11]! + f[12]!) / CLOCK_TICKS_PER_S,
    startTimeSeconds: bootTimeS + f[19]! / CLOCK_TICKS_PER_S,
    threads: f[17]!,
    virtualBytes: f[20]!,
    residentBytes: f[21]! * PAGE_BYTES,
    // The directory listing holds one fd of its own while it is read.
    openFds: readdirSync("/proc/self/fd").length - 1,
    maxFds: maxFds === undefined || maxFds === "unlimited" ? Infinity : Number(maxFds),
  };
}

/** Registers the process_* families; each scrape reads /proc once. */
export function registerProcessMetrics(registry: Registry = sharedRegistry, read: () => ProcessStats | undefined = readProcessStats): void {
  let current: ProcessStats | undefined;
  // Registered first, so its collect (which reads /proc) runs before the gauges' in every scrape.
  new Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds.",
    registers: [registry],
    collect() {
      current = read();
      if (current === undefined) return;
      this.reset();
      this.inc(current.cpuSeconds);
    },
  });
  const gauge = (name: string, help: string, value: (s: ProcessStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        if (current !== undefined) this.set(value(current));
      },
    });
  gauge("process_start_time_seconds", "Time that the process started (in seconds since the UNIX epoch).", (s) => s.startTimeSeconds);
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", (s) => s.residentBytes);
  gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", (s) => s.virtualBytes);
  gauge("process_open_fds", "Number of open file descriptors.", (s) => s.openFds);
  gauge("process_max_fds", "Maximum number of open file descriptors.", (s) => s.maxFds);
  gauge("process_threads", "Number of OS threads in the process.", (s) => s.threads);
}
