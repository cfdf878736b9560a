// The `meshlet` command line: `proxy` runs the sidecar, `check` validates the environment, `env`
// prints the settings table. Exit codes: 0 ok, 64 usage or invalid configuration.
import { runCheck } from "./app/check.ts";
import { SETTINGS, settingsMarkdown } from "./config/env.ts";
import { EXIT_USAGE, runProxy } from "./main.ts";

const HELP = `meshlet — a service-mesh sidecar proxy

Usage: meshlet <command> [options]

Commands:
  proxy            run the sidecar (inbound, outbound and admin listeners) with MESHLET_* settings
  check [--config-dir DIR]
                   validate the MESHLET_* environment and the resource directory (default
                   MESHLET_CONFIG_DIR); lists every problem, exits 64 if any is an error
  env [--markdown] list the MESHLET_* settings with their defaults
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
  const flag = args.indexOf("--config-dir");
  if (flag >= 0 && args[flag + 1] === undefined) {
    process.stderr.write("meshlet check: --config-dir needs a directory\n");
    return EXIT_USAGE;
  }
  return runCheck({
    env: process.env,
    configDir: flag >= 0 ? args[flag + 1] : undefined,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  });
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
