// The policy resource kinds (Server, ServerAuthorization, AuthorizationPolicy, MeshTLSAuthentication,
// NetworkAuthentication, HTTPRoute in both groups): decoders, the checks across the set that `meshlet
// check` reports (dangling references, Servers that select no port here, overlapping Servers), and indexes.
import type { Decoded, DecodedSet, ResourceKind, SetReporter } from "../resources/kind.ts";
import {
  decodeAuthorizationPolicy,
  decodeHttpRoute,
  decodeMeshTlsAuthentication,
  decodeNetworkAuthentication,
  decodeServer,
  decodeServerAuthorization,
} from "./decode.ts";
import { selectorMatches } from "./label-selector.ts";
import type {
  AuthorizationPolicySpec,
  HttpRouteSpec,
  MeshTlsAuthenticationSpec,
  NetworkAuthenticationSpec,
  ObjectRef,
  ServerAuthorizationSpec,
  ServerSpec,
} from "./model.ts";

declare module "../resources/kind.ts" {
  interface Indexes {
    readonly servers: readonly ServerSpec[];
    readonly serverAuthorizations: readonly ServerAuthorizationSpec[];
    readonly authorizationPolicies: readonly AuthorizationPolicySpec[];
    readonly meshTlsAuthentications: readonly MeshTlsAuthenticationSpec[];
    readonly networkAuthentications: readonly NetworkAuthenticationSpec[];
    readonly policyHttpRoutes: readonly HttpRouteSpec[];
    readonly gatewayHttpRoutes: readonly HttpRouteSpec[];
  }
}

export const POLICY_GROUP = "policy.linkerd.io";
export const GATEWAY_GROUP = "gateway.networking.k8s.io";

/** The settings that decide which policy objects concern this pod. */
export interface PolicyKindSettings {
  /** MESHLET_NAMESPACE. */
  readonly namespace: string;
  /** MESHLET_POD_LABELS. */
  readonly podLabels: Readonly<Record<string, string>>;
}

const byNamespacedName = (spec: { name: string; namespace: string }) => `${spec.namespace}/${spec.name}`;
const values = <T>(own: readonly Decoded<T>[]): readonly T[] => own.map((d) => d.value);

/** Why `server` does not apply to this pod, or undefined when it does. */
export function serverMismatch(server: ServerSpec, settings: PolicyKindSettings): string | undefined {
  if (server.namespace !== settings.namespace) return `it is in namespace ${server.namespace}, and this pod in ${settings.namespace} (MESHLET_NAMESPACE)`;
  if (server.podSelector === undefined) return "it selects external workloads, not pods";
  if (!selectorMatches(server.podSelector, settings.podLabels)) {
    const labels = Object.entries(settings.podLabels).map(([k, v]) => `${k}=${v}`).join(",");
    return `its podSelector does not match this pod's labels (MESHLET_POD_LABELS=${JSON.stringify(labels)})`;
  }
  if (typeof server.port === "string") return `its port is the name ${JSON.stringify(server.port)}, and meshlet has no pod spec to resolve port names: use the number`;
  return undefined;
}

