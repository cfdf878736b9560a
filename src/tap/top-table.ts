// `meshlet top`: the tap stream aggregated by (source, destination, method, path), like
// `linkerd viz top`: count, best / worst / last latency and success rate of completed requests.
import type { TapEvent } from "./events.ts";

export interface TopRow {
  readonly source: string;
  readonly destination: string;
  readonly method: string;
  readonly path: string;
  count: number;
  successes: number;
  bestMs: number;
  worstMs: number;
  lastMs: number;
}

/** Requests waiting for their end event; beyond it the oldest are forgotten. */
const MAX_OPEN_REQUESTS = 10_000;

export class TopTable {
  private readonly rows = new Map<string, TopRow>();
  private readonly open = new Map<number, { key: string; row: Omit<TopRow, "count" | "successes" | "bestMs" | "worstMs" | "lastMs"> }>();

  add(event: TapEvent): void {
    if (event.type === "request") {
      if (this.open.size >= MAX_OPEN_REQUESTS) this.open.delete(this.open.keys().next().value!);
      const source = hostOf(event.source);
      this.open.set(event.id, {
        key: `${source}\n${event.destination}\n${event.method}\n${event.path}`,
        row: { source, destination: event.destination, method: event.method, path: event.path },
      });
      return;
    }
    if (event.type !== "end") return;
    const req = this.open.get(event.id);
    if (req === undefined) return; // its request event was dropped, or came before we subscribed
    this.open.delete(event.id);
    let row = this.rows.get(req.key);
    if (row === undefined) {
      row = { ...req.row, count: 0, successes: 0, bestMs: Infinity, worstMs: 0, lastMs: 0 };
      this.rows.set(req.key, row);
    }
    const ms = event.sinceRequestMs;
    row.count++;
    // Linkerd's classification: a 5xx, a gRPC status other than OK, or no response at all is a failure.
    if (event.error === undefined && event.status !== undefined && event.status < 500 && (event.grpcStatus ?? 0) === 0) row.successes++;
    row.bestMs = Math.min(row.bestMs, ms);
    row.worstMs = Math.max(row.worstMs, ms);
    row.lastMs = ms;
  }

  /** Rows by descending count, then path. */
  sortedRows(): TopRow[] {
    return [...this.rows.values()].sort((a, b) => b.count - a.count || a.path.localeCompare(b.path));
  }

  /** The table as text, with a header line; "(no requests yet)" below the header when empty. */
  render(): string {
    const header = ["Source", "Destination", "Method", "Path", "Count", "Best", "Worst", "Last", "Success Rate"];
    const rows = this.sortedRows().map((r) => [
      r.source,
      r.destination,
      r.method,
      r.path,
      String(r.count),
      formatLatency(r.bestMs),
      formatLatency(r.worstMs),
      formatLatency(r.lastMs),
      `${((100 * r.successes) / r.count).toFixed(2)}%`,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
    const lines = [line(header), ...rows.map(line)];
    if (rows.length === 0) lines.push("(no requests yet)");
    return lines.join("\n") + "\n";
  }
}

/** "ip" of "ip:port" / "[ip]:port". */
function hostOf(address: string): string {
  if (address.startsWith("[")) return address.slice(1, address.indexOf("]"));
  const colon = address.lastIndexOf(":");
  return colon < 0 ? address : address.slice(0, colon);
}

/** Like `linkerd viz top`: µs under a millisecond, then ms, then s. */
export function formatLatency(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}
