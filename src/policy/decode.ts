// Decoders for the policy kinds: the CRD schema (schema.ts) first, then what the schema cannot say
// (CIDR syntax, RE2 regexes, ServerAuthorization's one-of client, Linkerd's ref rules), each problem
// located by field path. A decoder returns undefined when it reported an error.
import { compilePathRegex } from "../profiles/path-regex.ts";
import type { FieldPath } from "../resources/problem.ts";
import { isRecord, type Reporter, type Resource } from "../resources/kind.ts";
import { parseCidr } from "../config/cidr.ts";
import type { NetworkSpec } from "./model.ts";
import type {
  AuthorizationPolicySpec,
  DefaultPolicyName,
  HttpRouteMatch,
  HttpRouteRule,
  HttpRouteSpec,
  LabelSelector,
  MeshTlsAuthenticationSpec,
  NetworkAuthenticationSpec,
  ObjectRef,
  PathMatch,
  ProxyProtocol,
  ServerAuthorizationSpec,
  ServerSpec,
  ValueMatch,
} from "./model.ts";
import { type PolicyKindName, validatePolicySchema } from "./schema.ts";

type Json = Readonly<Record<string, unknown>>;

/** Runs the schema and hands the decoder a reporter that remembers whether an error was reported. */
function withSchema<T>(kind: PolicyKindName, resource: Resource, report: Reporter, decode: (spec: Json, error: (path: FieldPath, message: string) => void) => T): T | undefined {
  let failed = false;
  const error = (path: FieldPath, message: string) => {
    failed = true;
    report.error(path, message);
  };
  for (const issue of validatePolicySchema(kind, resource.value)) error(issue.path, issue.message);
  if (failed) return undefined;
  const spec = isRecord(resource.value["spec"]) ? resource.value["spec"] : {};
  const value = decode(spec, error);
  return failed ? undefined : value;
}

const identity = (resource: Resource) => ({ name: resource.name ?? "", namespace: resource.namespace, resource });
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const records = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isRecord) : []);

export function labelSelectorOf(v: unknown): LabelSelector {
  const raw = isRecord(v) ? v : {};
  const labels = isRecord(raw["matchLabels"]) ? (raw["matchLabels"] as Record<string, string>) : {};
  return {
    matchLabels: labels,
    matchExpressions: records(raw["matchExpressions"]).map((e) => ({
      key: String(e["key"]),
      operator: e["operator"] as LabelSelector["matchExpressions"][number]["operator"],
      values: strings(e["values"]),
    })),
  };
}

function networksOf(v: unknown, at: FieldPath, error: (path: FieldPath, message: string) => void): NetworkSpec[] {
  return records(v).map((net, i) => {
    const cidr = String(net["cidr"]);
    const parsed = parseCidr(cidr);
    if (typeof parsed === "string") error([...at, i, "cidr"], parsed);
    const except = strings(net["except"]);
    except.forEach((e, j) => {
      const p = parseCidr(e);
      if (typeof p === "string") error([...at, i, "except", j], p);
    });
    return { cidr, except };
  });
}

function refOf(v: Json, namespace: string): ObjectRef {
  return {
    group: typeof v["group"] === "string" ? v["group"] : "",
    kind: String(v["kind"] ?? ""),
    name: String(v["name"] ?? ""),
    namespace: typeof v["namespace"] === "string" ? v["namespace"] : namespace,
  };
}

export function decodeServer(resource: Resource, report: Reporter): ServerSpec | undefined {
  return withSchema("Server", resource, report, (spec, error) => {
    const hasPods = spec["podSelector"] !== undefined;
    const hasExternal = spec["externalWorkloadSelector"] !== undefined;
    // The CRD's x-kubernetes-validations: exactly one selector.
    if (hasPods === hasExternal) error(["spec"], "set exactly one of podSelector and externalWorkloadSelector");
    const metadata = resource.value["metadata"] as Json;
    return {
      ...identity(resource),
      labels: isRecord(metadata["labels"]) ? (metadata["labels"] as Record<string, string>) : {},
      podSelector: hasPods ? labelSelectorOf(spec["podSelector"]) : undefined,
      port: spec["port"] as number | string,
      proxyProtocol: (spec["proxyProtocol"] as ProxyProtocol | undefined) ?? "unknown",
      accessPolicy: (spec["accessPolicy"] as DefaultPolicyName | undefined) ?? "deny",
    };
  });
}

