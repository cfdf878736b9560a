// GET /pools.json (like Envoy's /clusters): the upstream HTTP/1 connection pools of each direction,
// per endpoint — open, connecting, idle, in use, queued — with keep-alive reuse (1 − opened ÷ dispatched).
import type { EndpointPoolSnapshot, UpstreamPool } from "../http/upstream-pool.ts";

export interface PoolsView {
  readonly [direction: string]: {
    /** Totals since startup, over every endpoint ever pooled. */
    readonly opened: number;
    readonly dispatched: number;
    readonly reuseRatio: number | null;
    /** Endpoints pooled now; an endpoint with nothing open or queued is dropped after the idle timeout. */
    readonly endpoints: readonly (EndpointPoolSnapshot & { readonly reuseRatio: number | null })[];
  };
}

/** `pools` by direction ("inbound", "outbound"). */
export function poolsView(pools: Readonly<Record<string, UpstreamPool>>): PoolsView {
  const view: Record<string, PoolsView[string]> = {};
  for (const [direction, pool] of Object.entries(pools)) {
    view[direction] = {
      opened: pool.opened,
      dispatched: pool.dispatched,
      reuseRatio: reuseRatio(pool.opened, pool.dispatched),
      endpoints: pool.snapshot().map((ep) => ({ ...ep, reuseRatio: reuseRatio(ep.opened, ep.dispatched) })),
    };
  }
  return view;
}

/** Share of requests that rode an existing connection; null before the first request. */
function reuseRatio(opened: number, dispatched: number): number | null {
  return dispatched > 0 ? Math.max(0, 1 - opened / dispatched) : null;
}
