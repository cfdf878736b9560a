// Upstream keep-alive reuse as numbers: connections opened and requests dispatched by each HTTP
// server's pool (reuse = 1 - opened / dispatched), read at scrape time.
import { Counter } from "../metrics/prom-client.ts";

import { registry } from "../metrics/registry.ts";
import type { Http1Server } from "./server.ts";
import type { Direction } from "../rt/direction.ts";

export function registerPoolMetrics(servers: Readonly<Record<Direction, Http1Server>>): void {
  const entries = Object.entries(servers) as [Direction, Http1Server][];
  new Counter({
    name: "meshlet_http_upstream_connections_opened_total",
    help: "Upstream HTTP/1 connections opened by the pool",
    labelNames: ["direction"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [direction, server] of entries) this.inc({ direction }, server.pool.opened);
    },
  });
  new Counter({
    name: "meshlet_http_upstream_requests_dispatched_total",
    help: "Requests written to upstream HTTP/1 connections (each retry attempt counts)",
    labelNames: ["direction"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [direction, server] of entries) this.inc({ direction }, server.pool.dispatched);
    },
  });
}
