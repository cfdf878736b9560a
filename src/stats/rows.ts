// The rows `meshlet stat` and `meshlet routes` print and GET /stats.json returns (obs-contract §1):
// one per (direction, authority) like `linkerd viz stat`, one per (direction, dst, route) like
// `linkerd viz routes -o wide`. The admin ring and the Prometheus mode both produce these.
import type { Direction } from "../rt/direction.ts";

/** The route name viz shows for series without rt_route (the profile's default route). */
export const DEFAULT_ROUTE = "[DEFAULT]";

export interface Outcomes {
  readonly requests: number;
  readonly successes: number;
  readonly failures: number;
  /** successes / requests; null when there was no request. */
  readonly successRate: number | null;
  readonly rps: number;
}

export interface LatencyQuantiles {
  /** Milliseconds; null when the window holds no latency sample. */
  readonly latencyMsP50: number | null;
  readonly latencyMsP95: number | null;
  readonly latencyMsP99: number | null;
}

export interface HistoryPoint {
  /** Wall-clock ms at the end of the interval. */
  readonly tMs: number;
  readonly rps: number;
  readonly successRate: number | null;
  readonly latencyMsP99: number | null;
}

export interface AuthorityRow extends Outcomes, LatencyQuantiles {
  readonly direction: Direction;
  /** Outbound: the request authority. Inbound (Linkerd has no authority label there): the target address. */
  readonly authority: string;
  /** Open TCP connections now, or null when unknown. */
  readonly tcpConnections: number | null;
  readonly history?: readonly HistoryPoint[];
}

export interface RouteRow extends LatencyQuantiles {
  readonly direction: Direction;
  /** The logical destination `name:port`. */
  readonly dst: string;
  /** The profile's route name, or DEFAULT_ROUTE. */
  readonly route: string;
  /** Original requests (above retries), from route_response_total. */
  readonly effective: Outcomes;
  /** Every attempt (retries included), from route_actual_response_total. */
  readonly actual: Outcomes;
  readonly history?: readonly HistoryPoint[];
}

/** What GET /stats.json reads: the proxy's snapshot ring (src/stats/proxy-stats.ts). */
export interface StatsSource {
  /** The longest window accepted, in ms. */
  readonly maxWindowMs: number;
  report(windowMs: number, history: boolean): StatsReport;
}

/** The body of GET /stats.json. */
export interface StatsReport {
  /** The span actually covered (shorter than requested while the process is younger). */
  readonly windowSeconds: number;
  readonly requestedWindowSeconds: number;
  /** The ring's resolution; null for the Prometheus mode. */
  readonly snapshotIntervalSeconds: number | null;
  readonly authorities: readonly AuthorityRow[];
  readonly routes: readonly RouteRow[];
}

/** Outcomes of `successes` and `failures` over `windowSeconds`. */
export function outcomes(successes: number, failures: number, windowSeconds: number): Outcomes {
  const requests = successes + failures;
  return {
    requests,
    successes,
    failures,
    successRate: requests > 0 ? successes / requests : null,
    rps: windowSeconds > 0 ? requests / windowSeconds : 0,
  };
}
