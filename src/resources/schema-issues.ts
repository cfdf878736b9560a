// Converts ajv schema errors into located issues (field path + a person's wording): shared by the
// resource kinds whose CRD shapes are checked with JSON schemas (profiles, policy).
import type { ErrorObject } from "ajv";

export interface SchemaIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Turns ajv's errors into located, deduplicated issues. `patternMessage` words a failed `pattern`
 * for the value (default: "does not match <pattern>").
 */
export function schemaIssues(errors: readonly ErrorObject[], root: unknown, patternMessage?: (value: unknown) => string): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const err of errors) {
    const issue = toIssue(err, root, patternMessage);
    if (issue === undefined) continue;
    const key = `${issue.path.join("\u0000")}\u0001${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function toIssue(err: ErrorObject, root: unknown, patternMessage: ((value: unknown) => string) | undefined): SchemaIssue | undefined {
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
      return { path, message: patternMessage?.(err.data) ?? `${JSON.stringify(err.data)} does not match ${String((err.params as { pattern?: unknown }).pattern)}` };
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
