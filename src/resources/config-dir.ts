// The config directory as a whole: one generation is read, decoded by the registered kinds, checked
// across kinds and built into one index per kind. All-or-nothing: any error rejects the whole set, and
// a new generation is built beside the one in force (which the caller swaps in with one pointer).
import {
  type Decoded,
  type DecodedSet,
  type IndexName,
  type Indexes,
  isImplemented,
  type KindRegistration,
  kindKey,
  type Resource,
  type ResourceKind,
  type SetReporter,
} from "./kind.ts";
import { type ConfigFile, decodedOf, decodeFiles, type LoadedResources, readConfigDir } from "./load.ts";
import { hasErrors, type Problem } from "./problem.ts";
import { problemAt } from "./yaml-source.ts";

/** MESHLET_CONFIG_DIR default. */
export const DEFAULT_CONFIG_DIR = "./meshlet.d";

/**
 * One valid generation of the config directory. Immutable. Besides the fields below it carries one
 * index per implemented kind (`snapshot.profiles`, ...: see Indexes in kind.ts).
 */
export type ConfigSnapshot = GenerationInfo & Readonly<Indexes>;

export interface GenerationInfo {
  /** 1 for the first load, +1 for each applied reload. */
  readonly generation: number;
  /** Documents of recognised kinds that meshlet does not enforce yet (Server, HTTPRoute, ...). */
  readonly kept: readonly Resource[];
  /** Non-fatal problems (unknown kinds, suspicious values) of this generation. */
  readonly warnings: readonly Problem[];
  /** Files read, in load order. */
  readonly files: readonly string[];
  /** Objects loaded, by kind name (implemented and recognised kinds), for logs. */
  readonly objects: Readonly<Record<string, number>>;
  /** Identifies the directory's content; equal keys mean nothing changed. */
  readonly contentKey: string;
}

export type LoadResult =
  | { readonly ok: true; readonly snapshot: ConfigSnapshot; readonly problems: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[]; readonly contentKey: string };

export interface DecodedDir {
  readonly files: readonly ConfigFile[];
  /** Every problem: reading, YAML, decoding and the checks across kinds; sorted by file, document, line. */
  readonly problems: readonly Problem[];
  readonly loaded: LoadedResources;
  readonly contentKey: string;
}

/** Reads, decodes and checks the directory without building runtime state (`meshlet check`). */
export function decodeConfigDir(dir: string, kinds: readonly KindRegistration[]): DecodedDir {
  const read = readConfigDir(dir);
  const loaded = decodeFiles(read.files, kinds);
  const checks = checkAcrossKinds(dir, loaded, kinds);
  return {
    files: read.files,
    problems: sortProblems([...read.problems, ...loaded.problems, ...checks], read.files),
    loaded,
    contentKey: contentKeyOf(read.exists, read.files, read.problems),
  };
}

/**
 * Loads the directory. On any error nothing is built and `ok` is false; the caller keeps what it
 * had (startup: print all problems, exit 64; reload: keep the last good generation). `previous` is
 * the generation in force: kinds may carry state over from its indexes, and it numbers the new one.
 */
