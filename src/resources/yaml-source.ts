// Splits one YAML file into its documents and maps field paths back to lines, so that every
// problem can name file, document, field and line. Bounded against hostile input. Pure: text in, data out.
import type { Alias, CST, Document, Node, YAMLError } from "yaml";
import { onFirstUse } from "../rt/on-first-use.ts";
import { type FieldPath, formatFieldPath, type Problem, type Severity } from "./problem.ts";

/** The yaml library, loaded when the first file is parsed (~10 MB a proxy without resource files saves). */
const yaml = onFirstUse(() => require("yaml") as typeof import("yaml"));

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

/** More `---`-separated documents than this in one file are refused (the rest are not read). */
export const MAX_DOCUMENTS_PER_FILE = 1000;
/** Deeper nesting (maps and lists, aliases expanded) is refused: far beyond any Kubernetes object. */
export const MAX_NESTING_DEPTH = 100;
/** Aliases per document; toJS also refuses exponential expansion ("billion laughs") with it. */
export const MAX_ALIAS_COUNT = 100;

/**
 * Parses every document of a file. Hostile input never throws: a document nested deeper than
 * MAX_NESTING_DEPTH (checked on the concrete syntax tree, before anything recurses over it), a file with
 * more than MAX_DOCUMENTS_PER_FILE documents, recursive or exploding aliases are located problems.
 */
export function parseYamlFile(file: string, text: string): ParsedFile {
  const { Composer, LineCounter, Parser } = yaml();
  const lineCounter = new LineCounter();
  const problems: Problem[] = [];
  const docs: SourceDocument[] = [];
  const at = (offset: number | undefined) => {
    if (offset === undefined) return undefined;
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const problem = (doc: number, offset: number | undefined, message: string): Problem => {
    const pos = at(offset);
    return { severity: "error", file, doc, path: "", line: pos?.line, column: pos?.column, message };
  };

  // The composer returns a document once the next one starts: `indexes` pairs them with their position.
  const composer = new Composer({ prettyErrors: false, uniqueKeys: true });
  const indexes: number[] = [];
  const accept = (document: Document.Parsed) => {
    const index = indexes.shift() ?? 0;
    if (document.errors.length > 0) {
      // Keys repeated at the top level are one defect, most often a missing `---`: one error names them all.
      const topLevel = document.errors.filter((e) => e.code === "DUPLICATE_KEY" && at(e.pos[0])?.column === 1);
      const keys = topLevel.map((e) => keyAt(text, e.pos[0]) ?? "?");
      if (topLevel.length > 1) {
        const hint = keys.includes("apiVersion") || keys.includes("kind") ? ": is a --- missing between two documents?" : "";
        problems.push(problem(index, topLevel[0]!.pos[0], `invalid yaml: duplicate keys ${keys.map((k) => JSON.stringify(k)).join(", ")} (map keys must be unique)${hint}`));
      }
      for (const err of document.errors) {
        if (topLevel.length > 1 && topLevel.includes(err)) continue;
        problems.push(problem(index, err.pos[0], `invalid yaml: ${describeYamlError(err, text)}`));
      }
      return; // the other documents of the file are still checked
    }
    const limit = aliasProblem(document);
    if (limit !== undefined) {
      problems.push(problem(index, limit.offset, `invalid yaml: ${limit.message}`));
      return;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      problems.push(problem(index, document.range[0], `invalid yaml: ${lowerFirst(err instanceof Error ? err.message : String(err))}`));
      return;
    }
    docs.push({ file, index, value: value ?? null, locate: (path) => at(offsetOf(document, path)) });
  };

  let count = 0;
  for (const token of new Parser(lineCounter.addNewLine).parse(text)) {
    if (token.type === "document") {
      count++;
      if (count > MAX_DOCUMENTS_PER_FILE) {
        problems.push(problem(count, token.offset, `more than ${MAX_DOCUMENTS_PER_FILE} documents in one file; split it (the rest is not read)`));
        break;
      }
      const deep = tooDeepOffset(token);
      if (deep !== undefined) {
        problems.push(problem(count, deep, `nesting deeper than ${MAX_NESTING_DEPTH} levels; this document is not read`));
        continue;
      }
      indexes.push(count);
    }
    for (const document of composer.next(token)) accept(document);
  }
  for (const document of composer.end(false, text.length)) accept(document);
  return { docs, problems };
}

/** The yaml library's message, lowercased; a duplicate key names the key. */
function describeYamlError(err: YAMLError, text: string): string {
  const key = err.code === "DUPLICATE_KEY" ? keyAt(text, err.pos[0]) : undefined;
  return key !== undefined ? `duplicate key ${JSON.stringify(key)} (map keys must be unique)` : lowerFirst(err.message);
}

/** The (plain or quoted) map key written at `offset`, or undefined. */
function keyAt(text: string, offset: number): string | undefined {
  const m = /^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^:#\n,{}[\]]*?))\s*:/.exec(text.slice(offset, offset + 256));
  const key = m?.[1] ?? m?.[2]?.replace(/''/g, "'") ?? m?.[3]?.trim();
  return key === "" ? undefined : key;
}

/**
 * Offset of the first collection nested deeper than MAX_NESTING_DEPTH in a CST document, or undefined.
 * Iterative: the point is to look before the composer (which recurses) sees the document.
 */
function tooDeepOffset(doc: CST.Document): number | undefined {
  const stack: [CST.Token | null | undefined, number][] = [[doc.value, 1]];
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const [token, depth] = entry;
    if (token === null || token === undefined) continue;
    if (token.type !== "block-map" && token.type !== "block-seq" && token.type !== "flow-collection") continue;
    if (depth > MAX_NESTING_DEPTH) return token.offset;
    for (const item of token.items) {
      stack.push([item.value, depth + 1]);
      if ("key" in item) stack.push([item.key, depth + 1]);
    }
  }
  return undefined;
}

