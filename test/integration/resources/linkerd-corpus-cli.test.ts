// `meshlet check --config-dir` as a user runs it, on a representative subset of the Linkerd YAML corpus:
// per kind folder, the first document Linkerd accepts (exit 0) and the first it rejects (exit 64 with a
// file:line:col error). The in-process test (test/unit/resources/linkerd-corpus.test.ts) covers all 239.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type CorpusEntry, corpusEntries } from "../../support/linkerd-corpus.ts";
import { BUN, CLI } from "../../support/proxy.ts";

const root = mkdtempSync(join(tmpdir(), "meshlet-corpus-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const entries = corpusEntries();
const subset: CorpusEntry[] = [];
for (const folder of new Set(entries.map((e) => e.folder))) {
  for (const verdict of ["accept", "reject"] as const) {
    const first = entries.find((e) => e.folder === folder && e.expected === verdict);
    if (first !== undefined) subset.push(first);
  }
}

async function check(files: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; dir: string }> {
  const dir = join(root, String(Math.random()).slice(2));
  mkdirSync(dir);
  for (const f of files) symlinkSync(f, join(dir, f.replace(/.*\//, "")));
  const proc = spawn([BUN, CLI, "check", "--config-dir", dir], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr, dir };
}

test("the subset covers every kind folder and both verdicts", () => {
  expect(new Set(subset.map((e) => e.folder)).size).toBe(9);
  expect(subset.filter((e) => e.expected === "reject").map((e) => e.folder).sort()).toEqual(["AuthorizationPolicy", "ServiceProfile"]);
});

// The processes run four at a time up front (each start-up costs about a second on a loaded machine).
type Run = Awaited<ReturnType<typeof check>>;
const runs = new Map<CorpusEntry, Run>();
beforeAll(async () => {
  const queue = [...subset];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let e = queue.shift(); e !== undefined; e = queue.shift()) runs.set(e, await check([e.path]));
    }),
  );
}, 60_000);

test.each(subset.map((e) => [`${e.expected} ${e.folder}/${e.file}`, e] as const))("%s", (_name, entry) => {
  const { code, stdout, stderr, dir } = runs.get(entry)!;
  if (entry.expected === "accept") {
    expect(stderr.split("\n").filter((l) => l.includes(": error:"))).toEqual([]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${dir}: ok`);
  } else {
    expect(code).toBe(64);
    const errors = stderr.split("\n").filter((l) => l.includes(": error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^${join(dir, entry.file).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: error: doc \\d+: `));
  }
});

test("one name in three namespaces loads, and MESHLET_NAMESPACE decides which applies", async () => {
  const three = entries.filter((e) => /^linkerd2__controller__k8s__api_test\.go__[123]\.yaml$/.test(e.file)).map((e) => e.path);
  const { code, stderr } = await check(three, { MESHLET_NAMESPACE: "client" });
  expect(code).toBe(0);
  // From namespace client, the server's own profile is overridden and linkerd's applies to nobody.
  expect(stderr).toContain("in namespace linkerd is ignored");
  expect(stderr).not.toContain("duplicate");
});
