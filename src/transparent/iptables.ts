// Applies and removes the rule set of rules.ts with the iptables tools of one backend (nft or legacy)
// in the current network namespace: save, then one atomic `restore --noflush`; uninstall deletes
// exactly the jumps and chains meshlet owns. The first failing tool aborts with an InitIptablesError.
import { spawnSync } from "bun";

import { type Family, type RuleSet, installScript, uninstallCommands } from "./rules.ts";

export type IptablesMode = "nft" | "legacy";
export const IPTABLES_MODES: readonly IptablesMode[] = ["nft", "legacy"];

export class InitIptablesError extends Error {
  readonly code = "MESHLET_ERR_INIT_IPTABLES";
}

interface Tools {
  readonly bin: string;
  readonly save: string;
  readonly restore: string;
}

/** iptables-nft / iptables-legacy and their save/restore companions; ip6tables-* for IPv6. */
export function toolsFor(mode: IptablesMode, family: Family): Tools {
  const base = family === 4 ? "iptables" : "ip6tables";
  return { bin: `${base}-${mode}`, save: `${base}-${mode}-save`, restore: `${base}-${mode}-restore` };
}

function run(argv: readonly string[], stdin?: string): string {
  let result;
  try {
    result = spawnSync([...argv], { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  } catch (err) {
    throw new InitIptablesError(`${argv[0]}: cannot run it (${(err as Error).message}); install the iptables package`);
  }
  if (result.exitCode !== 0) {
    throw new InitIptablesError(`${argv.join(" ")} exited with ${result.exitCode}: ${result.stderr.toString().trim()}`);
  }
  return result.stdout.toString();
}

/** The current nat table as `iptables-save -t nat` prints it. */
export function saveNat(tools: Tools): string {
  return run([tools.save, "-t", "nat"]);
}

/** Installs (or refills) meshlet's chains and adds the missing jumps, in one restore transaction. */
export function install(tools: Tools, rules: RuleSet): void {
  run([tools.restore, "--noflush", "-w", "5"], installScript(rules, saveNat(tools)));
}

/** Removes meshlet's jumps and chains; returns how many commands it ran (0 when nothing was installed). */
export function uninstall(tools: Tools): number {
  const commands = uninstallCommands(saveNat(tools));
  for (const args of commands) run([tools.bin, "-w", "5", ...args]);
  return commands.length;
}
