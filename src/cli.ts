// The `meshlet` command line: picks the command (proxy, check, env, policy, init-iptables, inject,
// uninject, stat, routes, diagnostics, identity), which parses its own options
// strictly (src/cli/). Exit codes: 0 ok, 64 usage or invalid configuration (src/rt/exit-codes.ts).
import { closestName } from "./config/closest-name.ts";
import { UsageError } from "./cli/args.ts";
import { checkCommand } from "./cli/check.ts";
import { type Command, selfParsingCommand } from "./cli/command.ts";
import { injectCommand } from "./inject/inject-command.ts";
import { uninjectCommand } from "./inject/uninject-command.ts";
import { envCommand } from "./cli/env.ts";
import { overviewHelp } from "./cli/help.ts";
import { policyCommand } from "./cli/policy.ts";
import { proxyCommand } from "./cli/proxy.ts";
import { routesCommand } from "./cli/routes.ts";
import { statCommand } from "./cli/stat.ts";
import { tapCommand } from "./cli/tap.ts";
import { topCommand } from "./cli/top.ts";
import { EXIT_USAGE } from "./rt/exit-codes.ts";
import { VERSION } from "./version.ts";

const COMMANDS: readonly Command[] = [
  proxyCommand,
  checkCommand,
  envCommand,
  policyCommand,
  selfParsingCommand("init-iptables", "redirect this network namespace's TCP to meshlet (Linkerd proxy-init's rules); --dry-run, --uninstall", () => import("./transparent/init-iptables-command.ts")),
  injectCommand,
  uninjectCommand,
  statCommand,
  routesCommand,
  tapCommand,
  topCommand,
  selfParsingCommand("diagnostics", "diagnostics half-open [--json]: half-closed TCP connections here, with their peers", () => import("./diagnostics/diagnostics-command.ts")),
  selfParsingCommand("identity", "identity init | issue: a trust anchor and issuer, then workload certificates for mTLS (ECDSA P-256, Linkerd's names)", () => import("./identity/identity-command.ts")),
];
const TOP_LEVEL_FLAGS = ["--help", "--version"];

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  const help = overviewHelp(COMMANDS.map((c) => c.spec));
  switch (first) {
    case undefined:
      process.stderr.write(help);
      return EXIT_USAGE;
    case "--help":
    case "-h":
    case "help":
      return helpFor(rest, help);
    case "--version":
      if (rest.length > 0) throw new UsageError(`--version takes no arguments (got ${JSON.stringify(rest[0])})`);
      process.stdout.write(`meshlet ${VERSION}\n`);
      return 0;
  }
  const command = COMMANDS.find((c) => c.spec.name === first);
  if (command !== undefined) return command.run(rest);
  const known = first.startsWith("-") ? TOP_LEVEL_FLAGS : COMMANDS.map((c) => c.spec.name);
  const hint = closestName(first, known, 2);
  throw new UsageError(`unknown ${first.startsWith("-") ? "option" : "command"} ${JSON.stringify(first)}${hint !== undefined ? ` (did you mean ${hint}?)` : ""}`);
}

/** `meshlet help [command]`. */
function helpFor(args: readonly string[], overview: string): Promise<number> | number {
  if (args.length === 0) {
    process.stdout.write(overview);
    return 0;
  }
  const command = COMMANDS.find((c) => c.spec.name === args[0]);
  if (command === undefined || args.length > 1) throw new UsageError(`help takes one command name (${COMMANDS.map((c) => c.spec.name).join(", ")})`);
  return command.run(["--help"]);
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  const command = COMMANDS.find((c) => c.spec.name === process.argv[2]);
  const where = command !== undefined ? `meshlet ${command.spec.name}` : "meshlet";
  process.stderr.write(`${where}: ${err.message}\nRun '${where} --help' for usage.\n`);
  code = EXIT_USAGE;
}
if (code >= 0) process.exit(code);
