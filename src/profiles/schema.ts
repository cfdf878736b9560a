// JSON schemas for the ServiceProfile CRD (linkerd.io v1alpha2, and v1alpha1 where routes are
// required), compiled with ajv. They check shapes and types; the semantic rules of Linkerd's
// `pkg/profiles` (and ours) live in decode.ts. Unknown fields are rejected, as
// `linkerd profile validate` does (yaml.UnmarshalStrict), except under metadata.
import type { ValidateFunction } from "ajv";
import { onFirstUse } from "../rt/on-first-use.ts";
import { type SchemaIssue, schemaIssues } from "../resources/schema-issues.ts";

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

/** The validators, compiled (ajv loaded) with the first ServiceProfile document. */
const validators = onFirstUse(() => {
  const Ajv = (require("ajv") as typeof import("ajv")).default;
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
  return new Map<string, ValidateFunction>([
    ["v1alpha2", ajv.compile(serviceProfileSchema(false))],
    ["v1alpha1", ajv.compile(serviceProfileSchema(true))],
  ]);
});

const quantityMessage = (value: unknown) => `${JSON.stringify(value)} is not a Kubernetes quantity (e.g. 1, 500m, 0.5)`;

/** Validates a ServiceProfile document of the given version against the CRD schema. */
export function validateServiceProfileSchema(version: string, value: unknown): readonly SchemaIssue[] {
  const validate = validators().get(version);
  if (validate === undefined) return [{ path: ["apiVersion"], message: `unsupported version ${version}` }];
  if (validate(value)) return [];
  return schemaIssues(validate.errors ?? [], value, quantityMessage);
}
