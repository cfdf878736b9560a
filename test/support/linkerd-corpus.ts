// The Linkerd YAML corpus (issue 16): 239 documents from Linkerd's own repositories and docs, with
// EXPECTED.tsv saying whether Linkerd accepts each. The suite tests the copy in test/fixtures (so a fresh
// checkout needs nothing else); CORPUS_ORIGIN is the shared original that the copy must not drift from.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
export const CORPUS = join(ROOT, "test", "fixtures", "linkerd-yaml");
/** CI checks out shared/ beside the repository; a newcomer's checkout may not have it. */
export const CORPUS_ORIGIN = join(ROOT, "..", "shared", "corpus", "linkerd-yaml");
export const hasCorpusOrigin = (): boolean => existsSync(join(CORPUS_ORIGIN, "EXPECTED.tsv"));

export interface CorpusEntry {
  /** Folder: the kind, HTTPRoute split by group. */
  readonly folder: string;
  readonly file: string;
  readonly expected: "accept" | "reject";
  readonly why: string;
  readonly path: string;
}

/** Every row of EXPECTED.tsv (kind, file, expected, why). */
export function corpusEntries(dir: string = CORPUS): CorpusEntry[] {
  const [header, ...rows] = readFileSync(join(dir, "EXPECTED.tsv"), "utf8").trimEnd().split("\n");
  if (header !== "kind\tfile\texpected\twhy") throw new Error(`unexpected EXPECTED.tsv header: ${header}`);
  return rows.map((row) => {
    const [folder = "", file = "", expected = "", why = ""] = row.split("\t");
    if (expected !== "accept" && expected !== "reject") throw new Error(`bad expectation in EXPECTED.tsv: ${row}`);
    return { folder, file, expected, why, path: join(dir, folder, file) };
  });
}
