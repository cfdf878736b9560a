// Linkerd YAML compatibility (issue 16): each of the corpus's 239 documents, alone in a config directory,
// gets Linkerd's verdict from the real loader and kind list — accepted with no error, or rejected with
// exactly one located error. A kind implemented later runs here too, so it cannot regress the corpus.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { resourceKinds } from "../../../src/app/resource-kinds.ts";
import { parseConfig } from "../../../src/config/env.ts";
import { checkConfigDir, loadConfigDir } from "../../../src/resources/config-dir.ts";
import { CORPUS, CORPUS_ORIGIN, corpusEntries, hasCorpusOrigin } from "../../support/linkerd-corpus.ts";

const root = mkdtempSync(join(tmpdir(), "meshlet-corpus-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const clock = { nowMs: () => 0 };
/** What `meshlet check` uses with an empty environment. */
const kinds = resourceKinds(parseConfig({}), clock);
const entries = corpusEntries();

/** A directory holding only `files` (symlinked, as a ConfigMap volume does). */
function dirWith(name: string, files: readonly string[]): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const f of files) symlinkSync(f, join(dir, f.replace(/.*\//, "")));
  return dir;
}

test("the corpus is complete: 239 documents, each listed once in EXPECTED.tsv", () => {
  const onDisk = readdirSync(CORPUS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(CORPUS, d.name)).map((f) => `${d.name}/${f}`))
    .sort();
  expect(entries.map((e) => `${e.folder}/${e.file}`).sort()).toEqual(onDisk);
  expect(entries).toHaveLength(239);
});

test.skipIf(!hasCorpusOrigin())("the copy in test/fixtures is identical to ../shared/corpus/linkerd-yaml", () => {
  const origin = corpusEntries(CORPUS_ORIGIN);
  expect(entries.map((e) => [e.folder, e.file, e.expected])).toEqual(origin.map((e) => [e.folder, e.file, e.expected]));
  for (const [i, e] of entries.entries()) expect(readFileSync(e.path, "utf8")).toBe(readFileSync(origin[i]!.path, "utf8"));
});

describe("each document alone gets Linkerd's verdict", () => {
  test.each(entries.map((e, i) => [`${e.folder}/${e.file}`, e, i] as const))("%s", (_name, entry, i) => {
    const problems = checkConfigDir(dirWith(String(i), [entry.path]), kinds);
    const errors = problems.filter((p) => p.severity === "error");
    if (entry.expected === "accept") {
      expect(errors.map((p) => p.message)).toEqual([]);
      expect(loadConfigDir(join(root, String(i)), { kinds }).ok).toBe(true);
    } else {
      // One defect, one error, located in the file (line and document).
      expect(errors.map((p) => p.message)).toHaveLength(1);
      expect(errors[0]!.file).toBe(join(root, String(i), entry.file));
      expect(errors[0]!.line).toBeGreaterThan(0);
      expect(errors[0]!.doc).toBeGreaterThan(0);
    }
  });
});

describe("error wording", () => {
  const byFile = (file: string) => {
    const entry = entries.find((e) => e.file === file)!;
    return checkConfigDir(dirWith(`wording-${file}`, [entry.path]), kinds).filter((p) => p.severity === "error");
  };

  test("status: {min: false} is one schema error, not a misleading second one", () => {
    expect(byFile("linkerd2__pkg__profiles__profiles_test.go__17.yaml").map((p) => [p.path, p.message])).toEqual([
      ["spec.routes[0].responseClasses[0].condition.all[1].not.status.min", "must be an integer, got boolean false"],
    ]);
  });

  test("two documents without --- between them: one error naming the repeated keys", () => {
    const [error, ...rest] = byFile("website__linkerd.io__content__2-edge__tasks__adding-non-kubernetes-workloads.md__2.yaml");
    expect(rest).toEqual([]);
    expect(error!.message).toContain('duplicate keys "apiVersion", "kind", "metadata", "spec"');
    expect(error!.message).toContain("is a --- missing between two documents?");
  });

  test("a retryBudget.ttl outside 1s-60s (Linkerd's own validation test) is a warning naming the field", () => {
    const entry = entries.find((e) => e.file === "linkerd2__pkg__profiles__profiles_test.go__2.yaml")!;
    // The profile lives in namespace linkerd-ns: as seen from there, only the budget is worth a word.
    const here = resourceKinds(parseConfig({ MESHLET_NAMESPACE: "linkerd-ns" }), clock);
    const problems = checkConfigDir(dirWith("ttl", [entry.path]), here);
    expect(problems.map((p) => [p.severity, p.path])).toEqual([["warning", "spec.retryBudget.ttl"]]);
    expect(problems[0]!.message).toContain("ttl must be between 1s and 60s, got 10ms");
    const loaded = loadConfigDir(join(root, "ttl"), { kinds: here });
    if (!loaded.ok) throw new Error("not loaded");
    // As Linkerd's proxy does with a budget it drops: the routes stay, without retries.
    const [profile] = loaded.snapshot.profiles.byName.values();
    expect(profile!.routes.length).toBeGreaterThan(1);
    expect(profile!.routes.every((r) => !r.isRetryable)).toBe(true);
  });

  test("a traffic split without routes does not warn about missing routes", () => {
    const entry = entries.find((e) => e.file === "linkerd2__test__integration__viz__trafficsplit__trafficsplit_test.go__1.yaml")!;
    const problems = checkConfigDir(dirWith("split", [entry.path]), kinds);
    expect(problems.some((p) => p.message.includes("has no routes"))).toBe(false);
  });

  test("EndpointSlice and the policy kinds are enforced: none warns that it is not, and the slices load", () => {
    const pick = (folder: string) => entries.filter((e) => e.folder === folder && e.expected === "accept").slice(0, 2).map((e) => e.path);
    const dir = dirWith("not-enforced", [...pick("EndpointSlice"), ...pick("AuthorizationPolicy"), ...pick("Server")]);
    const warnings = checkConfigDir(dir, kinds).filter((p) => p.message.includes("not enforced"));
    expect(warnings.map((p) => p.message)).toEqual([]);
    const loaded = loadConfigDir(dir, { kinds });
    if (!loaded.ok) throw new Error("not loaded");
    expect(loaded.snapshot.endpointSlices).toHaveLength(2);
  });
});

describe("profiles with one name in several namespaces (Linkerd's controller/k8s/api_test.go)", () => {
  const three = entries.filter((e) => /^linkerd2__controller__k8s__api_test\.go__[123]\.yaml$/.test(e.file)).map((e) => e.path);
  const dir = dirWith("namespaces", three);

  test.each<[string, string]>([
    ["client", "client"], // the client's own namespace takes priority
    ["server", "server"],
    ["linkerd", "linkerd"],
    ["default", "server"], // an unrelated client: the service's namespace; `linkerd` and `client` are ignored
  ])("MESHLET_NAMESPACE=%s: the profile from namespace %s applies", (namespace, from) => {
    expect(three).toHaveLength(3);
    const result = loadConfigDir(dir, { kinds: resourceKinds(parseConfig({ MESHLET_NAMESPACE: namespace }), clock) });
    if (!result.ok) throw new Error(result.problems.map((p) => p.message).join("; "));
    expect(result.snapshot.profiles.byName.get("books.server.svc.cluster.local")?.namespace).toBe(from);
  });

  test("the ignored ones are named in a warning", () => {
    const problems = checkConfigDir(dir, resourceKinds(parseConfig({ MESHLET_NAMESPACE: "default" }), clock));
    expect(problems.filter((p) => p.message.includes("is ignored")).map((p) => p.message.split(" ")[4])).toEqual(["linkerd", "client"]);
  });
});
