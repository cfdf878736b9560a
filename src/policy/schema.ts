// JSON schemas for Linkerd's policy CRDs (policy.linkerd.io Server, ServerAuthorization,
// AuthorizationPolicy, MeshTLSAuthentication, NetworkAuthentication, HTTPRoute) and the Gateway API
// HTTPRoute, after charts/linkerd-crds/templates/policy/*.yaml; compiled once with ajv.
import type { ValidateFunction } from "ajv";
import { onFirstUse } from "../rt/on-first-use.ts";
import { schemaIssues, type SchemaIssue } from "../resources/schema-issues.ts";
import { DEFAULT_POLICIES } from "./model.ts";

const obj = (properties: Record<string, object>, required: readonly string[] = []) => ({
  type: "object",
  additionalProperties: false,
  ...(required.length > 0 ? { required } : {}),
  properties,
});
const str = { type: "string" };
const strs = { type: "array", items: str };
const enumOf = (...values: string[]) => ({ type: "string", enum: values });

/** The envelope of every document; `spec` is the kind's own. */
const document = (spec: object, specRequired: boolean) => ({
  type: "object",
  required: ["apiVersion", "kind", "metadata", ...(specRequired ? ["spec"] : [])],
  additionalProperties: false,
  properties: {
    apiVersion: str,
    kind: str,
    metadata: { type: "object", required: ["name"], properties: { name: str, namespace: str } },
    spec,
    status: {},
  },
});

const LABEL_SELECTOR = obj({
  matchLabels: { type: "object", additionalProperties: str },
  matchExpressions: {
    type: "array",
    items: obj({ key: str, operator: enumOf("In", "NotIn", "Exists", "DoesNotExist"), values: strs }, ["key", "operator"]),
  },
});

const NETWORKS = { type: "array", items: obj({ cidr: str, except: strs }, ["cidr"]) };

const TARGET_REF = obj({ group: str, kind: str, name: str, namespace: str }, ["kind", "name"]);


const SERVER_SPEC = obj(
  {
    podSelector: LABEL_SELECTOR,
    externalWorkloadSelector: LABEL_SELECTOR,
    port: { anyOf: [{ type: "integer", minimum: 1, maximum: 65535 }, { type: "string", maxLength: 15, pattern: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$" }] },
    proxyProtocol: enumOf("unknown", "HTTP/1", "HTTP/2", "gRPC", "opaque", "TLS"),
    accessPolicy: enumOf(...DEFAULT_POLICIES),
  },
  ["port"],
);

const SERVER_AUTHORIZATION_SPEC = obj(
  {
    server: obj({ name: str, selector: LABEL_SELECTOR }),
    client: obj({
      networks: NETWORKS,
      unauthenticated: { type: "boolean" },
      meshTLS: obj({
        unauthenticatedTLS: { type: "boolean" },
        identities: strs,
        serviceAccounts: { type: "array", items: obj({ name: str, namespace: str }, ["name"]) },
      }),
    }),
  },
  ["server", "client"],
);

const AUTHORIZATION_POLICY_SPEC = obj(
  { targetRef: TARGET_REF, requiredAuthenticationRefs: { type: "array", items: TARGET_REF } },
  ["targetRef", "requiredAuthenticationRefs"],
);

const MESH_TLS_AUTHENTICATION_SPEC = obj({
  identities: { type: "array", items: str, minItems: 1 },
  identityRefs: { type: "array", items: obj({ group: str, kind: str, name: str, namespace: str }, ["kind"]), minItems: 1 },
});

const NETWORK_AUTHENTICATION_SPEC = obj({ networks: NETWORKS }, ["networks"]);

const HTTP_ROUTE_MATCH = obj({
  path: obj({ type: enumOf("Exact", "PathPrefix", "RegularExpression"), value: { type: "string", maxLength: 1024 } }),
  headers: { type: "array", maxItems: 16, items: obj({ type: enumOf("Exact", "RegularExpression"), name: str, value: str }, ["name", "value"]) },
  queryParams: { type: "array", maxItems: 16, items: obj({ type: enumOf("Exact", "RegularExpression"), name: str, value: str }, ["name", "value"]) },
  method: enumOf("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"),
});

/** Both groups share the rule shape; filters, backends and timeouts matter only outbound (not here). */
const HTTP_ROUTE_SPEC = obj({
  parentRefs: {
    type: "array",
    maxItems: 32,
    items: obj({ group: str, kind: str, namespace: str, name: str, sectionName: str, port: { type: "integer", minimum: 1, maximum: 65535 } }, ["name"]),
  },
  hostnames: { type: "array", maxItems: 16, items: str },
  rules: {
    type: "array",
    maxItems: 16,
    items: obj({
      name: str,
      matches: { type: "array", maxItems: 8, items: HTTP_ROUTE_MATCH },
      filters: { type: "array", maxItems: 16, items: { type: "object", required: ["type"], properties: { type: str } } },
      backendRefs: { type: "array", maxItems: 16, items: { type: "object", required: ["name"], properties: { name: str } } },
      timeouts: obj({ request: str, backendRequest: str }),
      retry: { type: "object" },
      sessionPersistence: { type: "object" },
    }),
  },
});

const POLICY_SPECS = {
  Server: SERVER_SPEC,
  ServerAuthorization: SERVER_AUTHORIZATION_SPEC,
  AuthorizationPolicy: AUTHORIZATION_POLICY_SPEC,
  MeshTLSAuthentication: MESH_TLS_AUTHENTICATION_SPEC,
  NetworkAuthentication: NETWORK_AUTHENTICATION_SPEC,
  HTTPRoute: HTTP_ROUTE_SPEC,
} as const;

export type PolicyKindName = keyof typeof POLICY_SPECS;

/** The validators, compiled (ajv loaded) with the first policy document. */
const policySchemas = onFirstUse(() => {
  const Ajv = (require("ajv") as typeof import("ajv")).default;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  const compiled = {} as Record<PolicyKindName, ValidateFunction>;
  for (const kind of Object.keys(POLICY_SPECS) as PolicyKindName[]) compiled[kind] = ajv.compile(document(POLICY_SPECS[kind], true));
  return compiled;
});

/** Shape and type problems of one document of `kind`, located by field path. */
export function validatePolicySchema(kind: PolicyKindName, value: unknown): readonly SchemaIssue[] {
  const validate = policySchemas()[kind];
  return validate(value) ? [] : schemaIssues(validate.errors ?? [], value);
}
