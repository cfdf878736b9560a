// The compiled inbound policy of one configuration generation: per destination port, the Server in
// force (or the default policy), its routes with their authorizations, and the port's TCP authorizations.
// Built by compile.ts; read per request by decide.ts and per push by l4-table.ts.
import type { ProxyProtocol } from "../policy/model.ts";
import type { Authorization, PolicyMeta } from "./authorization.ts";
import type { MatchableRoute } from "./route-match.ts";

export interface CompiledRoute extends MatchableRoute {
  readonly meta: PolicyMeta;
  /** The route's own authorizations, then the Server's (AuthorizationPolicies on it, ServerAuthorizations, accessPolicy). */
  readonly authorizations: readonly Authorization[];
}

export interface PortPolicy {
  /** Stable within a generation; the L4 table's entry id (0 = the default entry). */
  readonly id: number;
  /** The Server's labels, or `kind: default, name: <policy>` for ports no Server selects. */
  readonly server: PolicyMeta;
  readonly protocol: ProxyProtocol;
  /** Linkerd's `deny` default: every connection refused at accept, HTTP included. */
  readonly denyAtAccept: boolean;
  /** Authorizations for TCP (non-HTTP) connections: the Server's, in order. */
  readonly authorizations: readonly Authorization[];
  /** HTTP routes; a Server without attached routes gets one `default` route matching everything. */
  readonly routes: readonly CompiledRoute[];
  /** Audit: what no authorization admits is allowed anyway, labelled authz_name="audit". */
  readonly audit: boolean;
}

export interface InboundPolicy {
  /** Ports selected by a Server. */
  readonly byPort: ReadonlyMap<number, PortPolicy>;
  /** Every other port: the default policy (MESHLET_DEFAULT_INBOUND_POLICY). */
  readonly fallback: PortPolicy;
}

export function portPolicyOf(policy: InboundPolicy, port: number): PortPolicy {
  return policy.byPort.get(port) ?? policy.fallback;
}

export const DEFAULT_ROUTE_META: PolicyMeta = Object.freeze({ group: "", kind: "default", name: "default" });
export const AUDIT_META: PolicyMeta = Object.freeze({ group: "", kind: "default", name: "audit" });
