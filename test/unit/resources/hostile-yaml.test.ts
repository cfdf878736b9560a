// Hostile config files (issue 8): deep nesting, thousands of documents, exploding or recursive aliases.
// Each is a located problem — never an exception, never a stack overflow — and the rest of the file
// and of the directory is still checked.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { resourceKinds } from "../../../src/app/resource-kinds.ts";
import { checkConfigDir, loadConfigDir } from "../../../src/resources/config-dir.ts";
import {
  MAX_ALIAS_COUNT,
  MAX_DOCUMENTS_PER_FILE,
  MAX_NESTING_DEPTH,
  parseYamlFile,
} from "../../../src/resources/yaml-source.ts";

const DEEP_FLOW = "[".repeat(10_000) + "]".repeat(10_000); // 10,000 levels, 20 KB

function blockNested(levels: number): string {
  let text = "";
  for (let i = 0; i < levels; i++) text += `${" ".repeat(i)}a:\n`;
  return text;
}

function billionLaughs(): string {
  let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    text += `${name}: &${name} [${Array(9).fill(`*${prev}`).join(",")}]\n`;
  }
  return text;
}

const PROFILE = `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata: {name: ok.default.svc.cluster.local}
spec: {routes: [{name: r, condition: {method: GET}}]}
`;

/** file, one of its problems' line, column and message fragment */
const CASES: [string, string, number, number, string][] = [
  ["10,000 levels of flow nesting", `${PROFILE}---\n${DEEP_FLOW}\n`, 6, MAX_NESTING_DEPTH + 1, `nesting deeper than ${MAX_NESTING_DEPTH} levels`],
  ["10,000 levels of flow mappings", `${"{a: ".repeat(10_000)}1${"}".repeat(10_000)}`, 1, 4 * MAX_NESTING_DEPTH + 1, "nesting deeper"],
  ["2,000 levels of block nesting", blockNested(2_000), MAX_NESTING_DEPTH + 1, MAX_NESTING_DEPTH + 1, "nesting deeper"],
  ["billion laughs", billionLaughs(), 1, 1, "excessive alias count"],
  ["an alias inside its own anchor", "a: &x [1, *x]\n", 1, 11, "alias *x refers to a node that contains it"],
  [
    "nesting that only aliases make deep",
    `a: &a ${"[".repeat(60)}1${"]".repeat(60)}\nb: &b ${"[".repeat(60)}*a${"]".repeat(60)}\n`,
    2,
    67,
    "nesting deeper than 100 levels once aliases are expanded",
  ],
  ["too many aliases", `a: &a 1\nb: [${Array(MAX_ALIAS_COUNT + 1).fill("*a").join(",")}]\n`, 2, 5 + 3 * MAX_ALIAS_COUNT, `more than ${MAX_ALIAS_COUNT} aliases`],
  ["too many documents", "---\nx: 1\n".repeat(MAX_DOCUMENTS_PER_FILE + 5), 2 * MAX_DOCUMENTS_PER_FILE + 1, 1, `more than ${MAX_DOCUMENTS_PER_FILE} documents`],
];

describe("parseYamlFile", () => {
  test.each(CASES)("%s: a located error, no exception", (_what, text, line, column, fragment) => {
    const parsed = parseYamlFile("hostile.yaml", text);
    const p = parsed.problems.find((x) => x.message.includes(fragment));
    expect(p).toMatchObject({ severity: "error", file: "hostile.yaml", line, column });
    expect(p!.doc).toBeGreaterThan(0);
  });

  test("the other documents of a file with a too-deep one are still read", () => {
    const parsed = parseYamlFile("f.yaml", `${PROFILE}---\n${DEEP_FLOW}\n---\n${PROFILE}`);
    expect(parsed.docs.map((d) => d.index)).toEqual([1, 3]);
    expect(parsed.problems.map((p) => p.doc)).toEqual([2]);
  });

  test("nesting up to the bound is fine, aliases too", () => {
    const atBound = `${"[".repeat(MAX_NESTING_DEPTH)}${"]".repeat(MAX_NESTING_DEPTH)}`;
    expect(parseYamlFile("f.yaml", atBound).problems).toEqual([]);
    const shared = parseYamlFile("f.yaml", "base: &b {x: 1}\nuse: [*b, *b]\n");
    expect(shared.problems).toEqual([]);
    expect(shared.docs[0]!.value).toEqual({ base: { x: 1 }, use: [{ x: 1 }, { x: 1 }] });
  });

  test("the documents before the count bound are read", () => {
    const parsed = parseYamlFile("f.yaml", "---\nx: 1\n".repeat(MAX_DOCUMENTS_PER_FILE + 5));
    expect(parsed.docs).toHaveLength(MAX_DOCUMENTS_PER_FILE);
  });

  test.each([
    ["apiVersion: v1\nkind: A\napiVersion: v2\n", 3, 'duplicate key "apiVersion"'],
    ["metadata: {name: a, 'name': b}\n", 1, 'duplicate key "name"'],
    ['spec:\n  "a b": 1\n  "a b": 2\n', 3, 'duplicate key "a b"'],
  ])("a duplicate key names the key: %p", (text, line, fragment) => {
    const parsed = parseYamlFile("f.yaml", text);
    expect(parsed.problems.map((p) => [p.line, p.message])).toEqual([[line, `invalid yaml: ${fragment} (map keys must be unique)`]]);
  });
});

describe("a hostile file in a config directory", () => {
  const root = mkdtempSync(join(tmpdir(), "meshlet-hostile-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const kinds = resourceKinds({ namespace: "default", clusterDomain: "cluster.local", externalProfiles: false, inboundProfile: "", podLabels: {} }, { nowMs: () => 0 });

  test.each(CASES)("%s: check lists it and the load is refused; the good file is still checked", (what, text, _line, _column, fragment) => {
    const dir = join(root, what.replace(/[^a-z0-9]+/gi, "-"));
    mkdirSync(dir);
    writeFileSync(join(dir, "a-good.yaml"), PROFILE);
    writeFileSync(join(dir, "b-hostile.yaml"), text);
    writeFileSync(join(dir, "c-bad.yaml"), PROFILE.replace("method: GET", "method: 'G T'"));
    const problems = checkConfigDir(dir, kinds);
    expect(problems.some((p) => p.file.endsWith("b-hostile.yaml") && p.message.includes(fragment) && p.line !== undefined)).toBe(true);
    expect(problems.some((p) => p.file.endsWith("c-bad.yaml") && p.message.includes("not an HTTP token"))).toBe(true);
    expect(loadConfigDir(dir, { kinds }).ok).toBe(false);
  });
});
