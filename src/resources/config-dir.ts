// The config directory as a whole: which decoders exist, how one generation is loaded, and the
// `meshlet check` entry point. A generation is all-or-nothing: any error rejects the whole set.
import { createHash } from "node:crypto";
import { serviceProfileDecoder } from "../profiles/decode.ts";
import { DEFAULT_CLUSTER_DOMAIN, isClusterName } from "../profiles/lookup.ts";
import type { ProfileSet, ProfileSpec } from "../profiles/model.ts";
import { buildProfileSet } from "../profiles/set.ts";
import type { Clock } from "../retry/budget.ts";
import { type ConfigFile, type Decoded, decodedOf, decodeFiles, readConfigDir, type Resource, type ResourceDecoder } from "./load.ts";
import { hasErrors, type Problem } from "./problem.ts";
import { problemAt } from "./yaml-source.ts";

/** MESHLET_CONFIG_DIR default. */
export const DEFAULT_CONFIG_DIR = "./meshlet.d";

/** Every kind meshlet implements. Later issues add their decoders here. */
export const DECODERS: readonly ResourceDecoder<unknown>[] = [serviceProfileDecoder];

/** One valid generation of the config directory. Immutable. */
export interface ConfigSnapshot {
  /** 1 for the first load, +1 for each applied reload. */
  readonly generation: number;
  readonly profiles: ProfileSet;
  /** Documents of known Linkerd kinds that no decoder implements yet (Server, HTTPRoute, ...). */
  readonly kept: readonly Resource[];
  /** Non-fatal problems (unknown kinds, suspicious values) of this generation. */
  readonly warnings: readonly Problem[];
  /** Files read, in load order. */
  readonly files: readonly string[];
  /** Identifies the directory's content; equal keys mean nothing changed. */
  readonly contentKey: string;
}

export type LoadResult =
  | { readonly ok: true; readonly snapshot: ConfigSnapshot; readonly problems: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[]; readonly contentKey: string };

/** The environment settings that decide which profiles can apply (for warnings only). */
export interface ProfileEnv {
  /** MESHLET_INBOUND_PROFILE. */
  readonly inboundProfileName?: string | undefined;
  /** MESHLET_EXTERNAL_PROFILES. */
  readonly externalProfiles?: boolean | undefined;
  /** MESHLET_CLUSTER_DOMAIN. */
  readonly clusterDomain?: string | undefined;
}

/** Reads, validates and decodes the directory without building runtime state. */
export function decodeConfigDir(dir: string, env?: ProfileEnv): {
  readonly files: readonly ConfigFile[];
  readonly problems: readonly Problem[];
  readonly loaded: ReturnType<typeof decodeFiles>;
  readonly contentKey: string;
} {
  const read = readConfigDir(dir);
  const loaded = decodeFiles(read.files, DECODERS);
  const envWarnings = env === undefined ? [] : profileEnvWarnings(dir, decodedOf(loaded, serviceProfileDecoder), env);
  return {
    files: read.files,
    problems: sortProblems([...read.problems, ...loaded.problems, ...envWarnings], read.files),
    loaded,
    contentKey: contentKeyOf(read.exists, read.files, read.problems),
  };
}

/**
 * Loads the directory. On any error nothing is built and `ok` is false; the caller keeps what it
 * had (startup: print all problems, exit 64; reload: keep the last good generation).
 * `previous` carries budgets over (see buildProfileSet) and numbers the generation.
 */
export function loadConfigDir(
  dir: string,
  opts: { readonly clock: Clock; readonly previous?: ConfigSnapshot | undefined; readonly env?: ProfileEnv | undefined },
): LoadResult {
  const { files, problems, loaded, contentKey } = decodeConfigDir(dir, opts.env);
  if (hasErrors(problems)) return { ok: false, problems, contentKey };
  const profiles = buildProfileSet(
    decodedOf(loaded, serviceProfileDecoder).map((d) => d.value),
    { clock: opts.clock, previous: opts.previous?.profiles },
  );
  const snapshot: ConfigSnapshot = Object.freeze({
    generation: (opts.previous?.generation ?? 0) + 1,
    profiles,
    kept: loaded.kept,
    warnings: problems,
    files: files.map((f) => f.path),
    contentKey,
  });
  return { ok: true, snapshot, problems };
}

/**
 * `meshlet check`: every problem in the directory at once (errors and warnings; each with file,
 * doc, path, line, message). The command fails when any has severity "error". With `env`, also
 * warns about profiles that the environment makes unreachable.
 */
export function checkConfigDir(dir: string, env?: ProfileEnv): Problem[] {
  return [...decodeConfigDir(dir, env).problems];
}

/**
 * Warnings (never errors: the directory itself is fine) about profiles the environment makes
 * useless: names outside `svc.<cluster domain>` while external profiles are off, and an inbound
 * profile name that no profile carries.
 */
export function profileEnvWarnings(dir: string, profiles: readonly Decoded<ProfileSpec>[], env: ProfileEnv): Problem[] {
  const out: Problem[] = [];
  const domain = env.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  const inbound = env.inboundProfileName ?? "";
  if (env.externalProfiles !== true) {
    for (const { value, resource } of profiles) {
      const host = value.name.replace(/:[0-9]+$/, "");
      if (value.name === inbound || isClusterName(host, domain)) continue;
      out.push(
        problemAt(resource.source, [...resource.basePath, "metadata", "name"], "warning",
          `profile ${value.name} is outside svc.${domain} and applies only with MESHLET_EXTERNAL_PROFILES=true`),
      );
    }
  }
  if (inbound !== "" && !profiles.some((p) => p.value.name === inbound)) {
    out.push({
      severity: "warning",
      file: dir,
      doc: 0,
      path: "",
      line: undefined,
      column: undefined,
      message: `MESHLET_INBOUND_PROFILE is ${JSON.stringify(inbound)}, but no ServiceProfile has that name: inbound requests get no profile`,
    });
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
  const h = createHash("sha256");
  h.update(exists ? "dir\n" : "nodir\n");
  for (const f of files) h.update(`${f.name}\u0000${f.text.length}\u0000`).update(f.text);
  for (const p of problems) h.update(`\u0001${p.file}\u0000${p.message}`);
  return h.digest("hex");
}