/** Every policy kind, in the order the registry lists them. */
export function policyKinds(settings: PolicyKindSettings) {
  const server: ResourceKind<ServerSpec, "servers"> = {
    group: POLICY_GROUP,
    kind: "Server",
    versions: ["v1beta3", "v1beta2", "v1beta1", "v1alpha1"],
    index: "servers",
    decode: decodeServer,
    uniqueKey: byNamespacedName,
    check(own, _set, report) {
      const byPort = new Map<number, ServerSpec>();
      for (const { value, resource } of own) {
        const mismatch = serverMismatch(value, settings);
        if (mismatch !== undefined) {
          report.warn(resource, ["spec"], `Server ${value.name} selects no port of this pod: ${mismatch}`);
          continue;
        }
        const port = value.port as number;
        const first = byPort.get(port);
        // Linkerd's admission webhook refuses a Server that overlaps another on a pod's port.
        if (first !== undefined) report.error(resource, ["spec", "port"], `Server ${value.name} overlaps Server ${first.name} on port ${port} of this pod (Linkerd's admission refuses overlapping Servers)`);
        else byPort.set(port, value);
      }
    },
    build: values,
  };

  const httpRoute = (group: string, versions: readonly string[], index: "policyHttpRoutes" | "gatewayHttpRoutes"): ResourceKind<HttpRouteSpec, typeof index> => ({
    group,
    kind: "HTTPRoute",
    versions,
    index,
    decode: decodeHttpRoute,
    uniqueKey: byNamespacedName,
    check(own, set, report) {
      for (const { value, resource } of own) {
        value.parentRefs.forEach((ref, i) => {
          if (ref.kind === "Server" && ref.group === POLICY_GROUP && !hasNamed(set.of(server), ref)) {
            report.missingReference(resource, ["spec", "parentRefs", i], `Server "${ref.name}" in namespace ${ref.namespace}`);
          }
        });
      }
    },
    build: values,
  });
  const policyRoute = httpRoute(POLICY_GROUP, ["v1beta3", "v1beta2", "v1beta1", "v1alpha1"], "policyHttpRoutes");
  const gatewayRoute = httpRoute(GATEWAY_GROUP, ["v1", "v1beta1", "v1alpha2"], "gatewayHttpRoutes");

  const meshTls: ResourceKind<MeshTlsAuthenticationSpec, "meshTlsAuthentications"> = {
    group: POLICY_GROUP,
    kind: "MeshTLSAuthentication",
    versions: ["v1alpha1"],
    index: "meshTlsAuthentications",
    decode: decodeMeshTlsAuthentication,
    uniqueKey: byNamespacedName,
    check(own, _set, report) {
      for (const { value, resource } of own) {
        for (const ref of value.identityRefs) {
          report.warn(resource, ["spec", "identityRefs"], `identityRefs of kind ${ref.kind} cannot be resolved without a cluster: it matches no identity`);
        }
      }
    },
    build: values,
  };

  const networkAuthn: ResourceKind<NetworkAuthenticationSpec, "networkAuthentications"> = {
    group: POLICY_GROUP,
    kind: "NetworkAuthentication",
    versions: ["v1alpha1"],
    index: "networkAuthentications",
    decode: decodeNetworkAuthentication,
    uniqueKey: byNamespacedName,
    build: values,
  };

  const serverAuthz: ResourceKind<ServerAuthorizationSpec, "serverAuthorizations"> = {
    group: POLICY_GROUP,
    kind: "ServerAuthorization",
    versions: ["v1beta1", "v1alpha1"],
    index: "serverAuthorizations",
    decode: decodeServerAuthorization,
    uniqueKey: byNamespacedName,
    check(own, set, report) {
      for (const { value, resource } of own) {
        if ("name" in value.server && !hasNamed(set.of(server), { name: value.server.name, namespace: value.namespace })) {
          report.missingReference(resource, ["spec", "server", "name"], `Server "${value.server.name}" in namespace ${value.namespace}`);
        }
      }
    },
    build: values,
  };

  const authzPolicy: ResourceKind<AuthorizationPolicySpec, "authorizationPolicies"> = {
    group: POLICY_GROUP,
    kind: "AuthorizationPolicy",
    versions: ["v1alpha1"],
    index: "authorizationPolicies",
    decode: decodeAuthorizationPolicy,
    uniqueKey: byNamespacedName,
    check(own, set, report) {
      for (const { value, resource } of own) checkAuthorizationPolicy(value, resource, set, report);
    },
    build: values,
  };

  function checkAuthorizationPolicy(value: AuthorizationPolicySpec, resource: Decoded<unknown>["resource"], set: DecodedSet, report: SetReporter): void {
    const target = value.targetRef;
    const describe = (ref: ObjectRef) => `${ref.kind} "${ref.name}" in namespace ${ref.namespace}`;
    if (target.kind === "Namespace") {
      if (target.name !== value.namespace) report.warn(resource, ["spec", "targetRef", "name"], `a policy can target only its own namespace (${value.namespace}): it applies to nothing`);
    } else {
      const candidates =
        target.kind === "Server" ? set.of(server) : target.kind === "HTTPRoute" ? [...set.of(policyRoute), ...set.of(gatewayRoute)].filter((r) => r.value.group === (target.group || POLICY_GROUP)) : [];
      if (target.kind === "GRPCRoute") report.warn(resource, ["spec", "targetRef"], "GRPCRoute is not implemented: this policy applies to nothing");
      else if (!hasNamed(candidates, target)) report.missingReference(resource, ["spec", "targetRef"], describe(target));
    }
    value.requiredAuthenticationRefs.forEach((ref, i) => {
      const candidates = ref.kind === "MeshTLSAuthentication" ? set.of(meshTls) : ref.kind === "NetworkAuthentication" ? set.of(networkAuthn) : undefined;
      if (candidates !== undefined && !hasNamed(candidates, ref)) report.missingReference(resource, ["spec", "requiredAuthenticationRefs", i], describe(ref));
    });
  }

  return { server, serverAuthz, authzPolicy, meshTls, networkAuthn, policyRoute, gatewayRoute };
}

function hasNamed(objects: readonly Decoded<{ name: string; namespace: string }>[], ref: { name: string; namespace: string }): boolean {
  return objects.some((o) => o.value.name === ref.name && o.value.namespace === ref.namespace);
}