export function loadConfigDir(
  dir: string,
  opts: { readonly kinds: readonly KindRegistration[]; readonly previous?: ConfigSnapshot | undefined },
): LoadResult {
  // Never throws: an unexpected exception (a bug in a kind) is a failed load like any other, so start-up
  // exits 64 and a reload keeps the last good generation and counts the failure.
  try {
    return loadGeneration(dir, opts.kinds, opts.previous);
  } catch (err) {
    const message = `config directory could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
    const problem: Problem = { severity: "error", file: dir, doc: 0, path: "", line: undefined, column: undefined, message };
    return { ok: false, problems: [problem], contentKey: `exception\u0000${message}` };
  }
}

function loadGeneration(dir: string, kinds: readonly KindRegistration[], previous: ConfigSnapshot | undefined): LoadResult {
  const { files, problems, loaded, contentKey } = decodeConfigDir(dir, kinds);
  if (hasErrors(problems)) return { ok: false, problems, contentKey };
  const indexes: Record<string, unknown> = {};
  for (const kind of kinds) {
    if (!isImplemented(kind)) continue;
    indexes[kind.index] = kind.build(decodedOf(loaded, kind), previous?.[kind.index]);
  }
  const objects: Record<string, number> = {};
  for (const [key, list] of [...loaded.decoded, ...loaded.recognised]) {
    const kind = key.slice(key.lastIndexOf("/") + 1); // keys are `group/Kind`
    objects[kind] = (objects[kind] ?? 0) + list.length;
  }
  const info: GenerationInfo = {
    generation: (previous?.generation ?? 0) + 1,
    kept: [...loaded.recognised.values()].flat(),
    warnings: problems,
    files: files.map((f) => f.path),
    objects: Object.freeze(objects),
    contentKey,
  };
  const snapshot = Object.freeze({ ...indexes, ...info }) as ConfigSnapshot;
  return { ok: true, snapshot, problems };
}

/**
 * `meshlet check`: every problem in the directory at once (errors and warnings; each with file,
 * doc, path, line, message). The command fails when any has severity "error".
 */
export function checkConfigDir(dir: string, kinds: readonly KindRegistration[]): Problem[] {
  return [...decodeConfigDir(dir, kinds).problems];
}

/** Runs each kind's check over the decoded objects (documents that failed to decode are left out). */
function checkAcrossKinds(dir: string, loaded: LoadedResources, kinds: readonly KindRegistration[]): Problem[] {
  const out: Problem[] = [];
  const set: DecodedSet = {
    of: <T>(kind: ResourceKind<T, IndexName>): readonly Decoded<T>[] => decodedOf(loaded, kind),
    recognised: (group, kind) => loaded.recognised.get(kindKey(group, kind)) ?? [],
  };
  const at = (r: Resource, path: readonly (string | number)[]) => [...r.basePath, ...path];
  const report: SetReporter = {
    error: (r, path, message) => out.push(problemAt(r.source, at(r, path), "error", message)),
    warn: (r, path, message) => out.push(problemAt(r.source, at(r, path), "warning", message)),
    missingReference: (r, path, target) =>
      out.push(problemAt(r.source, at(r, path), "warning", `${target} is not in the config directory (yet): until it is, this reference has no effect`)),
    warnSet: (message) =>
      out.push({ severity: "warning", file: dir, doc: 0, path: "", line: undefined, column: undefined, message }),
  };
  for (const kind of kinds) {
    if (!isImplemented(kind) || kind.check === undefined) continue;
    try {
      kind.check(decodedOf(loaded, kind), set, report);
    } catch (err) {
      const message = `${kind.kind} resources could not be checked: ${err instanceof Error ? err.message : String(err)}`;
      out.push({ severity: "error", file: dir, doc: 0, path: "", line: undefined, column: undefined, message });
    }
  }
  return out;
}

/** File order (as loaded), then document, then line; stable otherwise. */
function sortProblems(problems: Problem[], files: readonly ConfigFile[]): Problem[] {
  const order = new Map(files.map((f, i) => [f.path, i] as const));
  const rank = (p: Problem) => order.get(p.file) ?? -1;
  return problems.sort((a, b) => rank(a) - rank(b) || a.doc - b.doc || (a.line ?? 0) - (b.line ?? 0));
}

function contentKeyOf(exists: boolean, files: readonly ConfigFile[], problems: readonly Problem[]): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(exists ? "dir\n" : "nodir\n");
  for (const f of files) h.update(`${f.name}\u0000${f.text.length}\u0000`).update(f.text);
  for (const p of problems) h.update(`\u0001${p.file}\u0000${p.message}`);
  return h.digest("hex");
}
