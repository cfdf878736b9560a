// The `meshlet` command line: `proxy` runs the sidecar, `check` validates the environment, `env`
// prints the settings table. Exit codes: 0 ok, 64 usage or invalid configuration.
import { ConfigError, SETTINGS, parseConfig, settingsMarkdown } from "./config/env.ts";
import { EXIT_USAGE, runProxy } from "./main.ts";
import { checkConfigDir } from "./resources/config-dir.ts";
import { formatProblem, hasErrors } from "./resources/problem.ts";
import { profileEnvOf } from "./resources/startup.ts";

const HELP = `meshlet — a service-mesh sidecar proxy

Usage: meshlet <command> [options]

Commands:
  proxy            run the sidecar (inbound, outbound and admin listeners) with MESHLET_* settings
  check [--config-dir DIR]
                   validate the MESHLET_* environment and the resource directory (default
                   MESHLET_CONFIG_DIR); lists every problem, exits 64 if any is an error
  env [--markdown] list the MESHLET_* settings with their defaults
  init-iptables [--dry-run|--uninstall] [--close-wait-timeout D]
                   redirect this network namespace's TCP to meshlet (Linkerd proxy-init's rules)
  inject [-f FILE|-]
                   add the meshlet sidecar to Kubernetes workloads (YAML on standard output)
  uninject [-f FILE|-]
                   remove what inject added
  diagnostics half-open [--json]
                   half-closed TCP connections (CLOSE_WAIT, FIN_WAIT_2) here, with their peers
  help             show this text

Run \`meshlet env\` for every setting; README.md explains them.
`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "proxy":
      await runProxy(process.env);
      return -1; // keeps running until drained
    case "check":
      return check(args);
    case "env":
      if (args.includes("--markdown")) {
        process.stdout.write(settingsMarkdown() + "\n");
      } else {
        for (const s of SETTINGS) process.stdout.write(`${s.name}=${s.defaultText}\n    ${s.meaning}\n`);
      }
      return 0;
    case "init-iptables": return (await import("./transparent/init-iptables-command.ts")).run(args);
    case "inject": return (await import("./inject/inject-command.ts")).run(args);
    case "uninject": return (await import("./inject/uninject-command.ts")).run(args);
    case "diagnostics": return (await import("./diagnostics/diagnostics-command.ts")).run(args);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return command === undefined ? EXIT_USAGE : 0;
    default:
      process.stderr.write(`meshlet: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
      return EXIT_USAGE;
  }
}

function check(args: readonly string[]): number {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`meshlet: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const flag = args.indexOf("--config-dir");
  if (flag >= 0 && args[flag + 1] === undefined) {
    process.stderr.write("meshlet check: --config-dir needs a directory\n");
    return EXIT_USAGE;
  }
  const dir = flag >= 0 ? args[flag + 1]! : config.configDir;
  const problems = checkConfigDir(dir, profileEnvOf(config));
  for (const problem of problems) process.stderr.write(formatProblem(problem) + "\n");
  if (hasErrors(problems)) {
    process.stderr.write(`meshlet check: ${dir}: ${problems.filter((p) => p.severity === "error").length} error(s)\n`);
    return EXIT_USAGE;
  }
  process.stdout.write(`environment: ok\n${dir}: ok${problems.length ? ` (${problems.length} warning(s))` : ""}\n`);
  return 0;
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
