// `meshlet uninject [-f FILE|-]`: removes what `meshlet inject` added (its containers, volumes and
// annotation) from a Kubernetes YAML stream, leaving everything else as written.
import { defineCommand } from "../cli/command.ts";
import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { readManifests, writeResult } from "./command-io.ts";

export const uninjectCommand = defineCommand(
  {
    name: "uninject",
    summary: "remove what inject added",
    details: "Reads Kubernetes YAML from FILE or standard input and writes it without meshlet's sidecar.",
    options: {
      file: { type: "string", short: "f", valueName: "FILE", description: "the manifests (default, or -: standard input)" },
    },
  },
  async (values) => {
    const input = readManifests(values.file);
    if (typeof input === "string") {
      process.stderr.write(`meshlet uninject: ${input}\n`);
      return EXIT_USAGE;
    }
    // Loaded here, not at import: the YAML stack stays out of `meshlet proxy`.
    const { processManifests } = await import("./manifests.ts");
    return writeResult("uninject", processManifests(input.name, input.text, { kind: "uninject" }));
  },
);
