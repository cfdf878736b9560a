// Adds and removes meshlet's containers, volumes and annotation on a pod template inside a parsed YAML
// document, editing only those nodes so that everything else (order, comments, quoting) stays as written.
// removeSidecar(addSidecar(t)) gives t back; addSidecar always starts from removeSidecar, so it is idempotent.
import { type Document, Scalar, type YAMLMap, type YAMLSeq, isMap, isSeq } from "yaml";

import type { PodOverrides } from "./annotations.ts";
import { INJECTED_ANNOTATIONS, INJECTED_CONTAINERS, INJECTED_VOLUMES, type SidecarOptions, VERSION_ANNOTATION, initContainer, proxyContainer, volumes } from "./sidecar.ts";

/** Sidecars of other meshes that meshlet must not be stacked onto (Linkerd's existing-sidecar check). */
const FOREIGN_SIDECARS = ["linkerd-proxy", "linkerd-init", "istio-proxy", "istio-init"];

function childMap(doc: Document, parent: YAMLMap, key: string): YAMLMap {
  const existing = parent.get(key, true);
  if (isMap(existing)) return existing;
  const created = doc.createNode({}) as YAMLMap;
  parent.set(key, created);
  return created;
}

function childSeq(doc: Document, parent: YAMLMap, key: string): YAMLSeq {
  const existing = parent.get(key, true);
  if (isSeq(existing)) return existing;
  const created = doc.createNode([]) as YAMLSeq;
  parent.set(key, created);
  return created;
}

const nameOf = (item: unknown): unknown => (isMap(item) ? item.get("name") : undefined);

/** Drops the named items of a sequence; drops the key too when nothing is left. */
function removeNamed(parent: YAMLMap | undefined, key: string, names: readonly string[]): boolean {
  const seq = parent?.get(key, true);
  if (!isSeq(seq)) return false;
  const before = seq.items.length;
  seq.items = seq.items.filter((item) => !names.includes(String(nameOf(item))));
  if (seq.items.length === 0) parent!.delete(key);
  return seq.items.length !== before;
}

/** The pod template as plain data, for the checks and annotation reading that precede a patch. */
export interface TemplateView {
  readonly annotations: Readonly<Record<string, unknown>>;
  readonly hostNetwork: boolean;
  readonly foreignSidecar: string | undefined;
  readonly portNames: ReadonlyMap<string, number>;
}

export function viewTemplate(template: YAMLMap): TemplateView {
  const data = (template.toJSON() ?? {}) as { metadata?: { annotations?: Record<string, unknown> }; spec?: Record<string, unknown> };
  const spec = data.spec ?? {};
  const containers = [...((spec.initContainers as unknown[]) ?? []), ...((spec.containers as unknown[]) ?? [])] as { name?: string; ports?: { name?: string; containerPort?: number }[] }[];
  const portNames = new Map<string, number>();
  for (const c of containers) for (const p of c.ports ?? []) if (p.name && typeof p.containerPort === "number") portNames.set(p.name, p.containerPort);
  return {
    annotations: data.metadata?.annotations ?? {},
    hostNetwork: spec.hostNetwork === true,
    foreignSidecar: containers.map((c) => c.name ?? "").find((name) => FOREIGN_SIDECARS.includes(name)),
    portNames,
  };
}

/** Removes what addSidecar added; true if there was anything. */
export function removeSidecar(template: YAMLMap): boolean {
  const spec = template.get("spec", true);
  const metadata = template.get("metadata", true);
  let removed = false;
  if (isMap(spec)) {
    removed = removeNamed(spec, "initContainers", INJECTED_CONTAINERS) || removed;
    removed = removeNamed(spec, "containers", INJECTED_CONTAINERS) || removed;
    removed = removeNamed(spec, "volumes", INJECTED_VOLUMES) || removed;
  }
  if (isMap(metadata)) {
    const annotations = metadata.get("annotations", true);
    if (isMap(annotations)) {
      for (const key of INJECTED_ANNOTATIONS) removed = annotations.delete(key) || removed;
      if (annotations.items.length === 0) metadata.delete("annotations");
    }
    if (metadata.items.length === 0) template.delete("metadata");
  }
  return removed;
}

/** Adds the init container and the proxy (first, in that order), the volumes and the version annotation. */
export function addSidecar(doc: Document, template: YAMLMap, options: SidecarOptions, overrides: PodOverrides): void {
  removeSidecar(template);
  const spec = childMap(doc, template, "spec");
  const inits = childSeq(doc, spec, "initContainers");
  inits.items.unshift(doc.createNode(initContainer(options, overrides)), doc.createNode(proxyContainer(options, overrides)));
  childSeq(doc, spec, "volumes").items.push(...volumes(options).map((v) => doc.createNode(v)));
  // Quoted, so that a version like "1.0" stays a string for every YAML reader.
  const version = new Scalar(options.version);
  version.type = Scalar.QUOTE_DOUBLE;
  childMap(doc, childMap(doc, template, "metadata"), "annotations").set(VERSION_ANNOTATION, version);
}
