// The ServiceProfile model after validation: normalised match trees (plain data, for display and
// tests), compiled routes (closures built once at load), and the profile set a lookup reads.
import type { RetryBudgetParams, TpsBudget } from "../retry/budget.ts";

// === Conditions as data ===

/** A request condition. Several fields in one YAML match object become `all` (Linkerd's controller). */
export type RequestMatchSpec =
  | { readonly kind: "all"; readonly matches: readonly RequestMatchSpec[] }
  | { readonly kind: "any"; readonly matches: readonly RequestMatchSpec[] }
  | { readonly kind: "not"; readonly match: RequestMatchSpec }
  /** Trimmed regex, matched against the whole path (query excluded). */
  | { readonly kind: "path"; readonly regex: string }
  /** Exact, case-sensitive method (RFC 9110 §9.1). */
  | { readonly kind: "method"; readonly method: string };

/** A response condition. */
export type ResponseMatchSpec =
  | { readonly kind: "all"; readonly matches: readonly ResponseMatchSpec[] }
  | { readonly kind: "any"; readonly matches: readonly ResponseMatchSpec[] }
  | { readonly kind: "not"; readonly match: ResponseMatchSpec }
  /** Inclusive range; a min-only or max-only range in YAML is normalised to that one code. */
  | { readonly kind: "status"; readonly min: number; readonly max: number };

export interface ResponseClassSpec {
  readonly condition: ResponseMatchSpec;
  readonly isFailure: boolean;
}

export interface RouteSpec {
  readonly name: string;
  readonly condition: RequestMatchSpec;
  readonly responseClasses: readonly ResponseClassSpec[];
  readonly isRetryable: boolean;
  /** Whole-request timeout (including retries), until the response headers arrive. */
  readonly timeoutMs: number | undefined;
}

/** A traffic-split target. `weight` in decimillis, as Linkerd sends it (weight 1 → 10000). */
export interface WeightedDst {
  readonly authority: string;
  readonly weight: number;
}

export interface PortRange {
  readonly from: number;
  readonly to: number;
}

// === Compiled ===

/** Decides whether a request belongs to a route. `path` excludes the query. Allocation-free. */
export type RequestMatcher = (method: string, path: string) => boolean;
export type StatusMatcher = (status: number) => boolean;

export interface ResponseClass {
  readonly isFailure: boolean;
  readonly matches: StatusMatcher;
}

export interface Route {
  /** The `rt_route` label; undefined only for the synthesized default route (no label at all). */
  readonly name: string | undefined;
  readonly matches: RequestMatcher;
  readonly responseClasses: readonly ResponseClass[];
  readonly timeoutMs: number | undefined;
  readonly isRetryable: boolean;
  /** The condition as data; undefined for the default route. */
  readonly condition: RequestMatchSpec | undefined;
}

/** A validated profile, without runtime state. */
export interface ProfileSpec {
  /** metadata.name as written (already lowercase: it is a DNS-1123 name, optionally `:port`). */
  readonly name: string;
  /** metadata.namespace ("default" when absent, as in Kubernetes); see precedence.ts. */
  readonly namespace: string;
  /** Configured routes in order, then the default route. Never empty. */
  readonly routes: readonly Route[];
  /** The profile's budget, or Linkerd's default when it sets none. */
  readonly retryBudget: RetryBudgetParams;
  /** Weight-0 targets are already dropped, as Linkerd does. */
  readonly dstOverrides: readonly WeightedDst[];
  readonly opaquePorts: readonly PortRange[];
}

/** A profile in force: its spec plus the one retry budget its retryable routes share. */
export interface Profile extends ProfileSpec {
  readonly budget: TpsBudget;
}

/** The profiles in force in one configuration generation, keyed by name. Immutable. */
export interface ProfileSet {
  /** For each name, the profile that applies (client namespace first, then the service's: precedence.ts). */
  readonly byName: ReadonlyMap<string, Profile>;
}

export const EMPTY_PROFILE_SET: ProfileSet = Object.freeze({ byName: new Map<string, Profile>() });
