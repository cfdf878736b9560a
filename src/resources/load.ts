// Generic loader for a directory of Linkerd-format YAML resources: reads *.yaml/*.yml, splits
// documents, dispatches each by apiVersion/kind to a decoder, keeps known-but-unimplemented kinds
// aside, and collects every problem instead of stopping at the first.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isListKind, KNOWN_KINDS, kindKey, parseApiVersion } from "./kinds.ts";
import type { FieldPath, Problem } from "./problem.ts";
import { parseYamlFile, problemAt, type SourceDocument } from "./yaml-source.ts";

// === Reading the directory ===

/** One config file as read from disk. */
export interface ConfigFile {
  /** File name inside the directory. */
  readonly name: string;
  /** Directory joined with the name; used in problems. */
  readonly path: string;
  readonly text: string;
}

export interface DirectoryRead {
  /** False when the directory does not exist (that is not an error: the set is empty). */
  readonly exists: boolean;
  /** Sorted by name, so load order (and so error order) is deterministic. */
  readonly files: readonly ConfigFile[];
  readonly problems: readonly Problem[];
}

/** Larger files are refused: a resource file is hand-written config, not data. */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

/** True for the names the loader reads: *.yaml / *.yml, not hidden (skips ConfigMap `..data`). */
export function isConfigFileName(name: string): boolean {
  if (name.startsWith(".")) return false;
  const lower = name.toLowerCase();
  return lower.endsWith(".yaml") || lower.endsWith(".yml");
}

/**
 * Reads every config file at the top level of `dir` (not recursive; symlinks followed, which is how
 * Kubernetes ConfigMap volumes present their files). A missing directory is an empty set.
 */
export function readConfigDir(dir: string): DirectoryRead {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (errno(err) === "ENOENT") return { exists: false, files: [], problems: [] };
    return { exists: true, files: [], problems: [fileProblem(dir, `cannot read config directory: ${describe(err)}`)] };
  }
  const files: ConfigFile[] = [];
  const problems: Problem[] = [];
  for (const name of names.filter(isConfigFileName).sort()) {
    const path = join(dir, name);
    try {
      const st = statSync(path);
      if (!st.isFile()) continue;
      if (st.size > MAX_CONFIG_FILE_BYTES) {
        problems.push(fileProblem(path, `file is larger than ${MAX_CONFIG_FILE_BYTES} bytes`));
        continue;
      }
      files.push({ name, path, text: readFileSync(path, "utf8") });
    } catch (err) {
      // Removed between readdir and read: a concurrent edit, the next reload sees the final state.
      if (errno(err) === "ENOENT") continue;
      problems.push(fileProblem(path, `cannot read file: ${describe(err)}`));
    }
  }
  return { exists: true, files, problems };
}

// === Decoding documents ===

/** One Kubernetes-style object found in a config file. */
export interface Resource {
  readonly apiVersion: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  /** The YAML document holding it (for line numbers). */
  readonly source: SourceDocument;
  /** Where the object sits in its document: `[]`, or `["items", i]` inside a `kind: List`. */
  readonly basePath: FieldPath;
  readonly value: Readonly<Record<string, unknown>>;
}

/** Where a decoder reports problems; paths are relative to the resource. */
export interface Reporter {
  error(path: FieldPath, message: string): void;
  warn(path: FieldPath, message: string): void;
}

/** Validates and converts one kind. Returns undefined when it reported an error. */
export interface ResourceDecoder<T> {
  readonly group: string;
  readonly kind: string;
  /** Supported versions, preferred first. */
  readonly versions: readonly string[];
  decode(resource: Resource, report: Reporter): T | undefined;
  /** Identity for duplicate detection across the whole set; undefined skips the check. */
  uniqueKey?(value: T, resource: Resource): string | undefined;
}

export interface Decoded<T> {
  readonly value: T;
  readonly resource: Resource;
}

export interface LoadedResources {
  /** Successfully decoded objects, by `group/Kind`. */
  readonly decoded: ReadonlyMap<string, readonly Decoded<unknown>[]>;
  /** Recognised Linkerd kinds that no decoder handles yet, kept for later issues. */
  readonly kept: readonly Resource[];
  readonly problems: readonly Problem[];
}

/** The decoded objects of one kind, typed by its decoder. */
export function decodedOf<T>(loaded: LoadedResources, decoder: ResourceDecoder<T>): readonly Decoded<T>[] {
  return (loaded.decoded.get(kindKey(decoder.group, decoder.kind)) ?? []) as readonly Decoded<T>[];
}

