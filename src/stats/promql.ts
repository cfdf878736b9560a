// The PromQL behind `meshlet stat --prometheus` and `meshlet routes --prometheus`, as `linkerd viz`
// builds it (linkerd-behavior §5.6): sum(increase(...[W])) by (key, classification) for counts and
// histogram_quantile over the summed bucket rate for latency, over every scraped sidecar.
import type { Direction } from "../rt/direction.ts";

export const QUANTILES = [0.5, 0.95, 0.99] as const;

/** A PromQL range: whole seconds when it is one, else milliseconds ("60s", "1500ms"). */
export function promRange(windowMs: number): string {
  return windowMs % 1000 === 0 ? `${windowMs / 1000}s` : `${Math.round(windowMs)}ms`;
}

/** A label matcher with the value quoted as a PromQL string. */
function eq(label: string, value: string): string {
  return `${label}=${JSON.stringify(value)}`;
}

/** The label that keys a stat row: outbound by authority, inbound (no authority label) by target_addr. */
export function statKeyLabel(direction: Direction): "authority" | "target_addr" {
  return direction === "inbound" ? "target_addr" : "authority";
}

export const statQueries = {
  /** Responses per row and classification over the window. */
  outcomes(direction: Direction, windowMs: number): string {
    return `sum(increase(response_total{${eq("direction", direction)}}[${promRange(windowMs)}])) by (${statKeyLabel(direction)}, classification)`;
  },
  latency(q: number, direction: Direction, windowMs: number): string {
    return `histogram_quantile(${q}, sum(rate(response_latency_ms_bucket{${eq("direction", direction)}}[${promRange(windowMs)}])) by (le, ${statKeyLabel(direction)}))`;
  },
  /**
   * Open connections now. Inbound: accepted ones (peer="src") per target_addr. Outbound: those the proxy
   * opened (peer="dst") to the endpoints each authority used, joined per sidecar (instance) on target_addr.
   */
  tcp(direction: Direction): string {
    if (direction === "inbound") return `sum(tcp_open_connections{direction="inbound",peer="src"}) by (target_addr)`;
    return (
      `sum by (authority) (` +
      `(0 * max by (instance, target_addr, authority) (request_total{direction="outbound"}) + 1)` +
      ` * on (instance, target_addr) group_left ` +
      `sum by (instance, target_addr) (tcp_open_connections{direction="outbound",peer="dst"}))`
    );
  },
};

/** With `to`, the client's outbound series for that dst; without, the inbound ones (as viz routes). */
export function routeSelector(to: string | undefined): string {
  return to === undefined ? eq("direction", "inbound") : `${eq("direction", "outbound")},${eq("dst", to)}`;
}

export const routeQueries = {
  /** Original requests (route_response_total) or attempts (route_actual_response_total) per route and classification. */
  outcomes(family: "route_response_total" | "route_actual_response_total", to: string | undefined, windowMs: number): string {
    return `sum(increase(${family}{${routeSelector(to)}}[${promRange(windowMs)}])) by (dst, rt_route, classification)`;
  },
  /** Latency comes from the effective histogram only (there is no actual one). */
  latency(q: number, to: string | undefined, windowMs: number): string {
    return `histogram_quantile(${q}, sum(rate(route_response_latency_ms_bucket{${routeSelector(to)}}[${promRange(windowMs)}])) by (le, dst, rt_route))`;
  },
};