export function decodeServerAuthorization(resource: Resource, report: Reporter): ServerAuthorizationSpec | undefined {
  return withSchema("ServerAuthorization", resource, report, (spec, error) => {
    const server = spec["server"] as Json;
    const client = spec["client"] as Json;
    if ((server["name"] === undefined) === (server["selector"] === undefined)) error(["spec", "server"], "set exactly one of name and selector");
    const meshTls = isRecord(client["meshTLS"]) ? client["meshTLS"] : undefined;
    const unauthenticated = client["unauthenticated"] === true;
    if (unauthenticated === (meshTls !== undefined)) error(["spec", "client"], "set exactly one of unauthenticated: true and meshTLS");
    let decoded: ServerAuthorizationSpec["client"] = { kind: "unauthenticated" };
    if (meshTls !== undefined) {
      if (meshTls["unauthenticatedTLS"] === true) {
        if (meshTls["identities"] !== undefined || meshTls["serviceAccounts"] !== undefined) {
          error(["spec", "client", "meshTLS"], "unauthenticatedTLS excludes identities and serviceAccounts");
        }
        decoded = { kind: "tls-unauthenticated" };
      } else {
        const identities = strings(meshTls["identities"]);
        for (const sa of records(meshTls["serviceAccounts"])) {
          identities.push(serviceAccountIdentity(String(sa["name"]), typeof sa["namespace"] === "string" ? sa["namespace"] : resource.namespace));
        }
        decoded = { kind: "tls-authenticated", identities };
      }
    }
    return {
      ...identity(resource),
      server: server["name"] !== undefined ? { name: String(server["name"]) } : { selector: labelSelectorOf(server["selector"]) },
      networks: client["networks"] === undefined ? undefined : networksOf(client["networks"], ["spec", "client", "networks"], error),
      client: decoded,
    };
  });
}

/**
 * A ServiceAccount's mesh identity. Linkerd appends `identity.<linkerd-ns>.<trust-domain>`; meshlet
 * uses Linkerd's defaults (linkerd, cluster.local) until the mTLS issue makes them settings.
 */
export function serviceAccountIdentity(name: string, namespace: string): string {
  return `${name}.${namespace}.serviceaccount.identity.linkerd.cluster.local`;
}

export function decodeAuthorizationPolicy(resource: Resource, report: Reporter): AuthorizationPolicySpec | undefined {
  return withSchema("AuthorizationPolicy", resource, report, (spec, error) => {
    const targetRef = refOf(spec["targetRef"] as Json, resource.namespace);
    const refs = records(spec["requiredAuthenticationRefs"]).map((r) => refOf(r, resource.namespace));
    // Linkerd's admission rules: at most one identity source, at most one NetworkAuthentication.
    const identityRefs = refs.filter((r) => r.kind === "MeshTLSAuthentication" || r.kind === "ServiceAccount");
    const networkRefs = refs.filter((r) => r.kind === "NetworkAuthentication");
    if (identityRefs.length > 1) error(["spec", "requiredAuthenticationRefs"], "at most one MeshTLSAuthentication or ServiceAccount may be required");
    if (networkRefs.length > 1) error(["spec", "requiredAuthenticationRefs"], "at most one NetworkAuthentication may be required");
    refs.forEach((r, i) => {
      if (r.kind !== "MeshTLSAuthentication" && r.kind !== "ServiceAccount" && r.kind !== "NetworkAuthentication") {
        error(["spec", "requiredAuthenticationRefs", i, "kind"], `unsupported authentication kind ${JSON.stringify(r.kind)} (MeshTLSAuthentication, NetworkAuthentication or ServiceAccount)`);
      }
    });
    if (!["Server", "HTTPRoute", "GRPCRoute", "Namespace"].includes(targetRef.kind)) {
      error(["spec", "targetRef", "kind"], `unsupported target kind ${JSON.stringify(targetRef.kind)} (Server, HTTPRoute, GRPCRoute or Namespace)`);
    }
    return { ...identity(resource), targetRef, requiredAuthenticationRefs: refs };
  });
}

