// `meshlet inject [-f FILE|-]`: adds the meshlet sidecar (native sidecar proxy + iptables init
// container + config/identity volumes) to the workloads of a Kubernetes YAML stream, on standard output.
import { parseArgs } from "node:util";

import packageJson from "../../package.json" with { type: "json" };
import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { readManifests, writeResult } from "./command-io.ts";
import { processManifests } from "./manifests.ts";

const USAGE = `Usage: meshlet inject [-f FILE|-] [--image IMAGE] [--config-map NAME] [--identity-secret NAME]
Reads Kubernetes YAML (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
CronJob, Pod, List) from FILE or standard input and writes it with the meshlet sidecar added.
Linkerd's config.linkerd.io/* annotations configure it; linkerd.io/inject: disabled skips a workload.
  --image IMAGE            sidecar image (default meshlet:${packageJson.version})
  --config-map NAME        ConfigMap mounted as MESHLET_CONFIG_DIR (default meshlet-config)
  --identity-secret NAME   Secret with the identity certificates (default meshlet-identity)
`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        file: { type: "string", short: "f" },
        image: { type: "string" },
        "config-map": { type: "string" },
        "identity-secret": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    process.stderr.write(`meshlet inject: ${(err as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const flags = parsed.values;
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  for (const name of ["image", "config-map", "identity-secret"] as const) {
    if (flags[name] !== undefined && flags[name].trim() === "") {
      process.stderr.write(`meshlet inject: --${name} needs a value\n${USAGE}`);
      return EXIT_USAGE;
    }
  }
  const input = readManifests(flags.file);
  if (typeof input === "string") {
    process.stderr.write(`meshlet inject: ${input}\n`);
    return EXIT_USAGE;
  }
  const options = {
    image: flags.image ?? `meshlet:${packageJson.version}`,
    version: packageJson.version,
    configMap: flags["config-map"] ?? "meshlet-config",
    identitySecret: flags["identity-secret"] ?? "meshlet-identity",
  };
  return writeResult("inject", processManifests(input.name, input.text, { kind: "inject", options }));
}
