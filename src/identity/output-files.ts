// Writes the files `meshlet identity` makes: all or none when some already exist (unless --force),
// private keys mode 0600, each file replaced atomically (temp file + rename) so a watcher never
// reads half of one.
import { chmodSync, existsSync, linkSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface OutputFile {
  /** File name inside the output directory, e.g. tls.key. */
  readonly name: string;
  readonly text: string;
  /** A private key: mode 0600 (others 0644). */
  readonly privateKey: boolean;
}

/** Some output files exist and --force was not given; nothing was written. */
export class OutputExistsError extends Error {
  readonly code = "MESHLET_ERR_IDENTITY_OUTPUT_EXISTS";
  constructor(readonly paths: readonly string[]) {
    super(`${paths.join(", ")} already exist${paths.length === 1 ? "s" : ""}; nothing was written (pass --force to overwrite)`);
  }
}

/** Writes `files` into `dir` (created if missing) and returns their paths. */
export function writeOutputFiles(dir: string, files: readonly OutputFile[], force: boolean): string[] {
  const paths = files.map((f) => join(dir, f.name));
  if (!force) {
    const existing = paths.filter((p) => existsSync(p));
    if (existing.length > 0) throw new OutputExistsError(existing);
  }
  mkdirSync(dir, { recursive: true });
  files.forEach((file, i) => {
    const mode = file.privateKey ? 0o600 : 0o644;
    const temp = join(dir, `.${file.name}.${process.pid}.tmp`);
    try {
      writeFileSync(temp, file.text, { mode, flag: "wx" });
      chmodSync(temp, mode); // the umask may have narrowed it
      // Without --force, link() refuses a file that appeared since the check above.
      if (force) renameSync(temp, paths[i]!);
      else linkSync(temp, paths[i]!);
    } finally {
      rmSync(temp, { force: true });
    }
  });
  return paths;
}
