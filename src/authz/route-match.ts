// Gateway API route selection as Linkerd's proxy does it (linkerd/http/route/src/{lib,http/match}.rs):
// the best host match first (exact beats wildcard, longer wins, a route without hostnames matches any
// host lowest), then the route's best rule by path length, header count, query count, method; ties keep
// list order. Scores are plain numbers compared lexicographically, so selection allocates nothing.
import type { HttpRouteMatch, HttpRouteRule, PathMatch, ValueMatch } from "../policy/model.ts";

/** What route matching reads of a request. */
export interface RouteRequest {
  readonly method: string;
  readonly path: string;
  /** Lowercase host without port, or undefined. */
  readonly host: string | undefined;
  header(lowerName: string): string | undefined;
  /** First value of a query parameter, or undefined. */
  query(name: string): string | undefined;
}

export interface MatchableRoute {
  /** Lowercase; `*.example.com` wildcards allowed. Empty: any host. */
  readonly hostnames: readonly string[];
  readonly rules: readonly HttpRouteRule[];
}

const NO_MATCH = -1;

/** Host score: 0 no hostnames; 1_000 + labels for a wildcard; 2_000 + length for an exact name. */
export function hostScore(route: MatchableRoute, host: string | undefined): number {
  if (route.hostnames.length === 0) return 0;
  if (host === undefined) return NO_MATCH;
  let best = NO_MATCH;
  for (const name of route.hostnames) {
    let score = NO_MATCH;
    if (name === host) score = 2_000 + name.length;
    else if (name.startsWith("*.") && host.endsWith(name.slice(1)) && host.length > name.length - 1) score = 1_000 + name.length;
    if (score > best) best = score;
  }
  return best;
}

function pathLength(path: PathMatch | undefined, reqPath: string): number {
  if (path === undefined) return reqPath.startsWith("/") ? 1 : NO_MATCH;
  switch (path.type) {
    case "Exact":
      return reqPath === path.value ? path.value.length : NO_MATCH;
    case "RegularExpression":
      return path.test(reqPath) ? path.value.length : NO_MATCH;
    case "PathPrefix": {
      // Segment-aligned; a trailing `/` in the prefix is ignored ("/foo/" matches "/foo").
      const prefix = path.value.length > 1 && path.value.endsWith("/") ? path.value.slice(0, -1) : path.value;
      if (prefix === "/") return 1;
      if (!reqPath.startsWith(prefix)) return NO_MATCH;
      return reqPath.length === prefix.length || reqPath.charCodeAt(prefix.length) === 47 /* / */ ? prefix.length : NO_MATCH;
    }
  }
}

function valueMatches(m: ValueMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  return m.test !== undefined ? m.test(value) : value === m.value;
}

/**
 * One match's score, or -1: path length (≤ 1024 by the CRD) × 2^12, headers and query params
 * (≤ 16 each) × 2^7 and × 2^2, method × 1 — lexicographic order in one number.
 */
export function matchScore(m: HttpRouteMatch, req: RouteRequest): number {
  if (m.method !== undefined && m.method !== req.method) return NO_MATCH;
  const length = pathLength(m.path, req.path);
  if (length < 0) return NO_MATCH;
  for (const h of m.headers) if (!valueMatches(h, req.header(h.name))) return NO_MATCH;
  for (const q of m.queryParams) if (!valueMatches(q, req.query(q.name))) return NO_MATCH;
  return length * 4096 + m.headers.length * 128 + m.queryParams.length * 4 + (m.method !== undefined ? 1 : 0);
}

/** The best rule score of a route (a rule without matches scores as `PathPrefix /`), or -1. */
export function ruleScore(route: MatchableRoute, req: RouteRequest): number {
  if (route.rules.length === 0) return 4096; // the CRD's default rule: PathPrefix /
  let best = NO_MATCH;
  for (const rule of route.rules) {
    if (rule.matches.length === 0) {
      if (4096 > best) best = 4096;
      continue;
    }
    for (const m of rule.matches) {
      const score = matchScore(m, req);
      if (score > best) best = score;
    }
  }
  return best;
}

/** The index of the best route for the request, or -1 when none matches (Linkerd: HttpRouteNotFound). */
export function selectRoute(routes: readonly MatchableRoute[], req: RouteRequest): number {
  let bestIndex = NO_MATCH;
  let bestHost = NO_MATCH;
  let bestRule = NO_MATCH;
  for (let i = 0; i < routes.length; i++) {
    const route = routes[i]!;
    // A route without hostnames matches any host: the request's host is parsed only for one that has some.
    const host = route.hostnames.length === 0 ? 0 : hostScore(route, req.host);
    if (host < 0 || host < bestHost) continue;
    const rule = ruleScore(route, req);
    if (rule < 0) continue;
    if (host > bestHost || rule > bestRule) {
      bestIndex = i;
      bestHost = host;
      bestRule = rule;
    }
  }
  return bestIndex;
}
