// Test helper: decode ServiceProfile YAML text in memory, as the loader would from a file.
import { serviceProfileKind } from "../../../src/profiles/kind.ts";
import type { Profile, ProfileSpec } from "../../../src/profiles/model.ts";
import { buildProfileSet } from "../../../src/profiles/set.ts";
import { decodedOf, decodeFiles } from "../../../src/resources/load.ts";
import type { Problem } from "../../../src/resources/problem.ts";

export function decodeYaml(text: string, name = "test.yaml"): { specs: ProfileSpec[]; problems: readonly Problem[] } {
  const kind = serviceProfileKind();
  const loaded = decodeFiles([{ name, path: name, text }], [kind]);
  return { specs: [...decodedOf(loaded, kind).map((d) => d.value)], problems: loaded.problems };
}

/** The one profile in `text`; throws listing the problems if it did not decode. */
export function profileFromYaml(text: string): Profile {
  const { specs, problems } = decodeYaml(text);
  const spec = specs[0];
  if (spec === undefined || problems.some((p) => p.severity === "error")) {
    throw new Error(`profile did not decode: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  }
  const set = buildProfileSet([spec], { clock: { nowMs: () => 0 } });
  return set.byName.get(spec.name) as Profile;
}

/** Wraps route YAML (indented as list items under `routes:`) in a profile document. */
export function withRoutes(routesYaml: string, name = "books.default.svc.cluster.local"): string {
  return `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: ${name}
spec:
  routes:
${routesYaml}`;
}
