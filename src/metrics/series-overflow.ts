// meshlet_metrics_series_overflow_total{family,direction}: how many new label sets each bounded table
// folded into its overflow series because it was full (see series-table.ts). One family per registry,
// read at scrape from every table attached to it.
import type { Registry } from "prom-client";

const NAME = "meshlet_metrics_series_overflow_total";
const HELP =
  "New metric label sets folded into the family's overflow series because the family held MESHLET_METRICS_MAX_SERIES_PER_FAMILY series.";

interface Source {
  readonly labels: Readonly<Record<string, string>>;
  readonly table: { readonly folds: number };
}

const sourcesByRegistry = new WeakMap<Registry, Source[]>();

/** Reports `table.folds` under `labels` (e.g. family="http_endpoint", direction="outbound") in `registry`. */
export function reportOverflow(registry: Registry, labels: Readonly<Record<string, string>>, table: { readonly folds: number }): void {
  let sources = sourcesByRegistry.get(registry);
  if (sources === undefined) {
    const list: Source[] = [];
    sources = list;
    sourcesByRegistry.set(registry, list);
    const get = () => ({ name: NAME, help: HELP, type: "counter", aggregator: "sum", values: list.map((s) => ({ value: s.table.folds, labels: s.labels })) });
    registry.registerMetric({ name: NAME, help: HELP, type: "counter", aggregator: "sum", get } as never);
  }
  sources.push({ labels, table });
}
