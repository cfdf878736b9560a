// ServiceProfiles on the request pipeline: per request, pick the profile and route, classify responses
// with the route's classes, count route metrics, hold the route timeout over all attempts (outbound) and
// tell the upstream the canonical destination (`l5d-dst-canonical`). Retries are their own filter
// (src/retry/retry-filter.ts), which reads this filter's decision. Every decision is made by a pure module.
import type { FilterState, HttpFilter } from "../http/filter.ts";
import { CONTINUE } from "../http/filter.ts";
import type { ProxyError } from "../errors/proxy-error.ts";
import { RouteTimeoutError } from "../http/proxy-errors.ts";
import type { RequestCtx, ResponseClassifier } from "../http/request-ctx.ts";
import { type RouteMetrics, type RouteStats, routeMetrics } from "../metrics/route.ts";
import type { Clock } from "../rt/clock.ts";
import { DEFAULT_HTTP_PORT, parseAuthority } from "../http/authority.ts";
import { logicalDst } from "./logical-dst.ts";
import { type LookupOptions, lookupProfile } from "./lookup.ts";
import { classifyResponse, routeFor } from "./match.ts";
import type { Profile, ProfileSet, Route } from "./model.ts";
import { finalOutcome, responseOutcome } from "./route-outcome.ts";
import { attemptTimeoutMs, routeTimeoutMs } from "./route-timeout.ts";
import type { Direction } from "../rt/direction.ts";

export interface ProfileFilterOptions {
  /** The direction of the server this filter serves: route timeouts are outbound only. */
  readonly direction: Direction;
  /** The profiles of the configuration generation this filter is compiled for. */
  readonly profiles: ProfileSet;
  /** MESHLET_INBOUND_PROFILE: inbound requests use this profile whatever their authority ("" or undefined: by authority). */
  readonly inboundProfileName?: string | undefined;
  /** MESHLET_EXTERNAL_PROFILES: profiles also apply to names outside `svc.<clusterDomain>`. */
  readonly externalProfiles: boolean;
  /** MESHLET_CLUSTER_DOMAIN, e.g. "cluster.local". */
  readonly clusterDomain: string;
  /** Monotonic clock (ms) for route deadlines; src/rt/clock.ts's monotonicClock in the proxy. */
  readonly clock: Clock;
  /** Where route_* series go; default: the shared registry's. */
  readonly metrics?: RouteMetrics;
}

/** What this filter decided for one request; other filters read it through ctx.stateOf(filter). */
export class ProfiledRequest implements FilterState {
  /** The profile and route in force; undefined when the authority has no profile (the request passes untouched). */
  profile: Profile | undefined = undefined;
  route: Route | undefined = undefined;
  stats: RouteStats | undefined = undefined;
  /** Clock ms by which the final response head must arrive; NaN: no route timeout. */
  deadlineMs = Number.NaN;

  reset(): void {
    this.profile = undefined;
    this.route = undefined;
    this.stats = undefined;
    this.deadlineMs = Number.NaN;
  }
}

export type ProfileFilter = HttpFilter<ProfiledRequest>;

/** Route series cached per route (the metrics' own table caps and expires the series themselves). */
const MAX_CACHED_SERIES = 4096;

/** A route's response classes as the engine's classifier; one object per route, made on first use. */
const classifiers = new WeakMap<Route, ResponseClassifier>();
function classifierOf(route: Route): ResponseClassifier {
  let c = classifiers.get(route);
  if (c === undefined) {
    c = { isFailure: (status: number) => classifyResponse(route, status) === "failure" };
    classifiers.set(route, c);
  }
  return c;
}

/** The error of a route's timeout; names the route's whole timeout, not what was left for the attempt that expired. */
const timeoutErrors = new WeakMap<Route, (timeoutMs: number) => ProxyError>();
function timeoutErrorOf(route: Route, timeoutMs: number): (timeoutMs: number) => ProxyError {
  let f = timeoutErrors.get(route);
  if (f === undefined) {
    f = () => new RouteTimeoutError(timeoutMs);
    timeoutErrors.set(route, f);
  }
  return f;
}

/**
 * The profile filter for one configuration generation. Requests whose authority has no profile (see
 * lookupProfile) pass untouched: no route, no route metrics, no timeout, no retries.
 */
