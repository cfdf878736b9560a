// Compiles the policy objects of a generation into the per-port InboundPolicy for this pod: which
// Server owns each port (podSelector, namespace, port), its authorizations (AuthorizationPolicy on the
// Server or namespace, ServerAuthorization, accessPolicy) and its routes (HTTPRoutes whose parent is it).
import type { Indexes } from "../resources/kind.ts";
import { serviceAccountIdentity } from "../policy/decode.ts";
import { serverMismatch } from "../policy/kinds.ts";
import { selectorMatches } from "../policy/label-selector.ts";
import type { AuthorizationPolicySpec, DefaultPolicyName, HttpRouteSpec, ServerSpec } from "../policy/model.ts";
import { type Authentication, type Authorization, tlsAuthenticated } from "./authorization.ts";
import { defaultAuthorizations } from "./default-policy.ts";
import { type CompiledRoute, DEFAULT_ROUTE_META, type InboundPolicy, type PortPolicy } from "./inbound-policy.ts";
import { ALL_NETWORKS, NetworkMatcher, type NetworkSpec } from "./networks.ts";

export type PolicyObjects = Pick<
  Indexes,
  "servers" | "serverAuthorizations" | "authorizationPolicies" | "meshTlsAuthentications" | "networkAuthentications" | "policyHttpRoutes" | "gatewayHttpRoutes"
>;

export interface PolicySettings {
  /** MESHLET_NAMESPACE. */
  readonly namespace: string;
  /** MESHLET_POD_LABELS. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** MESHLET_DEFAULT_INBOUND_POLICY. */
  readonly defaultPolicy: DefaultPolicyName;
  /** MESHLET_CLUSTER_NETWORKS, as CIDR text. */
  readonly clusterNetworks: readonly string[];
  /**
   * The L4 entry id of a Server (by `namespace/name`), ≥ 1 and stable across generations so the native
   * per-entry counters keep their meaning; default: position in this generation.
   */
  readonly entryIdOf?: (serverKey: string) => number;
}

const POLICY_GROUP = "policy.linkerd.io";

