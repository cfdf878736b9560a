// The `meshlet` command line: picks the command (proxy, check, env, policy, init-iptables, inject,
// uninject, stat, routes, diagnostics, identity), which parses its own options
// strictly (src/cli/). Exit codes: 0 ok, 64 usage or invalid configuration (src/rt/exit-codes.ts).
import { closestName } from "./config/closest-name.ts";
import { UsageError } from "./cli/args.ts";
import { type CommandEntry, lazyCommand, selfParsingCommand } from "./cli/command.ts";
import { overviewHelp } from "./cli/help.ts";
import { EXIT_USAGE } from "./rt/exit-codes.ts";
import { VERSION } from "./version.ts";

// Each command's module loads when that command runs: `meshlet proxy` parses none of the others' code.
const COMMANDS: readonly CommandEntry[] = [
  lazyCommand("proxy", async () => (await import("./cli/proxy.ts")).proxyCommand),
  lazyCommand("check", async () => (await import("./cli/check.ts")).checkCommand),
  lazyCommand("env", async () => (await import("./cli/env.ts")).envCommand),
  lazyCommand("policy", async () => (await import("./cli/policy.ts")).policyCommand),
  selfParsingCommand("init-iptables", "redirect this network namespace's TCP to meshlet (Linkerd proxy-init's rules); --dry-run, --uninstall", () => import("./transparent/init-iptables-command.ts")),
  lazyCommand("inject", async () => (await import("./inject/inject-command.ts")).injectCommand),
  lazyCommand("uninject", async () => (await import("./inject/uninject-command.ts")).uninjectCommand),
  lazyCommand("stat", async () => (await import("./cli/stat.ts")).statCommand),
  lazyCommand("routes", async () => (await import("./cli/routes.ts")).routesCommand),
  lazyCommand("tap", async () => (await import("./cli/tap.ts")).tapCommand),
  lazyCommand("top", async () => (await import("./cli/top.ts")).topCommand),
  selfParsingCommand("diagnostics", "diagnostics half-open [--json]: half-closed TCP connections here, with their peers", () => import("./diagnostics/diagnostics-command.ts")),
  selfParsingCommand("identity", "identity init | issue: a trust anchor and issuer, then workload certificates for mTLS (ECDSA P-256, Linkerd's names)", () => import("./identity/identity-command.ts")),
];
const TOP_LEVEL_FLAGS = ["--help", "--version"];

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
      process.stderr.write(await overview());
      return EXIT_USAGE;
    case "--help":
    case "-h":
    case "help":
      return helpFor(rest);
    case "--version":
      if (rest.length > 0) throw new UsageError(`--version takes no arguments (got ${JSON.stringify(rest[0])})`);
      process.stdout.write(`meshlet ${VERSION}\n`);
      return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (command !== undefined) return (await command.load()).run(rest);
  const known = first.startsWith("-") ? TOP_LEVEL_FLAGS : COMMANDS.map((c) => c.name);
  const hint = closestName(first, known, 2);
  throw new UsageError(`unknown ${first.startsWith("-") ? "option" : "command"} ${JSON.stringify(first)}${hint !== undefined ? ` (did you mean ${hint}?)` : ""}`);
}

/** `meshlet --help`: every command's summary, so it loads them all. */
async function overview(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((c) => c.load()));
  return overviewHelp(commands.map((c) => c.spec));
}

/** `meshlet help [command]`. */
async function helpFor(args: readonly string[]): Promise<number> {
  if (args.length === 0) {
    process.stdout.write(await overview());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === args[0]);
  if (command === undefined || args.length > 1) throw new UsageError(`help takes one command name (${COMMANDS.map((c) => c.name).join(", ")})`);
  return (await command.load()).run(["--help"]);
}

let code: number;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  const command = COMMANDS.find((c) => c.name === process.argv[2]);
  const where = command !== undefined ? `meshlet ${command.name}` : "meshlet";
  process.stderr.write(`${where}: ${err.message}\nRun '${where} --help' for usage.\n`);
  code = EXIT_USAGE;
}
if (code >= 0) process.exit(code);