export function decodeFiles(
  files: readonly ConfigFile[],
  decoders: readonly ResourceDecoder<unknown>[],
): LoadedResources {
  const byKind = new Map(decoders.map((d) => [kindKey(d.group, d.kind), d] as const));
  const decoded = new Map<string, Decoded<unknown>[]>();
  const kept: Resource[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, Resource>();

  const visit = (source: SourceDocument, basePath: FieldPath, value: unknown, inList: boolean): void => {
    const here = (path: FieldPath) => [...basePath, ...path];
    const error = (path: FieldPath, message: string) => problems.push(problemAt(source, here(path), "error", message));
    if (value === null || value === undefined) {
      if (inList) error([], "list item is empty");
      return; // an empty document (only comments, or a trailing `---`)
    }
    if (!isRecord(value)) {
      error([], "a resource must be a mapping with apiVersion and kind");
      return;
    }
    const apiVersion = value["apiVersion"];
    const kind = value["kind"];
    let ok = true;
    if (typeof apiVersion !== "string" || apiVersion === "") {
      error(apiVersion === undefined ? [] : ["apiVersion"], "missing apiVersion (a string such as linkerd.io/v1alpha2)");
      ok = false;
    }
    if (typeof kind !== "string" || kind === "") {
      error(kind === undefined ? [] : ["kind"], "missing kind (a string such as ServiceProfile)");
      ok = false;
    }
    if (!ok || typeof apiVersion !== "string" || typeof kind !== "string") return;
    const { group, version } = parseApiVersion(apiVersion);

    if (isListKind(group, kind)) {
      const items = value["items"];
      if (inList || !Array.isArray(items)) {
        error(inList ? ["kind"] : ["items"], inList ? "a List cannot be nested in a List" : "a List needs an items array");
        return;
      }
      items.forEach((item, i) => visit(source, [...basePath, "items", i], item, true));
      return;
    }

    const metadata = isRecord(value["metadata"]) ? value["metadata"] : undefined;
    const name = typeof metadata?.["name"] === "string" ? metadata["name"] : undefined;
    const namespace = typeof metadata?.["namespace"] === "string" ? metadata["namespace"] : undefined;
    const resource: Resource = { apiVersion, group, version, kind, name, namespace, source, basePath, value };
    const key = kindKey(group, kind);
    const decoder = byKind.get(key);

    if (decoder === undefined) {
      if (KNOWN_KINDS.has(key)) kept.push(resource);
      else {
        problems.push(problemAt(source, here(["kind"]), "warning", `unknown kind ${kind} in ${apiVersion}; ignored${hintFor(kind, byKind)}`));
      }
      return;
    }
    if (!decoder.versions.includes(version)) {
      const supported = decoder.versions.map((v) => `${decoder.group}/${v}`).join(", ");
      error(["apiVersion"], `unsupported apiVersion ${apiVersion} for ${kind} (supported: ${supported})`);
      return;
    }
    const before = problems.length;
    const report: Reporter = {
      error,
      warn: (path, message) => problems.push(problemAt(source, here(path), "warning", message)),
    };
    const out = decoder.decode(resource, report);
    const failed = problems.slice(before).some((p) => p.severity === "error");
    if (out === undefined || failed) return;

    const unique = decoder.uniqueKey?.(out, resource);
    if (unique !== undefined) {
      const dupKey = `${key}\u0000${unique}`;
      const first = seen.get(dupKey);
      if (first !== undefined) {
        const pos = first.source.locate([...first.basePath, "metadata", "name"]);
        const where = `${first.source.file}${pos ? `:${pos.line}` : ""} (doc ${first.source.index})`;
        error(["metadata", "name"], `duplicate ${kind} ${JSON.stringify(unique)}: already defined in ${where}`);
        return;
      }
      seen.set(dupKey, resource);
    }
    let list = decoded.get(key);
    if (list === undefined) decoded.set(key, (list = []));
    list.push({ value: out, resource });
  };

  for (const file of files) {
    const parsed = parseYamlFile(file.path, file.text);
    problems.push(...parsed.problems);
    for (const doc of parsed.docs) visit(doc, [], doc.value, false);
  }
  return { decoded, kept, problems };
}

// === helpers ===

/** " (did you mean ...?)" when a known kind differs only in case or group; "" otherwise. */
function hintFor(kind: string, decoders: ReadonlyMap<string, ResourceDecoder<unknown>>): string {
  const lower = kind.toLowerCase();
  const d = [...decoders.values()].find((x) => x.kind.toLowerCase() === lower);
  if (d !== undefined) return ` (did you mean apiVersion ${d.group}/${d.versions[0]}, kind ${d.kind}?)`;
  const known = [...KNOWN_KINDS].filter((k) => k.slice(k.indexOf("/") + 1).toLowerCase() === lower);
  return known.length > 0 ? ` (known as ${known.join(" or ")})` : "";
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function fileProblem(file: string, message: string): Problem {
  return { severity: "error", file, doc: 0, path: "", line: undefined, column: undefined, message };
}

function errno(err: unknown): string | undefined {
  return err !== null && typeof err === "object" && "code" in err ? String((err as { code: unknown }).code) : undefined;
}

function describe(err: unknown): string {
  const code = errno(err);
  const msg = err instanceof Error ? err.message : String(err);
  return code !== undefined && !msg.includes(code) ? `${code}: ${msg}` : msg;
}