export function decodeMeshTlsAuthentication(resource: Resource, report: Reporter): MeshTlsAuthenticationSpec | undefined {
  return withSchema("MeshTLSAuthentication", resource, report, (spec, error) => {
    if ((spec["identities"] === undefined) === (spec["identityRefs"] === undefined)) error(["spec"], "set exactly one of identities and identityRefs");
    const identities = strings(spec["identities"]);
    const unresolved: ObjectRef[] = [];
    for (const raw of records(spec["identityRefs"])) {
      const ref = refOf(raw, resource.namespace);
      if (ref.kind === "ServiceAccount" && ref.name !== "") identities.push(serviceAccountIdentity(ref.name, ref.namespace));
      else if (ref.kind === "ServiceAccount" && ref.name === "") identities.push("*"); // Linkerd: every identity
      else unresolved.push(ref);
    }
    return { ...identity(resource), identities, identityRefs: unresolved };
  });
}

export function decodeNetworkAuthentication(resource: Resource, report: Reporter): NetworkAuthenticationSpec | undefined {
  return withSchema("NetworkAuthentication", resource, report, (spec, error) => ({
    ...identity(resource),
    networks: networksOf(spec["networks"], ["spec", "networks"], error),
  }));
}

export function decodeHttpRoute(resource: Resource, report: Reporter): HttpRouteSpec | undefined {
  return withSchema("HTTPRoute", resource, report, (spec, error) => ({
    ...identity(resource),
    group: resource.group,
    parentRefs: records(spec["parentRefs"]).map((p) => ({
      ...refOf({ group: "gateway.networking.k8s.io", kind: "Gateway", ...p }, resource.namespace),
      port: typeof p["port"] === "number" ? p["port"] : undefined,
    })),
    hostnames: strings(spec["hostnames"]).map((h) => h.toLowerCase()),
    rules: records(spec["rules"]).map((rule, i): HttpRouteRule => ({
      matches: records(rule["matches"]).map((m, j) => decodeMatch(m, ["spec", "rules", i, "matches", j], error)),
    })),
  }));
}

function decodeMatch(m: Json, at: FieldPath, error: (path: FieldPath, message: string) => void): HttpRouteMatch {
  // Gateway API default: a match without path is PathPrefix "/".
  let path: PathMatch | undefined;
  if (isRecord(m["path"])) {
    const type = (m["path"]["type"] as PathMatch["type"] | undefined) ?? "PathPrefix";
    const value = typeof m["path"]["value"] === "string" ? m["path"]["value"] : "/";
    if (type === "RegularExpression") {
      const re = compilePathRegex(value);
      if (!re.ok) error([...at, "path", "value"], re.error);
      path = { type, value, test: re.ok ? re.test : () => false };
    } else {
      if (!value.startsWith("/")) error([...at, "path", "value"], `path ${JSON.stringify(value)} must start with /`);
      path = { type, value };
    }
  }
  const values = (key: "headers" | "queryParams"): ValueMatch[] =>
    records(m[key]).map((h, k) => {
      const type = (h["type"] as ValueMatch["type"] | undefined) ?? "Exact";
      const value = String(h["value"]);
      let test: ValueMatch["test"];
      if (type === "RegularExpression") {
        const re = compilePathRegex(value);
        if (!re.ok) error([...at, key, k, "value"], re.error);
        test = re.ok ? re.test : () => false;
      }
      const name = String(h["name"]);
      return { name: key === "headers" ? name.toLowerCase() : name, type, value, test };
    });
  return { path, headers: values("headers"), queryParams: values("queryParams"), method: typeof m["method"] === "string" ? m["method"] : undefined };
}
