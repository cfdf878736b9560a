// One authorization as the proxy checks it (Linkerd's `is_authorized`, linkerd/app/inbound/src/policy.rs):
// the client IP must be in the networks (honouring `except`) and the authentication must pass.
// Identity is the client's verified mTLS identity, or undefined (every plaintext client).
import type { NetworkMatcher } from "./networks.ts";

/** Metric labels of a policy object: `<prefix>_group`, `<prefix>_kind`, `<prefix>_name`. */
export interface PolicyMeta {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

export type Authentication =
  | { readonly kind: "unauthenticated" }
  /** Mesh TLS was established, whatever (if any) the identity. */
  | { readonly kind: "tls-unauthenticated" }
  /** A verified identity: `any` (`*`), exact names, or `*.suffix` (kept as the suffix without `*.`). */
  | { readonly kind: "tls-authenticated"; readonly any: boolean; readonly exact: ReadonlySet<string>; readonly suffixes: readonly string[] };

export interface Authorization {
  readonly meta: PolicyMeta;
  readonly networks: NetworkMatcher;
  readonly authn: Authentication;
}

/** What the engine knows of a client: its address and, with mTLS, its identity. */
export interface ClientInfo {
  readonly ip: string;
  readonly identity: string | undefined;
}

/** MeshTLSAuthentication / ServerAuthorization identities into an Authentication. */
export function tlsAuthenticated(identities: readonly string[]): Authentication {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  let any = false;
  for (const id of identities) {
    if (id === "*") any = true;
    else if (id.startsWith("*.")) suffixes.push(id.slice(2));
    else exact.add(id);
  }
  return { kind: "tls-authenticated", any, exact, suffixes };
}

export function authenticates(authn: Authentication, identity: string | undefined): boolean {
  switch (authn.kind) {
    case "unauthenticated":
      return true;
    case "tls-unauthenticated":
      // Until meshlet terminates mesh TLS, only a client with an identity has established it.
      return identity !== undefined;
    case "tls-authenticated":
      if (identity === undefined) return false;
      if (authn.any || authn.exact.has(identity)) return true;
      for (const suffix of authn.suffixes) if (identity.endsWith(`.${suffix}`)) return true;
      return false;
  }
}

export function isAuthorized(authz: Authorization, client: ClientInfo): boolean {
  return authz.networks.includes(client.ip) && authenticates(authz.authn, client.identity);
}

/** The first authorization that admits the client, in list order (Linkerd's rule), or undefined. */
export function firstAuthorizing(authorizations: readonly Authorization[], client: ClientInfo): Authorization | undefined {
  for (const authz of authorizations) if (isAuthorized(authz, client)) return authz;
  return undefined;
}
