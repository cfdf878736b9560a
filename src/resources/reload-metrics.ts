// Config-reload metric families (named after Prometheus's own `prometheus_config_last_reload_*`),
// so an invalid config file that is being ignored shows up on /metrics and can be alerted on.
import { Counter, Gauge, type Registry } from "../metrics/prom-client.ts";
import { registry as sharedRegistry } from "../metrics/registry.ts";

export interface ReloadMetrics {
  /** 1 when the latest load of the config directory succeeded, 0 while the last good one is kept. */
  readonly lastReloadSuccessful: Gauge;
  /** Unix time (seconds) of the latest successful load. */
  readonly lastSuccessTimestampSeconds: Gauge;
  /** Number of errors in the latest load (0 when it succeeded). */
  readonly errors: Gauge;
  /** Loads attempted, by result="success|failure" (the initial load included). */
  readonly reloadsTotal: Counter<"result">;
}

const byRegistry = new WeakMap<Registry, ReloadMetrics>();

/** The families registered on `registry` (the shared one by default); created once per registry. */
export function reloadMetrics(registry: Registry = sharedRegistry): ReloadMetrics {
  const existing = byRegistry.get(registry);
  if (existing !== undefined) return existing;
  const registers = [registry];
  const m: ReloadMetrics = {
    lastReloadSuccessful: new Gauge({
      name: "meshlet_config_last_reload_successful",
      help: "Whether the latest load of the config directory succeeded (0: an invalid change is ignored and the last good configuration stays in force).",
      registers,
    }),
    lastSuccessTimestampSeconds: new Gauge({
      name: "meshlet_config_last_reload_success_timestamp_seconds",
      help: "Unix time of the latest successful load of the config directory.",
      registers,
    }),
    errors: new Gauge({
      name: "meshlet_config_errors",
      help: "Number of errors found by the latest load of the config directory.",
      registers,
    }),
    reloadsTotal: new Counter({
      name: "meshlet_config_reloads_total",
      help: "Loads of the config directory, by result.",
      labelNames: ["result"] as const,
      registers,
    }),
  };
  byRegistry.set(registry, m);
  return m;
}

/** Records the outcome of one load. `wallClockMs` is Unix time in ms (for the timestamp gauge). */
export function recordReload(m: ReloadMetrics, ok: boolean, errorCount: number, wallClockMs: number): void {
  m.lastReloadSuccessful.set(ok ? 1 : 0);
  m.errors.set(errorCount);
  m.reloadsTotal.inc({ result: ok ? "success" : "failure" });
  if (ok) m.lastSuccessTimestampSeconds.set(wallClockMs / 1000);
}
