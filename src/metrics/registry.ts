// The one Prometheus registry that /metrics exposes. Every metric family registers here;
// families that native code feeds are refreshed from snapshots just before each scrape.
import { Registry } from "./prom-client.ts";

export const registry = new Registry();

type Collector = () => void;
const beforeScrape: Collector[] = [];

/** Registers a hook that refreshes gauges/counters from a snapshot right before exposition. */
export function onBeforeScrape(collect: Collector): void {
  beforeScrape.push(collect);
}

/** Renders the registry in the Prometheus text format, refreshing snapshot-fed families first. */
export async function renderMetrics(): Promise<string> {
  for (const collect of beforeScrape) collect();
  return registry.metrics();
}
