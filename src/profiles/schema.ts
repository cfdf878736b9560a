// JSON schemas for the ServiceProfile CRD (linkerd.io v1alpha2, and v1alpha1 where routes are
// required), compiled with ajv. They check shapes and types; the semantic rules of Linkerd's
// `pkg/profiles` (and ours) live in decode.ts. Unknown fields are rejected, as
// `linkerd profile validate` does (yaml.UnmarshalStrict), except under metadata.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });

/**
 * `not`: an object in Linkerd's Go types, an array in its CRD schema (a quirk); both are accepted,
 * the array form with exactly one element.
 */
const notOf = (name: string) => ({
  if: { type: "array" },
  then: { type: "array", items: ref(name), minItems: 1, maxItems: 1 },
  else: ref(name),
});

// https://github.com/kubernetes/apimachinery resource.Quantity syntax, as in the CRD.
const QUANTITY = "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

function serviceProfileSchema(routesRequired: boolean): object {
  return {
    type: "object",
    required: ["apiVersion", "kind", "metadata"],
    additionalProperties: false,
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string" }, namespace: { type: "string" } },
      },
      spec: ref("spec"),
      // Objects exported from a cluster may carry an (empty) status; it means nothing here.
      status: {},
    },
    definitions: {
      spec: {
        type: "object",
        additionalProperties: false,
        ...(routesRequired ? { required: ["routes"] } : {}),
        properties: {
          routes: { type: "array", items: ref("route") },
          retryBudget: ref("retryBudget"),
          dstOverrides: { type: "array", items: ref("weightedDst") },
          opaquePorts: { type: "array", items: { type: ["string", "integer"] } },
        },
      },
      route: {
        type: "object",
        additionalProperties: false,
        required: ["name", "condition"],
        properties: {
          name: { type: "string" },
          condition: ref("requestMatch"),
          responseClasses: { type: "array", items: ref("responseClass") },
          isRetryable: { type: "boolean" },
          timeout: { type: "string" },
        },
      },
      requestMatch: {
        type: "object",
        additionalProperties: false,
        properties: {
          pathRegex: { type: "string" },
          method: { type: "string" },
          all: { type: "array", items: ref("requestMatch") },
          any: { type: "array", items: ref("requestMatch") },
          not: notOf("requestMatch"),
        },
      },
      responseClass: {
        type: "object",
        additionalProperties: false,
        required: ["condition"],
        properties: {
          condition: ref("responseMatch"),
          isFailure: { type: "boolean" },
        },
      },
      responseMatch: {
        type: "object",
        additionalProperties: false,
        properties: {
          status: ref("range"),
          all: { type: "array", items: ref("responseMatch") },
          any: { type: "array", items: ref("responseMatch") },
          not: notOf("responseMatch"),
        },
      },
      range: {
        type: "object",
        additionalProperties: false,
        properties: { min: { type: "integer" }, max: { type: "integer" } },
      },
      retryBudget: {
        type: "object",
        additionalProperties: false,
        required: ["minRetriesPerSecond", "retryRatio", "ttl"],
        properties: {
          minRetriesPerSecond: { type: "integer" },
          retryRatio: { type: "number" },
          ttl: { type: "string" },
        },
      },
      weightedDst: {
        type: "object",
        additionalProperties: false,
        required: ["authority", "weight"],
        properties: {
          authority: { type: "string" },
          weight: { type: ["integer", "string"], pattern: QUANTITY },
        },
      },
    },
  };
}

export interface SchemaIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
const validators = new Map<string, ValidateFunction>([
  ["v1alpha2", ajv.compile(serviceProfileSchema(false))],
  ["v1alpha1", ajv.compile(serviceProfileSchema(true))],
]);

/** Validates a ServiceProfile document of the given version against the CRD schema. */
export function validateServiceProfileSchema(version: string, value: unknown): readonly SchemaIssue[] {
  const validate = validators.get(version);
  if (validate === undefined) return [{ path: ["apiVersion"], message: `unsupported version ${version}` }];
  if (validate(value)) return [];
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    const issue = toIssue(err, value);
    if (issue === undefined) continue;
    const key = `${issue.path.join("\u0000")}\u0001${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function toIssue(err: ErrorObject, root: unknown): SchemaIssue | undefined {
  const path = pointerToPath(err.instancePath, root);
  switch (err.keyword) {
    case "if":
      return undefined; // "must match then/else": the branch's own errors say what is wrong
    case "required": {
      const missing = String((err.params as { missingProperty?: unknown }).missingProperty);
      return { path: [...path, missing], message: `missing required field ${missing}` };
    }
    case "additionalProperties": {
      const extra = String((err.params as { additionalProperty?: unknown }).additionalProperty);
      const known = Object.keys((err.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const close = known.find((k) => k.toLowerCase() === extra.toLowerCase());
      const hint = close !== undefined ? ` (did you mean ${close}?)` : known.length > 0 ? ` (known: ${known.join(", ")})` : "";
      return { path: [...path, extra], message: `unknown field ${extra}${hint}` };
    }
    case "type": {
      const want = (err.params as { type?: unknown }).type;
      const wanted = Array.isArray(want) ? want.join(" or ") : String(want);
      return { path, message: `must be ${article(wanted)}, got ${describeValue(err.data)}` };
    }
    case "minItems":
    case "maxItems":
      if (path[path.length - 1] === "not") return { path, message: "not takes exactly one condition" };
      return { path, message: err.message ?? err.keyword };
    case "pattern":
      return { path, message: `${JSON.stringify(err.data)} is not a Kubernetes quantity (e.g. 1, 500m, 0.5)` };
    default:
      return { path, message: err.message ?? err.keyword };
  }
}

function pointerToPath(pointer: string, root: unknown): (string | number)[] {
  if (pointer === "") return [];
  const out: (string | number)[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node) && /^\d+$/.test(seg)) {
      const i = Number(seg);
      out.push(i);
      node = node[i];
    } else {
      out.push(seg);
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function article(type: string): string {
  if (type === "object") return "a mapping";
  if (type === "array") return "a list";
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}
