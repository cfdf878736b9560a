// Linkerd proxy-init's nat rule set as a pure function of the settings: the lines `iptables-save -t nat`
// prints once the rules are in place (meshlet's own chains and comment prefix), plus the install and
// uninstall plans computed against the rules that exist already.
import type { Cidr } from "../config/cidr.ts";
import type { PortRange } from "../config/values.ts";

export type Family = 4 | 6;

export interface RedirectSettings {
  readonly inboundPort: number; // where PREROUTING TCP goes (MESHLET_INBOUND_LISTEN's port)
  readonly outboundPort: number; // where the app's outgoing TCP goes (MESHLET_OUTBOUND_LISTEN's port)
  readonly proxyUid: number; // connections of this uid are never redirected
  readonly skipInboundPorts: readonly PortRange[]; // the admin and tap ports included
  readonly skipOutboundPorts: readonly PortRange[];
  readonly skipSubnets: readonly Cidr[]; // inbound only, matched on the source address
}

export const INBOUND_CHAIN = "MESHLET_INIT_REDIRECT";
export const OUTBOUND_CHAIN = "MESHLET_INIT_OUTPUT";
const CHAINS = [INBOUND_CHAIN, OUTBOUND_CHAIN] as const;
const COMMENT_PREFIX = "meshlet-init/";
/** One multiport match holds at most 15 port references; a range counts as 2 (proxy-init's limit). */
const MULTIPORT_LIMIT = 15;

export interface RuleSet {
  /** `-A` lines of meshlet's own chains, in order, in iptables-save form. */
  readonly chainRules: readonly string[];
  /** The jumps from the built-in chains into meshlet's chains. */
  readonly jumps: readonly string[];
}

const comment = (name: string) => `-m comment --comment "${COMMENT_PREFIX}${name}"`;
const portText = (r: PortRange) => (r.lo === r.hi ? String(r.lo) : `${r.lo}:${r.hi}`);

/** Splits a port list into multiport groups of at most 15 references, keeping the given order. */
export function multiportGroups(ports: readonly PortRange[]): string[][] {
  const groups: string[][] = [];
  let group: string[] = [];
  let references = 0;
  for (const range of ports) {
    const cost = range.lo === range.hi ? 1 : 2;
    if (references + cost > MULTIPORT_LIMIT) {
      groups.push(group);
      group = [];
      references = 0;
    }
    group.push(portText(range));
    references += cost;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function ignorePorts(chain: string, ports: readonly PortRange[]): string[] {
  return multiportGroups(ports).map((group) => {
    const list = group.join(",");
    return `-A ${chain} -p tcp -m multiport --dports ${list} ${comment(`ignore-port-${list}`)} -j RETURN`;
  });
}

/** The rules for one address family, as `iptables-save -t nat` (or ip6tables-save) prints them. */
export function ruleSet(settings: RedirectSettings, family: Family): RuleSet {
  const inbound = [
    ...ignorePorts(INBOUND_CHAIN, settings.skipInboundPorts),
    ...settings.skipSubnets
      .filter((cidr) => cidr.family === family)
      .map((cidr) => `-A ${INBOUND_CHAIN} -s ${cidr.text} ${comment(`ignore-subnet-${cidr.text}`)} -j RETURN`),
    `-A ${INBOUND_CHAIN} -p tcp ${comment("redirect-all-incoming-to-proxy-port")} -j REDIRECT --to-ports ${settings.inboundPort}`,
  ];
  const outbound = [
    `-A ${OUTBOUND_CHAIN} -m owner --uid-owner ${settings.proxyUid} ${comment("ignore-proxy-user-id")} -j RETURN`,
    `-A ${OUTBOUND_CHAIN} -o lo ${comment("ignore-loopback")} -j RETURN`,
    ...ignorePorts(OUTBOUND_CHAIN, settings.skipOutboundPorts),
    `-A ${OUTBOUND_CHAIN} -p tcp ${comment("redirect-all-outgoing-to-proxy-port")} -j REDIRECT --to-ports ${settings.outboundPort}`,
  ];
  return {
    chainRules: [...inbound, ...outbound],
    jumps: [
      `-A PREROUTING ${comment("install-prerouting")} -j ${INBOUND_CHAIN}`,
      `-A OUTPUT ${comment("install-output")} -j ${OUTBOUND_CHAIN}`,
    ],
  };
}

/** Lines of a saved nat table that jump into meshlet's chains (whatever else they match). */
function existingJumps(savedNat: string): string[] {
  return savedNat.split("\n").filter((line) => /^-A (PREROUTING|OUTPUT) /.test(line) && CHAINS.some((c) => line.endsWith(` -j ${c}`)));
}

/**
 * The `iptables-restore --noflush` input that installs the rule set. Declaring a chain that exists
 * flushes it, so a second run refills the chains with the same rules; a jump is added only if absent.
 */
export function installScript(rules: RuleSet, savedNat: string): string {
  const present = new Set(existingJumps(savedNat).map((line) => line.split(" ")[1]));
  const jumps = rules.jumps.filter((jump) => !present.has(jump.split(" ")[1]));
  return ["*nat", ...CHAINS.map((c) => `:${c} - [0:0]`), ...rules.chainRules, ...jumps, "COMMIT", ""].join("\n");
}

/** iptables arguments that remove what installScript added: every jump into meshlet's chains, then the chains. */
export function uninstallCommands(savedNat: string): string[][] {
  const commands: string[][] = [];
  for (const jump of existingJumps(savedNat)) commands.push(["-t", "nat", "-D", ...splitSavedRule(jump.slice(3))]);
  for (const chain of CHAINS) {
    if (savedNat.split("\n").some((line) => line.startsWith(`:${chain} `))) {
      commands.push(["-t", "nat", "-F", chain], ["-t", "nat", "-X", chain]);
    }
  }
  return commands;
}

/** Splits a saved rule into arguments, honouring the double quotes iptables-save puts around comments. */
export function splitSavedRule(rule: string): string[] {
  const args: string[] = [];
  for (const m of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!);
  return args;
}

/** The lines of a saved nat table that belong to meshlet (its chains, their rules and the jumps). */
export function meshletLines(savedNat: string): string[] {
  return savedNat.split("\n").filter((line) => CHAINS.some((c) => line.startsWith(`:${c} `) || line.includes(` ${c} `) || line.endsWith(` ${c}`)));
}
