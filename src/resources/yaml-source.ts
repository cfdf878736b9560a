// Splits one YAML file into its documents and maps field paths back to lines, so that every
// problem can name file, document, field and line. Pure: takes text, returns data.
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments } from "yaml";
import { type FieldPath, formatFieldPath, type Problem, type Severity } from "./problem.ts";

/** One parsed YAML document of a config file. */
export interface SourceDocument {
  readonly file: string;
  /** 1-based position in the file, counting every `---`-separated document. */
  readonly index: number;
  /** Plain JS value (maps → objects, sequences → arrays); null for an empty document. */
  readonly value: unknown;
  /** Line and column (1-based) of the node at `path`, or of its nearest existing ancestor. */
  locate(path: FieldPath): { readonly line: number; readonly column: number } | undefined;
}

export interface ParsedFile {
  readonly docs: readonly SourceDocument[];
  readonly problems: readonly Problem[];
}

// Guards against "billion laughs" alias expansion; far above anything a real profile needs.
const MAX_ALIAS_COUNT = 100;

export function parseYamlFile(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const problems: Problem[] = [];
  const docs: SourceDocument[] = [];
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  // An empty stream comes back as an empty array-like; a non-array means the same.
  const list: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];

  list.forEach((document, i) => {
    const index = i + 1;
    const at = (offset: number | undefined) => {
      if (offset === undefined) return undefined;
      const pos = lineCounter.linePos(offset);
      return { line: pos.line, column: pos.col };
    };
    if (document.errors.length > 0) {
      for (const err of document.errors) {
        const pos = at(err.pos[0]);
        problems.push({
          severity: "error",
          file,
          doc: index,
          path: "",
          line: pos?.line,
          column: pos?.column,
          message: `invalid yaml: ${lowerFirst(err.message)}`,
        });
      }
      return; // the other documents of the file are still checked
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      const pos = at(document.range[0]);
      problems.push({
        severity: "error",
        file,
        doc: index,
        path: "",
        line: pos?.line,
        column: pos?.column,
        message: `invalid yaml: ${lowerFirst(err instanceof Error ? err.message : String(err))}`,
      });
      return;
    }
    docs.push({
      file,
      index,
      value: value ?? null,
      locate: (path) => at(offsetOf(document, path)),
    });
  });
  return { docs, problems };
}

/** Builds a Problem for a field of a parsed document. */
export function problemAt(doc: SourceDocument, path: FieldPath, severity: Severity, message: string): Problem {
  const pos = doc.locate(path);
  return {
    severity,
    file: doc.file,
    doc: doc.index,
    path: formatFieldPath(path),
    line: pos?.line,
    column: pos?.column,
    message,
  };
}

// Walks the YAML AST along `path`. Points at the key of the last map entry found (the line a person
// looks for: `condition:` rather than the first line of its value), or at the sequence item.
function offsetOf(document: Document.Parsed, path: FieldPath): number | undefined {
  let node: unknown = document.contents;
  let offset: number | undefined = rangeStart(node);
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(document);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === "object" && "range" in node) {
    const range = (node as { range?: readonly number[] | null }).range;
    if (range && typeof range[0] === "number") return range[0];
  }
  return undefined;
}

function lowerFirst(s: string): string {
  const trimmed = s.replace(/[.\s]+$/, "");
  return trimmed.charAt(0).toLowerCase() + trimmed.slice(1);
}
