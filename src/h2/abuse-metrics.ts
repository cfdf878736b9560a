// meshlet_http2_abuse_goaway_total{direction,kind}: HTTP/2 connections the engine ended with
// GOAWAY(ENHANCE_YOUR_CALM) because the peer broke an abuse limit (abuse-limits.ts), client and upstream
// connections alike. Plain numbers per (direction, kind), read at scrape time.
import type { H2AbuseKind } from "./abuse-limits.ts";
import { Counter } from "../metrics/prom-client.ts";
import { registry } from "../metrics/registry.ts";
import type { Direction } from "../rt/direction.ts";

const counts = new Map<string, { direction: Direction; kind: H2AbuseKind; n: number }>();

/** One connection ended for `kind`. */
export function countAbuseGoaway(direction: Direction, kind: H2AbuseKind): void {
  const key = `${direction} ${kind}`;
  const row = counts.get(key);
  if (row !== undefined) row.n++;
  else counts.set(key, { direction, kind, n: 1 });
}

/** The count so far for (direction, kind). */
export function abuseGoaways(direction: Direction, kind: H2AbuseKind): number {
  return counts.get(`${direction} ${kind}`)?.n ?? 0;
}

new Counter({
  name: "meshlet_http2_abuse_goaway_total",
  help: "HTTP/2 connections closed with GOAWAY(ENHANCE_YOUR_CALM) because the peer broke an abuse limit (rapid reset, PING/SETTINGS/empty-frame/CONTINUATION floods, too many stream errors)",
  labelNames: ["direction", "kind"],
  registers: [registry],
  collect() {
    this.reset();
    for (const row of counts.values()) this.inc({ direction: row.direction, kind: row.kind }, row.n);
  },
});