export function profileFilter(opts: ProfileFilterOptions): ProfileFilter {
  const { direction, profiles, clock } = opts;
  const metrics = opts.metrics ?? routeMetrics();
  const lookup: LookupOptions = {
    direction,
    inboundProfileName: opts.inboundProfileName,
    externalProfiles: opts.externalProfiles,
    clusterDomain: opts.clusterDomain,
  };
  // Inbound, the dst label is the profile's name with the port the request really reaches (the app's
  // port): the Host header is the client's to choose, and `<profile>:<any port>` would otherwise mint a
  // series per port (Linkerd takes the authority's port; meshlet deliberately does not, see README).
  // Route objects are immutable and belong to this generation, so stats are cached per (route, dst).
  const statsByRoute = new WeakMap<Route, Map<string, RouteStats>>();
  const statsFor = (route: Route, dst: string): RouteStats => {
    let byDst = statsByRoute.get(route);
    if (byDst === undefined) {
      byDst = new Map();
      statsByRoute.set(route, byDst);
    }
    let stats = byDst.get(dst);
    // An idle series the metrics dropped (MESHLET_METRICS_RETAIN_IDLE) is fetched anew.
    if (stats === undefined || stats.evicted) {
      stats = metrics.stats({ direction, dst, route: route.name });
      // A cache, not the series table: bounded, so a flood of authorities cannot grow it.
      if (byDst.size >= MAX_CACHED_SERIES) byDst.clear();
      byDst.set(dst, stats);
    }
    return stats;
  };

  return {
    name: "profile",
    newState: () => new ProfiledRequest(),

    onRequestHead(ctx, s) {
      const profile = lookupProfile(profiles, ctx.authority ?? "", lookup);
      if (profile === undefined) return CONTINUE;
      const route = routeFor(profile, ctx.method, ctx.path);
      s.profile = profile;
      s.route = route;
      ctx.route = route.name;
      ctx.classifier = classifierOf(route);
      const stats = statsFor(route, direction === "inbound" ? logicalDst(profile.name, ctx.conn.dst) : logicalDst(ctx.authority, ctx.conn.dst));
      s.stats = stats;
      stats.request();
      stats.actualRequest();

      const timeoutMs = routeTimeoutMs(direction, route);
      if (timeoutMs !== undefined) {
        const now = clock.nowMs();
        s.deadlineMs = now + timeoutMs;
        ctx.responseTimeoutMs = attemptTimeoutMs(s.deadlineMs, now);
        ctx.timeoutError = timeoutErrorOf(route, timeoutMs);
      }
      if (direction === "outbound") {
        // Linkerd sets the profile's logical name on outbound requests; a client-sent value is replaced.
        ctx.dropRequestHeader("l5d-dst-canonical");
        ctx.addRequestHeader("l5d-dst-canonical", canonicalDst(profile.name, ctx));
      }
      return CONTINUE;
    },

    // The engine discards the attempt's response (closing its connection) and sends the request again.
    onRetry(ctx, s, discardedStatus) {
      if (s.route === undefined) return;
      if (discardedStatus !== 0) s.stats!.actualResponse(responseOutcome(s.route, discardedStatus, ctx.grpcStatus));
      s.stats!.actualRequest();
      if (!Number.isNaN(s.deadlineMs)) ctx.responseTimeoutMs = attemptTimeoutMs(s.deadlineMs, clock.nowMs());
    },

    onComplete(ctx, s) {
      if (s.route === undefined) return;
      const outcome = finalOutcomeOf(ctx, s.route);
      if (outcome === undefined) return; // the client left before any response: nothing to count
      s.stats!.actualResponse(outcome);
      s.stats!.response(outcome);
      // Time to first byte of the final response, over all attempts (the engine's head time; Linkerd
      // takes the first body frame, which HTTP/1 almost always carries in the same read).
      if (outcome.statusCode !== undefined) s.stats!.latency(ctx.timing.responseHeadMs - ctx.timing.startMs, outcome.statusCode);
    },
  };
}

/** How a profiled request ended, for route metrics and the retry budget; undefined: record nothing. */
export function finalOutcomeOf(ctx: RequestCtx, route: Route) {
  return finalOutcome(route, { headStatus: ctx.upstreamStatus === 0 ? undefined : ctx.upstreamStatus, status: ctx.status, error: ctx.error, grpcStatus: ctx.grpcStatus });
}

/** `name:port` for l5d-dst-canonical: the profile's name with the port the request goes to. */
function canonicalDst(profileName: string, ctx: RequestCtx): string {
  if (profileName.includes(":")) return profileName;
  const port = (ctx.authority !== undefined ? parseAuthority(ctx.authority)?.port : undefined) ?? ctx.conn.dst?.port ?? DEFAULT_HTTP_PORT;
  return `${profileName}:${port}`;
}
