// Route matching and response classification: pure functions over compiled routes. Conditions are
// compiled once into closures, so matching a request allocates nothing; the first route that
// matches wins and the synthesized default route (last) matches everything.
import type {
  RequestMatcher,
  RequestMatchSpec,
  ResponseClass,
  ResponseMatchSpec,
  Route,
  RouteSpec,
  StatusMatcher,
} from "./model.ts";
import { compilePathRegex } from "./path-regex.ts";

// === Compiling conditions ===

/**
 * Compiles a request condition. Throws on an invalid regex: the decoder has already rejected
 * those with a located error, so a throw here is a bug.
 * Children of all/any are reordered cheapest first (method before regex); both are pure, so the
 * result is the same.
 */
export function compileRequestMatch(spec: RequestMatchSpec): RequestMatcher {
  switch (spec.kind) {
    case "method": {
      const want = spec.method;
      return (method) => method === want;
    }
    case "path": {
      const re = compilePathRegex(spec.regex);
      if (!re.ok) throw new Error(`bug: unvalidated pathRegex: ${re.error}`);
      const test = re.test;
      return (_method, path) => test(path);
    }
    case "not": {
      const inner = compileRequestMatch(spec.match);
      return (method, path) => !inner(method, path);
    }
    case "all": {
      const parts = byCost(spec.matches).map(compileRequestMatch);
      if (parts.length === 0) return () => true; // empty all matches everything
      if (parts.length === 1) return parts[0] as RequestMatcher;
      return (method, path) => {
        for (const m of parts) if (!m(method, path)) return false;
        return true;
      };
    }
    case "any": {
      const parts = byCost(spec.matches).map(compileRequestMatch);
      if (parts.length === 0) return () => false; // empty any matches nothing
      if (parts.length === 1) return parts[0] as RequestMatcher;
      return (method, path) => {
        for (const m of parts) if (m(method, path)) return true;
        return false;
      };
    }
  }
}

function cost(spec: RequestMatchSpec): number {
  switch (spec.kind) {
    case "method":
      return 0;
    case "path":
      return 1;
    default:
      return 2;
  }
}

function byCost(specs: readonly RequestMatchSpec[]): RequestMatchSpec[] {
  // Array.prototype.sort is stable: equal-cost children keep their order.
  return [...specs].sort((a, b) => cost(a) - cost(b));
}

export function compileResponseMatch(spec: ResponseMatchSpec): StatusMatcher {
  switch (spec.kind) {
    case "status": {
      const { min, max } = spec;
      return (status) => status >= min && status <= max;
    }
    case "not": {
      const inner = compileResponseMatch(spec.match);
      return (status) => !inner(status);
    }
    case "all": {
      const parts = spec.matches.map(compileResponseMatch);
      return (status) => {
        for (const m of parts) if (!m(status)) return false;
        return true;
      };
    }
    case "any": {
      const parts = spec.matches.map(compileResponseMatch);
      return (status) => {
        for (const m of parts) if (m(status)) return true;
        return false;
      };
    }
  }
}

export function compileRoute(spec: RouteSpec): Route {
  return Object.freeze({
    name: spec.name,
    matches: compileRequestMatch(spec.condition),
    responseClasses: Object.freeze(
      spec.responseClasses.map(
        (c): ResponseClass => Object.freeze({ isFailure: c.isFailure, matches: compileResponseMatch(c.condition) }),
      ),
    ),
    timeoutMs: spec.timeoutMs,
    isRetryable: spec.isRetryable,
    condition: spec.condition,
  });
}

/** Appended to every profile, and used when no profile applies: no name, so no `rt_route` label. */
export const DEFAULT_ROUTE: Route = Object.freeze({
  name: undefined,
  matches: () => true,
  responseClasses: Object.freeze([]),
  timeoutMs: undefined,
  isRetryable: false,
  condition: undefined,
});

// === Per request ===

/**
 * The route for a request: the first configured route that matches, else the default route.
 * `path` is the request path without the query (see `requestPath`). With no profile, the default.
 */
export function routeFor(profile: { readonly routes: readonly Route[] } | undefined, method: string, path: string): Route {
  if (profile === undefined) return DEFAULT_ROUTE;
  for (const route of profile.routes) if (route.matches(method, path)) return route;
  return DEFAULT_ROUTE; // unreachable when routes end with the default route, kept for hand-built lists
}

/**
 * The path part of a request-target (RFC 9112 §3.2): origin-form `/p?q` → `/p`; absolute-form
 * `http://h:1/p?q` → `/p` (`/` when empty); asterisk-form `*` → `*`. Not percent-decoded, like
 * Linkerd (which matches `uri.path()` as received). Allocates only when there is something to cut.
 */
export function requestPath(target: string): string {
  let start = 0;
  if (target.charCodeAt(0) !== 47 /* / */ && target !== "*") {
    const scheme = target.indexOf("://");
    if (scheme >= 0) {
      const slash = target.indexOf("/", scheme + 3);
      const q = target.indexOf("?", scheme + 3);
      if (slash < 0 || (q >= 0 && q < slash)) return "/";
      start = slash;
    }
  }
  let end = target.length;
  for (let i = start; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  return start === 0 && end === target.length ? target : target.slice(start, end);
}

export type Classification = "success" | "failure";

/** gRPC status codes that count as failures when classified by grpc-status (§2.4). */
export const GRPC_FAILURE_CODES: ReadonlySet<number> = new Set([2, 4, 7, 13, 14, 15]);

/**
 * Classifies a response (§2.4): the route's response classes in order, first match decides;
 * otherwise gRPC status when the caller has one (for gRPC requests), else 5xx is a failure.
 * Transport errors and timeouts are failures too, but never reach here: the caller labels them.
 */
export function classifyResponse(route: Route, status: number, grpcStatus?: number): Classification {
  for (const cls of route.responseClasses) {
    if (cls.matches(status)) return cls.isFailure ? "failure" : "success";
  }
  if (grpcStatus !== undefined) return GRPC_FAILURE_CODES.has(grpcStatus) ? "failure" : "success";
  return status >= 500 && status <= 599 ? "failure" : "success";
}
