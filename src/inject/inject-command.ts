// `meshlet inject [-f FILE|-]`: adds the meshlet sidecar (native sidecar proxy + iptables init
// container + config/identity volumes) to the workloads of a Kubernetes YAML stream, on standard output.
import packageJson from "../../package.json" with { type: "json" };
import { UsageError } from "../cli/args.ts";
import { defineCommand } from "../cli/command.ts";
import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { readManifests, writeResult } from "./command-io.ts";

export const injectCommand = defineCommand(
  {
    name: "inject",
    summary: "add the meshlet sidecar to Kubernetes workloads (YAML on standard output)",
    details:
      "Reads Kubernetes YAML (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,\n" +
      "CronJob, Pod, List) from FILE or standard input and writes it with the meshlet sidecar added.\n" +
      "Linkerd's config.linkerd.io/* annotations configure it; linkerd.io/inject: disabled skips a workload.",
    options: {
      file: { type: "string", short: "f", valueName: "FILE", description: "the manifests (default, or -: standard input)" },
      image: { type: "string", valueName: "IMAGE", description: `sidecar image (default meshlet:${packageJson.version})` },
      "config-map": { type: "string", valueName: "NAME", description: "ConfigMap mounted as MESHLET_CONFIG_DIR (default meshlet-config)" },
      "identity-secret": { type: "string", valueName: "NAME", description: "Secret with the identity certificates (default meshlet-identity)" },
    },
  },
  async (values) => {
    for (const name of ["image", "config-map", "identity-secret"] as const) {
      if (values[name] !== undefined && values[name].trim() === "") throw new UsageError(`--${name} needs a value`);
    }
    const input = readManifests(values.file);
    if (typeof input === "string") {
      process.stderr.write(`meshlet inject: ${input}\n`);
      return EXIT_USAGE;
    }
    const options = {
      image: values.image ?? `meshlet:${packageJson.version}`,
      version: packageJson.version,
      configMap: values["config-map"] ?? "meshlet-config",
      identitySecret: values["identity-secret"] ?? "meshlet-identity",
    };
    // Loaded here, not at import: the YAML stack stays out of `meshlet proxy`.
    const { processManifests } = await import("./manifests.ts");
    return writeResult("inject", processManifests(input.name, input.text, { kind: "inject", options }));
  },
);
