// How `meshlet stat` and `meshlet routes` print a number, as `linkerd viz stat` does: `100.00%`,
// `1.2rps`, `3ms`, and `-` when the window has nothing to say.

/** A success rate (0..1) as a percentage with two decimals; "-" when there was no request. */
export function formatSuccess(rate: number | null): string {
  return rate === null ? "-" : `${(rate * 100).toFixed(2)}%`;
}

/** Requests per second with one decimal; "-" when there was no request. */
export function formatRps(rps: number, requests: number): string {
  return requests > 0 ? `${rps.toFixed(1)}rps` : "-";
}

/**
 * A latency quantile in ms: whole ms from 10 ms up (viz prints whole ms always), one decimal below,
 * where whole ms would hide the difference between 0.3 and 0.9 ms on a fast loopback; "-" when none.
 */
export function formatLatencyMs(ms: number | null): string {
  if (ms === null) return "-";
  if (ms >= 10) return `${Math.round(ms)}ms`;
  return `${Number(ms.toFixed(1))}ms`;
}

/** A count; "-" when unknown. */
export function formatCount(n: number | null): string {
  return n === null ? "-" : String(n);
}

/**
 * Rows as aligned columns separated by three spaces: the first `leftColumns` columns left-aligned
 * (names), the rest right-aligned (numbers), as viz prints them.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], leftColumns: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i < leftColumns ? (i === cells.length - 1 ? c : c.padEnd(widths[i]!)) : c.padStart(widths[i]!)))
      .join("   ")
      .trimEnd() + "\n";
  return line(header) + rows.map(line).join("");
}
