// Generic loader for a directory of Linkerd-format YAML resources: reads *.yaml/*.yml, splits
// documents, dispatches each by apiVersion/kind to the registered kind, keeps recognised but
// unenforced kinds aside, and collects every problem instead of stopping at the first.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type Decoded,
  DEFAULT_NAMESPACE,
  type IndexName,
  isImplemented,
  isListKind,
  isRecognised,
  isRecord,
  type KindRegistration,
  kindKey,
  parseApiVersion,
  type Resource,
  type ResourceKind,
} from "./kind.ts";
import type { FieldPath, Problem } from "./problem.ts";
import { type ParsedFile, parseYamlFile, problemAt, type SourceDocument } from "./yaml-source.ts";

/**
 * The parsed YAML of the files of the latest decode, by path, with the text it was parsed from: a
 * reload re-parses only the files whose text changed (parsing is most of a load). Entries for files
 * that are gone are dropped at each decode, so this holds at most one directory's files.
 */
const parsedByPath = new Map<string, { readonly text: string; readonly parsed: ParsedFile }>();

function parsedFile(file: ConfigFile): ParsedFile {
  const cached = parsedByPath.get(file.path);
  if (cached !== undefined && cached.text === file.text) return cached.parsed;
  const parsed = parseYamlFile(file.path, file.text);
  parsedByPath.set(file.path, { text: file.text, parsed });
  return parsed;
}

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

export interface LoadedResources {
  /** Successfully decoded objects of the implemented kinds, by `group/Kind`. */
  readonly decoded: ReadonlyMap<string, readonly Decoded<unknown>[]>;
  /** Documents of recognised kinds that meshlet does not enforce yet, by `group/Kind`, in load order. */
  readonly recognised: ReadonlyMap<string, readonly Resource[]>;
  readonly problems: readonly Problem[];
}

/** The decoded objects of one kind, typed by that kind. */
export function decodedOf<T>(loaded: LoadedResources, kind: ResourceKind<T, IndexName>): readonly Decoded<T>[] {
  return (loaded.decoded.get(kindKey(kind.group, kind.kind)) ?? []) as readonly Decoded<T>[];
}

/**
 * Splits every file into documents and dispatches each object (List items included) by apiVersion
 * and kind: implemented kinds decode it, recognised kinds keep it aside (one warning per kind says it
 * is not enforced), unknown kinds get a warning. Every problem is collected, none stops the walk.
 */
export function decodeFiles(files: readonly ConfigFile[], kinds: readonly KindRegistration[]): LoadedResources {
  const byKey = new Map(kinds.map((k) => [kindKey(k.group, k.kind), k] as const));
  const decoded = new Map<string, Decoded<unknown>[]>();
  const recognised = new Map<string, Resource[]>();
  const problems: Problem[] = [];
  const seen = new Map<string, Resource>();
  const push = <T>(map: Map<string, T[]>, key: string, item: T) => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [item]);
    else list.push(item);
  };

  const visit = (source: SourceDocument, basePath: FieldPath, value: unknown, inList: boolean): void => {
    const here = (path: FieldPath) => [...basePath, ...path];
    const error = (path: FieldPath, message: string) => problems.push(problemAt(source, here(path), "error", message));
    const warn = (path: FieldPath, message: string) => problems.push(problemAt(source, here(path), "warning", message));
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
    const rawNamespace = metadata?.["namespace"];
    const namespace = typeof rawNamespace === "string" && rawNamespace !== "" ? rawNamespace : DEFAULT_NAMESPACE;
    const resource: Resource = { apiVersion, group, version, kind, name, namespace, source, basePath, value };
    const key = kindKey(group, kind);
    const registration = byKey.get(key);

    if (registration === undefined) {
      warn(["kind"], `unknown kind ${kind} in ${apiVersion}; ignored${hintFor(kind, kinds)}`);
      return;
    }
    if (isRecognised(registration)) {
      if (!recognised.has(key)) {
        warn(["kind"], `${kind} (${group}) is recognised but not enforced: ${registration.notEnforced}; such documents have no effect`);
      }
      push(recognised, key, resource);
      return;
    }
    if (!registration.versions.includes(version)) {
      const supported = registration.versions.map((v) => `${registration.group}/${v}`).join(", ");
      error(["apiVersion"], `unsupported apiVersion ${apiVersion} for ${kind} (supported: ${supported})`);
      return;
    }
    const before = problems.length;
    const out = registration.decode(resource, { error, warn });
    const failed = problems.slice(before).some((p) => p.severity === "error");
    if (out === undefined || failed) return;

    const unique = registration.uniqueKey?.(out, resource);
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
    push(decoded, key, { value: out, resource });
  };

  const current = new Set(files.map((f) => f.path));
  for (const path of parsedByPath.keys()) if (!current.has(path)) parsedByPath.delete(path);
  for (const file of files) {
    const parsed = parsedFile(file);
    problems.push(...parsed.problems);
    for (const doc of parsed.docs) {
      // The parser bounds what reaches the kinds; should a kind still throw, the failure stays a
      // located problem of its document rather than a crash of `check`, start-up or a reload.
      try {
        visit(doc, [], doc.value, false);
      } catch (err) {
        problems.push(problemAt(doc, [], "error", `could not be loaded: ${describe(err)}`));
      }
    }
  }
  return { decoded, recognised, problems };
}

// === helpers ===

/** " (did you mean ...?)" when a registered kind differs only in case or group; "" otherwise. */
function hintFor(kind: string, kinds: readonly KindRegistration[]): string {
  const lower = kind.toLowerCase();
  const same = kinds.filter((k) => k.kind.toLowerCase() === lower);
  const implemented = same.find(isImplemented);
  if (implemented !== undefined) {
    return ` (did you mean apiVersion ${implemented.group}/${implemented.versions[0]}, kind ${implemented.kind}?)`;
  }
  return same.length > 0 ? ` (known as ${same.map((k) => kindKey(k.group, k.kind)).join(" or ")})` : "";
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
