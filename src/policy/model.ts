// The decoded forms of Linkerd's policy resources (one object per document), as the kinds in
// src/policy/kinds.ts produce them and src/authz/compile.ts reads them.
import type { DefaultPolicyName } from "../config/default-policies.ts";
import type { Resource } from "../resources/kind.ts";

export { DEFAULT_POLICIES, type DefaultPolicyName } from "../config/default-policies.ts";

/** Client networks of an authorization: a CIDR and the CIDRs inside it that are excluded. */
export interface NetworkSpec {
  readonly cidr: string;
  readonly except: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: ReadonlyArray<{ readonly key: string; readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; readonly values: readonly string[] }>;
}

export type ProxyProtocol = "unknown" | "HTTP/1" | "HTTP/2" | "gRPC" | "opaque" | "TLS";

/** What every decoded policy object carries: its identity and where it came from (for check's locations). */
export interface PolicyObject {
  readonly name: string;
  readonly namespace: string;
  readonly resource: Resource;
}

export interface ServerSpec extends PolicyObject {
  /** metadata.labels: what a ServerAuthorization's server.selector matches. */
  readonly labels: Readonly<Record<string, string>>;
  /** Undefined for a Server that selects external workloads (never this pod). */
  readonly podSelector: LabelSelector | undefined;
  /** A port number, or a pod port name (which meshlet cannot resolve: no pod spec). */
  readonly port: number | string;
  readonly proxyProtocol: ProxyProtocol;
  /** v1beta3; "deny" (no authorization) by default. */
  readonly accessPolicy: DefaultPolicyName;
}

export interface ObjectRef {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

export interface AuthorizationPolicySpec extends PolicyObject {
  readonly targetRef: ObjectRef;
  readonly requiredAuthenticationRefs: readonly ObjectRef[];
}

export interface MeshTlsAuthenticationSpec extends PolicyObject {
  /** Exact identities, `*.suffix` and `*`; identityRefs to ServiceAccounts already expanded. */
  readonly identities: readonly string[];
  /** identityRefs of kind Namespace / other kinds meshlet cannot expand, kept for check. */
  readonly identityRefs: readonly ObjectRef[];
}

export interface NetworkAuthenticationSpec extends PolicyObject {
  readonly networks: readonly NetworkSpec[];
}

export interface ServerAuthorizationSpec extends PolicyObject {
  readonly server: { readonly name: string } | { readonly selector: LabelSelector };
  /** undefined: every client network (ServerAuthorization's default, Linkerd's). */
  readonly networks: readonly NetworkSpec[] | undefined;
  readonly client:
    | { readonly kind: "unauthenticated" }
    | { readonly kind: "tls-unauthenticated" }
    | { readonly kind: "tls-authenticated"; readonly identities: readonly string[] };
}

export type PathMatch =
  | { readonly type: "Exact"; readonly value: string }
  | { readonly type: "PathPrefix"; readonly value: string }
  | { readonly type: "RegularExpression"; readonly value: string; readonly test: (path: string) => boolean };

export interface ValueMatch {
  readonly name: string;
  readonly type: "Exact" | "RegularExpression";
  readonly value: string;
  /** Whole-value RE2 match, for RegularExpression. */
  readonly test: ((value: string) => boolean) | undefined;
}

export interface HttpRouteMatch {
  readonly path: PathMatch | undefined;
  readonly headers: readonly ValueMatch[];
  readonly queryParams: readonly ValueMatch[];
  readonly method: string | undefined;
}

export interface HttpRouteRule {
  /** Empty: the rule matches every request (as `PathPrefix /`). */
  readonly matches: readonly HttpRouteMatch[];
}

export interface HttpRouteSpec extends PolicyObject {
  /** policy.linkerd.io or gateway.networking.k8s.io. */
  readonly group: string;
  readonly parentRefs: ReadonlyArray<ObjectRef & { readonly port: number | undefined }>;
  readonly hostnames: readonly string[];
  readonly rules: readonly HttpRouteRule[];
}

/** The policy objects of one configuration generation, as the kinds build them. */
export interface PolicySet<T> {
  readonly items: readonly T[];
}
