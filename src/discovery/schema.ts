// JSON schemas for Kubernetes' EndpointSlice (discovery.k8s.io/v1) and Service (v1), after the API's
// field types and limits; compiled once with ajv. A field Kubernetes does not define is a warning, not
// an error: the API server drops such fields, and Linkerd's own test objects carry some (`topology`).
import type { ErrorObject, ValidateFunction } from "ajv";
import { onFirstUse } from "../rt/on-first-use.ts";
import { schemaIssues, type SchemaIssue } from "../resources/schema-issues.ts";

const obj = (properties: Record<string, object>, required: readonly string[] = []) => ({
  type: "object",
  additionalProperties: false,
  ...(required.length > 0 ? { required } : {}),
  properties,
});
const orNull = (schema: Record<string, unknown>) => ({ ...schema, type: [schema["type"] as string, "null"] });
const str = { type: "string" };
const nullableStr = { type: ["string", "null"] };
const nullableBool = { type: ["boolean", "null"] };
const stringMap = { type: ["object", "null"], additionalProperties: str };
const portNumber = { type: "integer", minimum: 1, maximum: 65535 };
const protocol = { type: ["string", "null"], enum: ["TCP", "UDP", "SCTP", null] };

const METADATA = {
  type: "object",
  required: ["name"],
  properties: { name: str, namespace: str, labels: stringMap, annotations: stringMap },
};

/** One document: the envelope plus the kind's own top-level fields. */
const document = (fields: Record<string, object>) => obj({ apiVersion: str, kind: str, metadata: METADATA, ...fields }, ["apiVersion", "kind", "metadata"]);

const ENDPOINT = obj(
  {
    addresses: { type: "array", minItems: 1, maxItems: 100, items: str },
    conditions: orNull(obj({ ready: nullableBool, serving: nullableBool, terminating: nullableBool })),
    hostname: nullableStr,
    targetRef: { type: ["object", "null"] },
    nodeName: nullableStr,
    zone: nullableStr,
    hints: { type: ["object", "null"] },
    deprecatedTopology: stringMap,
  },
  ["addresses"],
);

const ENDPOINT_SLICE = document({
  addressType: { type: "string", enum: ["IPv4", "IPv6", "FQDN"] },
  endpoints: { type: ["array", "null"], maxItems: 1000, items: ENDPOINT },
  ports: {
    type: ["array", "null"],
    maxItems: 100,
    items: obj({ name: nullableStr, port: orNull(portNumber), protocol, appProtocol: nullableStr }),
  },
});

/** Service: `spec.ports` is what discovery reads, checked closely; the rest of the spec is Kubernetes' business. */
const SERVICE = document({
  spec: {
    type: ["object", "null"],
    properties: {
      ports: {
        type: ["array", "null"],
        items: obj(
          {
            name: nullableStr,
            port: portNumber,
            targetPort: { anyOf: [portNumber, { type: "string", minLength: 1 }, { type: "null" }] },
            protocol,
            appProtocol: nullableStr,
            nodePort: { type: ["integer", "null"] },
          },
          ["port"],
        ),
      },
    },
  },
  status: {},
});

export type DiscoveryKindName = "EndpointSlice" | "Service";

const validators = onFirstUse(() => {
  const Ajv = (require("ajv") as typeof import("ajv")).default;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  return { EndpointSlice: ajv.compile(ENDPOINT_SLICE), Service: ajv.compile(SERVICE) } satisfies Record<DiscoveryKindName, ValidateFunction>;
});

export interface SchemaResult {
  readonly errors: readonly SchemaIssue[];
  /** Fields Kubernetes does not define: ignored, as the API server ignores them. */
  readonly unknownFields: readonly SchemaIssue[];
}

/** Shape and type problems of one document of `kind`, located by field path. */
export function validateDiscoverySchema(kind: DiscoveryKindName, value: unknown): SchemaResult {
  const validate = validators()[kind];
  if (validate(value)) return { errors: [], unknownFields: [] };
  const all = (validate.errors ?? []).map(worded);
  return {
    errors: schemaIssues(all.filter((e) => e.keyword !== "additionalProperties"), value),
    unknownFields: schemaIssues(all.filter((e) => e.keyword === "additionalProperties"), value),
  };
}

/** ajv's wording names no value ("must be equal to one of the allowed values"): say what is allowed. */
function worded(err: ErrorObject): ErrorObject {
  switch (err.keyword) {
    case "enum": {
      const allowed = ((err.params as { allowedValues?: unknown[] }).allowedValues ?? []).filter((v) => v !== null);
      return { ...err, message: `must be one of ${allowed.join(", ")}, got ${JSON.stringify(err.data)}` };
    }
    case "minItems":
      return { ...err, message: `needs at least ${(err.params as { limit: number }).limit} entry` };
    case "maxItems":
      return { ...err, message: `has more than ${(err.params as { limit: number }).limit} entries (Kubernetes' limit)` };
    default:
      return err;
  }
}
