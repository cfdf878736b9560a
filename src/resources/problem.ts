// Problems found while loading the config directory: one record per error or warning, each naming
// the file, the document, the field path and (where the parser knows it) the line.

export type Severity = "error" | "warning";

/** A path into a resource document: property names and array indexes, outermost first. */
export type FieldPath = readonly (string | number)[];

export interface Problem {
  readonly severity: Severity;
  /** The file as found in the config directory (directory joined with the file name). */
  readonly file: string;
  /** 1-based position of the YAML document in the file; 0 when the problem concerns the whole file. */
  readonly doc: number;
  /** Field path in the document, e.g. `spec.routes[0].condition.pathRegex`; "" for the document itself. */
  readonly path: string;
  /** 1-based line of the offending node (or of its nearest existing parent), when known. */
  readonly line: number | undefined;
  /** 1-based column, when known. */
  readonly column: number | undefined;
  /** Lowercase, no trailing period. */
  readonly message: string;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Renders a field path the way a person would write it: `spec.routes[0].condition`. */
export function formatFieldPath(path: FieldPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** One line per problem, compiler style: `file:line:col: error: doc 2: spec.routes[0]: message`. */
export function formatProblem(p: Problem): string {
  let where = p.file;
  if (p.line !== undefined) where += `:${p.line}`;
  if (p.line !== undefined && p.column !== undefined) where += `:${p.column}`;
  const doc = p.doc > 0 ? ` doc ${p.doc}:` : "";
  const path = p.path !== "" ? ` ${p.path}:` : "";
  return `${where}: ${p.severity}:${doc}${path} ${p.message}`;
}

/** A problem as log fields: the compiler-style line (what people grep for) and where it is. */
export function problemFields(p: Problem): { problem: string; file: string; line: number | undefined; column: number | undefined } {
  return { problem: formatProblem(p), file: p.file, line: p.line, column: p.column };
}

/** The stable log message for a problem of this severity. */
export function problemMessage(p: Problem): "config error" | "config warning" {
  return p.severity === "error" ? "config error" : "config warning";
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === "error");
}
