// The per-request and per-connection decisions (Linkerd's policy/http.rs and policy/tcp.rs): pure
// functions of the compiled PortPolicy, the request and the client. HTTP: best route by Gateway API
// precedence → first authorization that admits the client; audit turns a denial into an allow.
import { type Authorization, type ClientInfo, firstAuthorizing, type PolicyMeta } from "./authorization.ts";
import { AUDIT_META, type CompiledRoute, type PortPolicy } from "./inbound-policy.ts";
import { type RouteRequest, selectRoute } from "./route-match.ts";

export type HttpDecision =
  | { readonly kind: "allow"; readonly route: CompiledRoute; readonly authz: PolicyMeta }
  /** The route authorizes no matching client: 403 (gRPC: 200 with grpc-status 7). */
  | { readonly kind: "deny"; readonly route: CompiledRoute }
  /** No route of the Server matches: 404. */
  | { readonly kind: "not-found" };

export function decideHttp(policy: PortPolicy, req: RouteRequest, client: ClientInfo): HttpDecision {
  const index = selectRoute(policy.routes, req);
  if (index < 0) return { kind: "not-found" };
  return decideOnRoute(policy, policy.routes[index]!, client);
}

/** The decision once the route is chosen: the first authorization that admits the client, or audit. */
export function decideOnRoute(policy: PortPolicy, route: CompiledRoute, client: ClientInfo): HttpDecision {
  const authz = firstAuthorizing(route.authorizations, client);
  if (authz !== undefined) return { kind: "allow", route, authz: authz.meta };
  if (policy.audit) return { kind: "allow", route, authz: AUDIT_META };
  return { kind: "deny", route };
}

export type TcpDecision = { readonly kind: "allow"; readonly authz: PolicyMeta } | { readonly kind: "deny" };

/** A non-HTTP connection to the port, decided at accept (what the native table computes). */
export function decideTcp(policy: PortPolicy, client: ClientInfo): TcpDecision {
  if (policy.denyAtAccept) return { kind: "deny" };
  const authz: Authorization | undefined = firstAuthorizing(policy.authorizations, client);
  if (authz !== undefined) return { kind: "allow", authz: authz.meta };
  return policy.audit ? { kind: "allow", authz: AUDIT_META } : { kind: "deny" };
}
