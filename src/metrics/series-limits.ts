// The process-wide bounds of metric series: how long an idle series is kept and how many label sets a
// family may hold (MESHLET_METRICS_RETAIN_IDLE, MESHLET_METRICS_MAX_SERIES_PER_FAMILY). Series tables
// read this object at each insert and scrape, so configureMetrics() applies to tables already created.
import { parseConfig } from "../config/env.ts";

export interface SeriesLimits {
  /** A series not updated for longer than this is dropped at the next scrape. */
  retainIdleMs: number;
  /** Label sets per family (and direction); new ones beyond it are folded into the overflow series. */
  maxSeriesPerFamily: number;
}

// The defaults are the SETTINGS table's (one default per setting, there only).
const defaults = parseConfig({});
const processLimits: SeriesLimits = {
  retainIdleMs: defaults.metricsRetainIdleMs,
  maxSeriesPerFamily: defaults.metricsMaxSeriesPerFamily,
};

/** The limits every process-wide metrics object uses (live: later configureMetrics() calls show through). */
export function metricsLimits(): Readonly<SeriesLimits> {
  return processLimits;
}

/** Sets the process-wide limits from the configuration; main calls it once at start-up. */
export function configureMetrics(limits: Readonly<SeriesLimits>): void {
  processLimits.retainIdleMs = limits.retainIdleMs;
  processLimits.maxSeriesPerFamily = limits.maxSeriesPerFamily;
}
