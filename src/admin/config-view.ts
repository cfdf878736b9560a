// GET /config.json (like Envoy's /config_dump): the version, every MESHLET_* setting in force with
// its source (env or default, secrets redacted), and the resource generation with its files and the
// result of the latest reload.
import { resolve } from "node:path";

import { effectiveSettings, type SettingSource } from "../config/effective.ts";
import type { Strings } from "../config/env.ts";
import type { ConfigSnapshot } from "../resources/config-dir.ts";
import type { Problem } from "../resources/problem.ts";
import type { ReloadStatus } from "../resources/watch.ts";
import type { Watch } from "../rt/watch.ts";
import { VERSION } from "../version.ts";

export interface ConfigViewSources {
  /** The environment the proxy was started with. */
  readonly env: Strings;
  readonly configDir: string;
  readonly config: Watch<ConfigSnapshot>;
  readonly status: Watch<ReloadStatus>;
}

export interface ConfigView {
  readonly version: string;
  readonly settings: readonly { readonly name: string; readonly value: string; readonly source: SettingSource }[];
  readonly resources: {
    /** Absolute path of MESHLET_CONFIG_DIR. */
    readonly dir: string;
    /** The generation in force (1 at startup, +1 per applied reload). */
    readonly generation: number;
    readonly files: readonly string[];
    readonly serviceProfiles: readonly string[];
    /** Linkerd kinds read and kept for later issues, not enforced yet. */
    readonly kept: readonly { readonly kind: string; readonly name: string | null }[];
    readonly lastReload: {
      /** False while an invalid change in the directory is being ignored. */
      readonly ok: boolean;
      readonly lastSuccessAt: string;
      /** Errors of a rejected change, or the warnings of the generation in force. */
      readonly problems: readonly Problem[];
    };
  };
}

export function configView(sources: ConfigViewSources): ConfigView {
  const snapshot = sources.config.get();
  const status = sources.status.get();
  return {
    version: VERSION,
    settings: effectiveSettings(sources.env).map(({ name, value, source }) => ({ name, value, source })),
    resources: {
      dir: resolve(sources.configDir),
      generation: snapshot.generation,
      files: snapshot.files,
      serviceProfiles: [...snapshot.profiles.byName.keys()],
      kept: snapshot.kept.map((r) => ({ kind: r.kind, name: r.name ?? null })),
      lastReload: { ok: status.ok, lastSuccessAt: new Date(status.lastSuccessWallMs).toISOString(), problems: status.problems },
    },
  };
}
