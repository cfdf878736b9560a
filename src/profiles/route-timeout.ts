// The ServiceProfile route timeout (linkerd-behavior §4.1) as one deadline over every attempt until
// the final response head: each attempt is armed with the time left. Outbound only, as in Linkerd.
import type { Route } from "./model.ts";
import type { Direction } from "../rt/direction.ts";

/**
 * The whole-request timeout a profiled request gets, in ms, or undefined for none.
 * Inbound gets none, on purpose: linkerd2-proxy's inbound router applies profile routes for
 * classification and route metrics only (no timeout layer in linkerd/app/inbound/src/http/router.rs).
 * The client's outbound proxy owns the deadline; a second equal timer on the server side could only
 * race it and turn a late answer into a 504 the client never asked for.
 */
export function routeTimeoutMs(direction: Direction, route: Route): number | undefined {
  return direction === "outbound" ? route.timeoutMs : undefined;
}

/**
 * The per-attempt timeout for an attempt that starts at `nowMs`, in whole ms: the time left until
 * `deadlineMs`, at least 1. Never 0, which the engine reads as "no timeout": an attempt that starts
 * at or after the deadline times out at once, as Linkerd's outer timer (around the retries) would.
 */
export function attemptTimeoutMs(deadlineMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil(deadlineMs - nowMs));
}
