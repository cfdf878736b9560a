// ServiceProfiles in the HTTP request path, as engine hooks: per request, pick the profile and route,
// count route metrics, hold the route timeout over all attempts and (outbound only) retry failures
// under the profile's budget. A thin adapter: every decision is made by a pure module.
import { RouteTimeoutError } from "../http/proxy-errors.ts";
import type { HttpHooks, RequestCtx } from "../http/request-ctx.ts";
import { routeMetrics, type RouteMetrics, type RouteStats } from "../metrics/route.ts";
import type { ConfigSnapshot } from "../resources/config-dir.ts";
import type { Watch } from "../rt/watch.ts";
import type { Clock } from "../rt/clock.ts";
import { decideAfterAttempt, MAX_REPLAY_BYTES, type RetryBudget, retrySupport } from "../retry/policy.ts";
import { logicalDst } from "./logical-dst.ts";
import { type LookupOptions, lookupProfile } from "./lookup.ts";
import { classifyResponse, routeFor } from "./match.ts";
import type { Route } from "./model.ts";
import { attemptOutcomeOf, finalOutcome } from "./route-outcome.ts";
import { attemptTimeoutMs, routeTimeoutMs } from "./route-timeout.ts";

export interface ProfileHooksOptions {
  /** The direction of the server these hooks serve: retries and route timeouts are outbound only. */
  readonly direction: "inbound" | "outbound";
  /** The configuration in force; read once per request, so a reload applies from the next request on. */
  readonly config: Watch<Pick<ConfigSnapshot, "profiles">>;
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

/** What the hooks remember about one profiled request, from onRequest to onComplete. */
interface RequestState {
  readonly route: Route;
  readonly stats: RouteStats;
  /** The profile's budget when the request has retry support; undefined: never retried, budget untouched. */
  readonly budget: RetryBudget | undefined;
  /** Clock ms by which the final response head must arrive; undefined: no route timeout. */
  readonly deadlineMs: number | undefined;
  /** Status of the upstream response head that was kept (not retried). */
  headStatus: number | undefined;
  /** The current attempt already went through the retry policy (its deposit or withdrawal is done). */
  decided: boolean;
}

/**
 * Hooks for createHttp1Server({ hooks }). Requests whose authority has no profile (see lookupProfile)
 * pass untouched: no route, no route metrics, no timeout, no retries.
 */
export function createProfileHooks(opts: ProfileHooksOptions): HttpHooks {
  const { direction, config, clock } = opts;
  const metrics = opts.metrics ?? routeMetrics();
  const lookup: LookupOptions = {
    direction,
    inboundProfileName: opts.inboundProfileName,
    externalProfiles: opts.externalProfiles,
    clusterDomain: opts.clusterDomain,
  };
  // With MESHLET_INBOUND_PROFILE the profile is not chosen by authority, so the dst label names the
  // profile (Linkerd's inbound labels the profile's logical address): otherwise every Host header a
  // client cares to send would mint new series.
  const dstByProfileName = direction === "inbound" && opts.inboundProfileName !== undefined && opts.inboundProfileName !== "";
  // Keyed by the engine's ctx, so a request the engine forgets cannot leak its state.
  const states = new WeakMap<RequestCtx, RequestState>();
  // Route objects are immutable and replaced on reload, so stats are cached per (route, dst).
  const statsByRoute = new WeakMap<Route, Map<string, RouteStats>>();

  const statsFor = (route: Route, dst: string): RouteStats => {
    let byDst = statsByRoute.get(route);
    if (byDst === undefined) {
      byDst = new Map();
      statsByRoute.set(route, byDst);
    }
    let stats = byDst.get(dst);
    if (stats === undefined) {
      stats = metrics.stats({ direction, dst, route: route.name });
      byDst.set(dst, stats);
    }
    return stats;
  };

  return {
    onRequest(ctx) {
      const profile = lookupProfile(config.get().profiles, ctx.authority ?? "", lookup);
      if (profile === undefined) return;
      const route = routeFor(profile, ctx.method, ctx.path);
      ctx.route = route.name;
      const stats = statsFor(route, logicalDst(dstByProfileName ? profile.name : ctx.authority, ctx.conn.dst));
      stats.request();
      stats.actualRequest();

      let budget: RetryBudget | undefined;
      if (retrySupport(direction, route, contentLengthOf(ctx)) === "enabled") {
        budget = profile.budget;
        ctx.retainBodyBytes = MAX_REPLAY_BYTES;
      }
      let deadlineMs: number | undefined;
      const timeoutMs = routeTimeoutMs(direction, route);
      if (timeoutMs !== undefined) {
        const now = clock.nowMs();
        deadlineMs = now + timeoutMs;
        ctx.responseTimeoutMs = attemptTimeoutMs(deadlineMs, now);
        // Names the route's whole timeout, not what was left for the attempt that expired.
        ctx.timeoutError = () => new RouteTimeoutError(timeoutMs);
      }
      states.set(ctx, { route, stats, budget, deadlineMs, headStatus: undefined, decided: false });
    },

    onResponseHead(ctx, status) {
      const s = states.get(ctx);
      if (s === undefined) return false;
      if (s.budget === undefined) {
        s.headStatus = status;
        return false;
      }
      const classification = classifyResponse(s.route, status);
      // Not replayable here means the body was capped or is still streaming (Linkerd's is_capped()
      // true or None): either way this response is returned as is.
      const decision = decideAfterAttempt(s.budget, { kind: "response", isFailure: classification === "failure" }, !ctx.replayable);
      if (decision !== "done") s.stats.retryableResponse(decision === "retry");
      if (decision !== "retry") {
        s.headStatus = status;
        s.decided = true;
        return false;
      }
      // The engine discards this attempt's response (closing its connection) and sends the request again.
      s.stats.actualResponse({ statusCode: status, classification });
      s.stats.actualRequest();
      if (s.deadlineMs !== undefined) ctx.responseTimeoutMs = attemptTimeoutMs(s.deadlineMs, clock.nowMs());
      return true;
    },

    // Transport errors and timeouts are never retried (§3.2: Linkerd's `Err` is not retryable).
    // onComplete accounts for them: metrics and the budget deposit.
    onError: () => false,

    onComplete(ctx) {
      const s = states.get(ctx);
      if (s === undefined) return;
      states.delete(ctx);
      const outcome = finalOutcome(s.route, { headStatus: s.headStatus, status: ctx.status, error: ctx.error });
      if (outcome === undefined) return; // the client left before any response: nothing to count or deposit
      s.stats.actualResponse(outcome);
      s.stats.response(outcome);
      // Time to first byte of the final response, over all attempts (the engine's head time; Linkerd
      // takes the first body frame, which HTTP/1 almost always carries in the same read).
      if (outcome.statusCode !== undefined) s.stats.latency(ctx.timing.responseHeadMs - ctx.timing.startMs, outcome.statusCode);
      // The last attempt never reached the policy (error, timeout or tunnel): it is final, so it deposits.
      if (s.budget !== undefined && !s.decided) decideAfterAttempt(s.budget, attemptOutcomeOf(outcome), true);
    },
  };
}

/** The declared body length, or undefined (chunked or none): Linkerd's size hint for ReplayBody. */
function contentLengthOf(ctx: RequestCtx): number | undefined {
  const value = ctx.header("content-length");
  return value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : undefined;
}
