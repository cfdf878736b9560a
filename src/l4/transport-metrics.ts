// Linkerd's transport families (tcp_open_total, tcp_close_total{errno}, tcp_open_connections,
// tcp_read_bytes_total, tcp_write_bytes_total) for every connection: the front door's native counters
// (spliced connections and accepts) plus the HTTP engine's (handed-off clients, pooled upstreams).
import { Counter, Gauge } from "../metrics/prom-client.ts";

import { native } from "../native/binding.ts";
import { onBeforeScrape, registry } from "../metrics/registry.ts";
import { TRANSPORT_TLS_DISABLED, type TransportCounters, type TransportTlsLabels, httpTransport } from "../metrics/transport.ts";
import { DIRECTIONS } from "./front-door.ts";

// server_id / no_tls_reason: the TLS labels of HTTP upstream connections (outbound mTLS origination).
const LABELS = ["direction", "peer", "target_addr", "target_ip", "target_port", "tls", "server_id", "no_tls_reason"] as const;
type Labels = Partial<Record<(typeof LABELS)[number], string>> & Record<"direction" | "peer" | "target_addr", string>;

interface Row {
  readonly labels: Labels;
  readonly openTotal: number;
  readonly openNow: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  readonly closes: ReadonlyArray<readonly [errnoName: string, count: number]>;
}

function labelsOf(direction: string, peer: string, ip: string, port: number, tls: TransportTlsLabels): Labels {
  return {
    direction,
    peer,
    target_addr: ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`,
    target_ip: ip,
    target_port: String(port),
    ...tls,
  };
}

function snapshot(http: TransportCounters): Row[] {
  const rows: Row[] = native.transportStats().map((r) => ({
    // The front door's spliced connections carry no identity.
    labels: labelsOf(DIRECTIONS[r.direction] ?? "unknown", r.peer, r.targetIp, r.targetPort, TRANSPORT_TLS_DISABLED),
    openTotal: r.openTotal,
    openNow: r.openNow,
    readBytes: r.readBytes,
    writeBytes: r.writeBytes,
    closes: r.closes.map(([errno, count]) => [native.errnoName(errno), count] as const),
  }));
  for (const r of http.rows()) {
    rows.push({
      labels: labelsOf(r.direction, r.peer, r.targetIp, r.targetPort, r.tls),
      openTotal: r.openTotal,
      openNow: r.openNow,
      readBytes: r.readBytes,
      writeBytes: r.writeBytes,
      closes: [...r.closes],
    });
  }
  return rows;
}

/** Open connections of one (direction, peer, target_addr), as tcp_open_connections reports them. */
export interface OpenConnections {
  readonly direction: string;
  readonly peer: string;
  readonly targetAddr: string;
  readonly open: number;
}

/** Open connections now, every source summed per (direction, peer, target_addr): for the stats ring. */
export function openConnectionsNow(http: TransportCounters = httpTransport): OpenConnections[] {
  const byKey = new Map<string, { direction: string; peer: string; targetAddr: string; open: number }>();
  for (const row of snapshot(http)) {
    const { direction, peer, target_addr: targetAddr } = row.labels;
    const key = `${direction}|${peer}|${targetAddr}`;
    const entry = byKey.get(key) ?? { direction, peer, targetAddr, open: 0 };
    entry.open += row.openNow;
    byKey.set(key, entry);
  }
  return [...byKey.values()];
}

/** Registers the families; values are read from one snapshot per scrape (prom-client sums equal labels). */
export function registerTransportMetrics(http: TransportCounters = httpTransport): void {
  // Every family's collect() runs during one scrape; the snapshot is taken once, just before it.
  let rows = snapshot(http);
  onBeforeScrape(() => {
    rows = snapshot(http);
  });
  const counter = (name: string, help: string, value: (row: Row) => number) =>
    new Counter({
      name,
      help,
      labelNames: LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const row of rows) if (value(row) > 0) this.inc(row.labels, value(row));
      },
    });
  counter("tcp_open_total", "Total count of opened connections", (r) => r.openTotal);
  counter("tcp_read_bytes_total", "Total count of bytes read from peers", (r) => r.readBytes);
  counter("tcp_write_bytes_total", "Total count of bytes written to peers", (r) => r.writeBytes);
  new Gauge({
    name: "tcp_open_connections",
    help: "Number of currently-open connections",
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      const open = new Map<string, { labels: Labels; value: number }>();
      for (const row of rows) {
        const key = JSON.stringify(row.labels);
        const entry = open.get(key) ?? { labels: row.labels, value: 0 };
        entry.value += row.openNow;
        open.set(key, entry);
      }
      for (const { labels, value } of open.values()) this.set(labels, value);
    },
  });
  new Counter({
    name: "tcp_close_total",
    help: "Total count of closed connections",
    labelNames: [...LABELS, "errno"],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of rows) for (const [errno, count] of row.closes) this.inc({ ...row.labels, errno }, count);
    },
  });
}
