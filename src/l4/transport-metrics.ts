// Linkerd's transport families (tcp_open_total, tcp_close_total{errno}, tcp_open_connections,
// tcp_read_bytes_total, tcp_write_bytes_total) filled from the front door's counters at each scrape.
import { Counter, Gauge } from "prom-client";

import { native } from "../native/binding.ts";
import { onBeforeScrape, registry } from "../metrics/registry.ts";
import { DIRECTIONS } from "./front-door.ts";

const LABELS = ["direction", "peer", "target_addr", "target_ip", "target_port", "tls"] as const;
type Labels = Record<(typeof LABELS)[number], string>;

/** Registers the families; values are read from one native snapshot per scrape. */
export function registerTransportMetrics(): void {
  // Every family's collect() runs during one scrape; the snapshot is taken once, just before it.
  let snapshot = native.transportStats();
  onBeforeScrape(() => {
    snapshot = native.transportStats();
  });
  const rows = () => snapshot;
  const labelsOf = (row: (typeof snapshot)[number]): Labels => ({
    direction: DIRECTIONS[row.direction] ?? "unknown",
    peer: row.peer,
    target_addr: row.targetIp.includes(":") ? `[${row.targetIp}]:${row.targetPort}` : `${row.targetIp}:${row.targetPort}`,
    target_ip: row.targetIp,
    target_port: String(row.targetPort),
    // Until meshlet speaks mTLS no connection carries an identity.
    tls: "disabled",
  });

  new Counter({
    name: "tcp_open_total",
    help: "Total count of opened connections",
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of rows()) this.inc(labelsOf(row), row.openTotal);
    },
  });
  new Gauge({
    name: "tcp_open_connections",
    help: "Number of currently-open connections",
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of rows()) this.set(labelsOf(row), row.openNow);
    },
  });
  new Counter({
    name: "tcp_read_bytes_total",
    help: "Total count of bytes read from peers",
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of rows()) this.inc(labelsOf(row), row.readBytes);
    },
  });
  new Counter({
    name: "tcp_write_bytes_total",
    help: "Total count of bytes written to peers",
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const row of rows()) this.inc(labelsOf(row), row.writeBytes);
    },
  });
  new Counter({
    name: "tcp_close_total",
    help: "Total count of closed connections",
    labelNames: [...LABELS, "errno"],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of rows()) {
        for (const [errno, count] of row.closes) this.inc({ ...labelsOf(row), errno: native.errnoName(errno) }, count);
      }
    },
  });
}
