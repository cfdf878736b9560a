// Injects or un-injects a stream of Kubernetes YAML documents (`kind: List` items one by one): finds each
// workload's pod template, applies the patch, and reports per object what happened. Any error (bad YAML,
// a bad annotation) yields no output at all, only located problems.
import { type Document, type YAMLMap, isMap, isSeq, parseAllDocuments } from "yaml";

import type { FieldPath, Problem } from "../resources/problem.ts";
import { hasErrors } from "../resources/problem.ts";
import { type SourceDocument, parseYamlFile, problemAt } from "../resources/yaml-source.ts";
import { INJECT_ANNOTATION, readOverrides } from "./annotations.ts";
import { addSidecar, removeSidecar, viewTemplate } from "./pod-patch.ts";
import type { SidecarOptions } from "./sidecar.ts";
import { podTemplatePath } from "./workloads.ts";

export type Action = { readonly kind: "inject"; readonly options: SidecarOptions } | { readonly kind: "uninject" };

export interface ObjectReport {
  /** `deployment/web`, or `document 3` for an object without kind and name. */
  readonly object: string;
  readonly outcome: "injected" | "uninjected" | "unchanged" | "skipped";
  readonly reason?: string;
}

export interface Result {
  /** The rewritten stream; undefined when any problem is an error. */
  readonly output: string | undefined;
  readonly reports: readonly ObjectReport[];
  readonly problems: readonly Problem[];
}

function describeObject(node: YAMLMap, fallback: string): string {
  const kind = node.get("kind");
  const metadata = node.get("metadata", true);
  const name = isMap(metadata) ? metadata.get("name") : undefined;
  return typeof kind === "string" ? `${kind.toLowerCase()}/${typeof name === "string" ? name : "(unnamed)"}` : fallback;
}

function nodeAt(node: YAMLMap, path: readonly string[]): YAMLMap | undefined {
  let current: unknown = node;
  for (const key of path) current = isMap(current) ? current.get(key, true) : undefined;
  return isMap(current) ? current : undefined;
}

/** Applies `action` to every object of the stream `text` read from `file`. */
export function processManifests(file: string, text: string, action: Action): Result {
  const parsed = parseYamlFile(file, text);
  if (hasErrors(parsed.problems)) return { output: undefined, reports: [], problems: parsed.problems };
  const sources = new Map<number, SourceDocument>(parsed.docs.map((d) => [d.index, d]));
  const documents = parseAllDocuments(text, { uniqueKeys: true }) as Document.Parsed[];
  const reports: ObjectReport[] = [];
  const problems: Problem[] = [...parsed.problems];

  const visit = (doc: Document, source: SourceDocument, node: unknown, path: FieldPath) => {
    if (!isMap(node)) return;
    const label = describeObject(node, `document ${source.index}`);
    if (node.get("kind") === "List") {
      const items = node.get("items", true);
      if (isSeq(items)) items.items.forEach((item, i) => visit(doc, source, item, [...path, "items", i]));
      return;
    }
    const templatePath = podTemplatePath(node.get("kind"));
    if (templatePath === undefined) {
      reports.push({ object: label, outcome: "skipped", reason: "not a workload" });
      return;
    }
    const template = templatePath.length === 0 ? node : nodeAt(node, templatePath);
    if (template === undefined || !isMap(template.get("spec", true))) {
      problems.push(problemAt(source, [...path, ...templatePath], "error", `${label} has no pod template at ${[...templatePath, "spec"].join(".")}`));
      return;
    }
    if (action.kind === "uninject") {
      reports.push({ object: label, outcome: removeSidecar(template) ? "uninjected" : "unchanged" });
      return;
    }
    const view = viewTemplate(template);
    const annotationsPath = [...path, ...templatePath, "metadata", "annotations"];
    const skip = (reason: string) => reports.push({ object: label, outcome: "skipped", reason });
    if (view.annotations[INJECT_ANNOTATION] === "disabled") return skip(`${INJECT_ANNOTATION}: disabled`);
    if (view.hostNetwork) return skip("hostNetwork: true (its iptables would be the node's)");
    if (view.foreignSidecar !== undefined) return skip(`it already has a ${view.foreignSidecar} container`);
    const { overrides, problems: annotationProblems } = readOverrides(view.annotations, view.portNames);
    for (const p of annotationProblems) problems.push(problemAt(source, [...annotationsPath, p.annotation], p.severity, `${label}: ${p.message}`));
    if (annotationProblems.some((p) => p.severity === "error")) return;
    addSidecar(doc, template, action.options, overrides);
    reports.push({ object: label, outcome: "injected" });
  };

  documents.forEach((doc, i) => {
    const source = sources.get(i + 1);
    if (source !== undefined) visit(doc, source, doc.contents, []);
  });
  if (hasErrors(problems)) return { output: undefined, reports, problems };
  const output = documents.map((doc, i) => {
    const out = doc.toString({ lineWidth: 0, flowCollectionPadding: false });
    return i > 0 && !out.startsWith("---") ? `---\n${out}` : out;
  });
  return { output: output.join(""), reports, problems };
}
