// GET /pools.json (like Envoy's /clusters): the upstream connection pools of each direction, per
// endpoint — HTTP/1 (open, connecting, idle, in use, queued) with keep-alive reuse (1 − opened ÷
// dispatched), and beside them under `http2` the HTTP/2 pools (connections, open streams, the peer's
// MAX_CONCURRENT_STREAMS, queued) with stream reuse the same way.
import type { H2EndpointPoolSnapshot, H2UpstreamPool } from "../h2/upstream-pool.ts";
import type { EndpointPoolSnapshot, UpstreamPool } from "../http/upstream-pool.ts";

type WithReuse<T> = T & { readonly reuseRatio: number | null };

export interface PoolsView {
  readonly [direction: string]: {
    /** Totals since startup, over every endpoint ever pooled. */
    readonly opened: number;
    readonly dispatched: number;
    readonly reuseRatio: number | null;
    /** Endpoints pooled now; an endpoint with nothing open or queued is dropped after the idle timeout. */
    readonly endpoints: readonly WithReuse<EndpointPoolSnapshot>[];
    /** The HTTP/2 pool of the direction (dispatched = streams opened), when the engine runs one. */
    readonly http2?: {
      readonly opened: number;
      readonly dispatched: number;
      readonly reuseRatio: number | null;
      readonly endpoints: readonly WithReuse<H2EndpointPoolSnapshot>[];
    };
  };
}

/** `pools` (HTTP/1) and `h2Pools` by direction ("inbound", "outbound"). */
export function poolsView(pools: Readonly<Record<string, UpstreamPool>>, h2Pools: Readonly<Record<string, H2UpstreamPool>> = {}): PoolsView {
  const view: Record<string, PoolsView[string]> = {};
  for (const [direction, pool] of Object.entries(pools)) {
    const h2 = h2Pools[direction];
    view[direction] = {
      opened: pool.opened,
      dispatched: pool.dispatched,
      reuseRatio: reuseRatio(pool.opened, pool.dispatched),
      endpoints: pool.snapshot().map((ep) => ({ ...ep, reuseRatio: reuseRatio(ep.opened, ep.dispatched) })),
      ...(h2 === undefined
        ? {}
        : {
            http2: {
              opened: h2.totals.opened,
              dispatched: h2.totals.dispatched,
              reuseRatio: reuseRatio(h2.totals.opened, h2.totals.dispatched),
              endpoints: h2.snapshot().map((ep) => ({ ...ep, reuseRatio: reuseRatio(ep.opened, ep.dispatched) })),
            },
          }),
    };
  }
  return view;
}

/** Share of requests (HTTP/2: streams) that rode an existing connection; null before the first. */
function reuseRatio(opened: number, dispatched: number): number | null {
  return dispatched > 0 ? Math.max(0, 1 - opened / dispatched) : null;
}
