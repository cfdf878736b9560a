// `meshlet uninject [-f FILE|-]`: removes what `meshlet inject` added (its containers, volumes and
// annotation) from a Kubernetes YAML stream, leaving everything else as written.
import { parseArgs } from "node:util";

import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { readManifests, writeResult } from "./command-io.ts";
import { processManifests } from "./manifests.ts";

const USAGE = `Usage: meshlet uninject [-f FILE|-]
Reads Kubernetes YAML from FILE or standard input and writes it without meshlet's sidecar.
`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { file: { type: "string", short: "f" }, help: { type: "boolean", short: "h" } } });
  } catch (err) {
    process.stderr.write(`meshlet uninject: ${(err as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const input = readManifests(parsed.values.file);
  if (typeof input === "string") {
    process.stderr.write(`meshlet uninject: ${input}\n`);
    return EXIT_USAGE;
  }
  return writeResult("uninject", processManifests(input.name, input.text, { kind: "uninject" }));
}