/**
 * What the depth check on the syntax tree cannot see: aliases. Refuses more than MAX_ALIAS_COUNT aliases,
 * an alias inside the node it refers to (a cycle), and nesting deeper than MAX_NESTING_DEPTH once
 * aliases are expanded. Linear: anchors are resolved in one pass and subtree depths memoized.
 */
function aliasProblem(document: Document.Parsed): { offset: number | undefined; message: string } | undefined {
  const { isAlias, isMap, isNode, isSeq } = yaml();
  const root = document.contents;
  if (root === null) return undefined;
  // 1. Resolve each alias to the latest node with its anchor before it (YAML's rule), in document order.
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  const preorder: unknown[] = [root];
  for (let n = preorder.pop(); n !== undefined; n = preorder.pop()) {
    if (isAlias(n)) {
      const target = anchors.get(n.source);
      if (target !== undefined) targets.set(n, target);
      if (targets.size > MAX_ALIAS_COUNT) return { offset: rangeStart(n), message: `more than ${MAX_ALIAS_COUNT} aliases in one document` };
      continue;
    }
    if (isNode(n) && n.anchor) anchors.set(n.anchor, n);
    if (isMap(n)) for (let i = n.items.length - 1; i >= 0; i--) preorder.push(n.items[i]!.value, n.items[i]!.key);
    else if (isSeq(n)) for (let i = n.items.length - 1; i >= 0; i--) preorder.push(n.items[i]);
  }
  if (targets.size === 0) return undefined; // the syntax tree check already bounded the depth
  // 2. Depth with aliases expanded: post-order over collections, following aliases, memoized per node.
  const depthOf = new Map<Node, number>();
  interface Frame { readonly node: Node; readonly children: unknown[]; next: number; deepest: number }
  const childrenOf = (n: Node): unknown[] =>
    isMap(n) ? n.items.flatMap((p) => [p.key, p.value]) : isSeq(n) ? [...n.items] : [];
  const onPath = new Set<Node>([root]);
  const stack: Frame[] = [{ node: root, children: childrenOf(root), next: 0, deepest: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.children.length) {
      stack.pop();
      onPath.delete(top.node);
      const depth = isMap(top.node) || isSeq(top.node) ? 1 + top.deepest : 0;
      depthOf.set(top.node, depth);
      const parent = stack[stack.length - 1];
      if (parent !== undefined) parent.deepest = Math.max(parent.deepest, depth);
      continue;
    }
    const child = top.children[top.next++];
    const node = isAlias(child) ? targets.get(child) : isNode(child) ? child : undefined;
    if (node === undefined) continue;
    if (onPath.has(node)) return { offset: rangeStart(child), message: `alias *${(child as Alias).source} refers to a node that contains it` };
    const known = depthOf.get(node);
    if (known !== undefined) {
      if (stack.length + known > MAX_NESTING_DEPTH) {
        return { offset: rangeStart(child), message: `nesting deeper than ${MAX_NESTING_DEPTH} levels once aliases are expanded` };
      }
      top.deepest = Math.max(top.deepest, known);
      continue;
    }
    if (stack.length + 1 > MAX_NESTING_DEPTH && (isMap(node) || isSeq(node))) {
      return { offset: rangeStart(child), message: `nesting deeper than ${MAX_NESTING_DEPTH} levels once aliases are expanded` };
    }
    onPath.add(node);
    stack.push({ node, children: childrenOf(node), next: 0, deepest: 0 });
  }
  return undefined;
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
  const { isAlias, isMap, isPair, isScalar, isSeq } = yaml();
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