export function compileInboundPolicy(objects: PolicyObjects, settings: PolicySettings): InboundPolicy {
  const cluster = new NetworkMatcher(settings.clusterNetworks.map((cidr) => ({ cidr, except: [] })));
  const defaults = defaultAuthorizations(settings.defaultPolicy, cluster);
  const fallback: PortPolicy = {
    id: 0,
    server: { group: "", kind: "default", name: settings.defaultPolicy },
    protocol: "unknown",
    denyAtAccept: settings.defaultPolicy === "deny",
    authorizations: defaults,
    routes: [{ meta: DEFAULT_ROUTE_META, hostnames: [], rules: [], authorizations: defaults }],
    audit: settings.defaultPolicy === "audit",
  };

  const byPort = new Map<number, PortPolicy>();
  const servers = [...objects.servers].filter((s) => serverMismatch(s, settings) === undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const routes = [...objects.policyHttpRoutes, ...objects.gatewayHttpRoutes].sort(byCreationThenName);
  for (const server of servers) {
    const port = server.port as number;
    if (byPort.has(port)) continue; // overlapping Servers are refused by check; keep the first by name
    const authorizations = serverAuthorizations(server, objects, cluster);
    const attached = routes.filter((r) => isAttached(r, server, port));
    const compiledRoutes: CompiledRoute[] =
      attached.length === 0
        ? [{ meta: DEFAULT_ROUTE_META, hostnames: [], rules: [], authorizations }]
        : attached.map((r) => ({
            meta: { group: r.group, kind: "HTTPRoute", name: r.name },
            hostnames: r.hostnames,
            rules: r.rules,
            authorizations: [...routeAuthorizations(r, objects), ...authorizations],
          }));
    byPort.set(port, {
      id: settings.entryIdOf?.(`${server.namespace}/${server.name}`) ?? byPort.size + 1,
      server: { group: POLICY_GROUP, kind: "server", name: server.name },
      protocol: server.proxyProtocol,
      denyAtAccept: false,
      authorizations,
      routes: compiledRoutes,
      audit: server.accessPolicy === "audit",
    });
  }
  return { byPort, fallback };
}

/**
 * Linkerd's route order, which breaks precedence ties: oldest first (`metadata.creationTimestamp`, when
 * the YAML was exported from a cluster), then by namespace and name.
 */
function byCreationThenName(a: HttpRouteSpec, b: HttpRouteSpec): number {
  const created = (r: HttpRouteSpec) => {
    const meta = r.resource.value["metadata"] as Record<string, unknown> | undefined;
    const at = meta?.["creationTimestamp"];
    return typeof at === "string" ? Date.parse(at) || 0 : 0;
  };
  const byTime = created(a) - created(b);
  if (byTime !== 0) return byTime;
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function isAttached(route: HttpRouteSpec, server: ServerSpec, port: number): boolean {
  return route.parentRefs.some(
    (p) => p.kind === "Server" && p.group === POLICY_GROUP && p.name === server.name && p.namespace === server.namespace && (p.port === undefined || p.port === port),
  );
}

/** AuthorizationPolicies on the Server or its namespace, then ServerAuthorizations, then the accessPolicy. */
function serverAuthorizations(server: ServerSpec, objects: PolicyObjects, cluster: NetworkMatcher): Authorization[] {
  const out: Authorization[] = [];
  for (const policy of objects.authorizationPolicies) {
    const t = policy.targetRef;
    const onServer = t.kind === "Server" && (t.group === "" || t.group === POLICY_GROUP) && t.name === server.name && t.namespace === server.namespace;
    const onNamespace = t.kind === "Namespace" && t.name === server.namespace && policy.namespace === server.namespace;
    if (onServer || onNamespace) pushPolicy(out, policy, objects);
  }
  for (const sa of objects.serverAuthorizations) {
    if (sa.namespace !== server.namespace) continue;
    const selects = "name" in sa.server ? sa.server.name === server.name : selectorMatches(sa.server.selector, server.labels);
    if (!selects) continue;
    const authn: Authentication =
      sa.client.kind === "tls-authenticated" ? tlsAuthenticated(sa.client.identities) : { kind: sa.client.kind };
    // Without `networks`, a ServerAuthorization admits the cluster networks (Linkerd's default).
    const networks = sa.networks === undefined ? cluster : new NetworkMatcher(sa.networks);
    out.push({ meta: { group: POLICY_GROUP, kind: "serverauthorization", name: sa.name }, networks, authn });
  }
  if (server.accessPolicy !== "deny" && server.accessPolicy !== "audit") out.push(...defaultAuthorizations(server.accessPolicy, cluster));
  return out;
}

function routeAuthorizations(route: HttpRouteSpec, objects: PolicyObjects): Authorization[] {
  const out: Authorization[] = [];
  for (const policy of objects.authorizationPolicies) {
    const t = policy.targetRef;
    if (t.kind === "HTTPRoute" && (t.group === "" ? POLICY_GROUP : t.group) === route.group && t.name === route.name && t.namespace === route.namespace) {
      pushPolicy(out, policy, objects);
    }
  }
  return out;
}

/**
 * An AuthorizationPolicy as one authorization: identities from its MeshTLSAuthentication or
 * ServiceAccount (else unauthenticated), networks from its NetworkAuthentication (else all).
 * A policy whose references are absent authorizes nothing (Linkerd's controller skips it).
 */
function pushPolicy(out: Authorization[], policy: AuthorizationPolicySpec, objects: PolicyObjects): void {
  let authn: Authentication = { kind: "unauthenticated" };
  let networks: readonly NetworkSpec[] = ALL_NETWORKS;
  for (const ref of policy.requiredAuthenticationRefs) {
    if (ref.kind === "ServiceAccount") {
      authn = tlsAuthenticated([serviceAccountIdentity(ref.name, ref.namespace)]);
    } else if (ref.kind === "MeshTLSAuthentication") {
      const m = objects.meshTlsAuthentications.find((x) => x.name === ref.name && x.namespace === ref.namespace);
      if (m === undefined) return;
      authn = tlsAuthenticated(m.identities);
    } else if (ref.kind === "NetworkAuthentication") {
      const n = objects.networkAuthentications.find((x) => x.name === ref.name && x.namespace === ref.namespace);
      if (n === undefined) return;
      networks = n.networks;
    } else {
      return;
    }
  }
  out.push({ meta: { group: POLICY_GROUP, kind: "authorizationpolicy", name: policy.name }, networks: new NetworkMatcher(networks), authn });
}
