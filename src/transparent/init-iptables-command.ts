// `meshlet init-iptables`: redirects the namespace's TCP to meshlet as Linkerd's proxy-init does
// (settings from MESHLET_* and flags), `--dry-run` prints the rules, `--uninstall` removes them.
// Exit codes: 0 done, 64 bad usage or settings, 1 a tool failed (as proxy-init).
import { parseArgs } from "node:util";

import { ConfigError, type Config, type Strings, parseConfig } from "../config/env.ts";
import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { parseCloseWaitSeconds, setCloseWaitTimeout } from "./close-wait.ts";
import { IPTABLES_MODES, type IptablesMode, InitIptablesError, install, toolsFor, uninstall } from "./iptables.ts";
import { type Family, type RedirectSettings, installScript, ruleSet } from "./rules.ts";

const EXIT_FAILED = 1;
const TAP_PORT = 4190; // Linkerd's tap port, always skipped as proxy-init does

const USAGE = `Usage: meshlet init-iptables [--dry-run | --uninstall] [--close-wait-timeout DURATION]
         [--iptables-mode nft|legacy] [--ipv6] [--proxy-uid UID] [--skip-inbound-ports PORTS]
         [--skip-outbound-ports PORTS] [--skip-subnets CIDRS]
Flags override MESHLET_PROXY_UID, MESHLET_SKIP_INBOUND_PORTS, MESHLET_SKIP_OUTBOUND_PORTS and
MESHLET_SKIP_SUBNETS; the ports redirected to are those of MESHLET_INBOUND_LISTEN and MESHLET_OUTBOUND_LISTEN.
`;

/** Flags that stand for a MESHLET_* setting, parsed by the setting's own parser. */
const SETTING_FLAGS = {
  "proxy-uid": "MESHLET_PROXY_UID",
  "skip-inbound-ports": "MESHLET_SKIP_INBOUND_PORTS",
  "skip-outbound-ports": "MESHLET_SKIP_OUTBOUND_PORTS",
  "skip-subnets": "MESHLET_SKIP_SUBNETS",
} as const;

/** The rule settings a configuration asks for: the admin and tap ports are always skipped inbound. */
export function redirectSettings(config: Config): RedirectSettings {
  const adminPort = config.adminListen.port;
  return {
    inboundPort: config.inboundListen.port,
    outboundPort: config.outboundListen.port,
    proxyUid: config.proxyUid,
    skipInboundPorts: [{ lo: TAP_PORT, hi: TAP_PORT }, { lo: adminPort, hi: adminPort }, ...config.skipInboundPorts],
    skipOutboundPorts: config.skipOutboundPorts,
    skipSubnets: config.skipSubnets,
  };
}

function usageError(message: string): number {
  process.stderr.write(`meshlet init-iptables: ${message}\n${USAGE}`);
  return EXIT_USAGE;
}

export async function run(argv: string[], env: Strings = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        "dry-run": { type: "boolean" },
        uninstall: { type: "boolean" },
        "close-wait-timeout": { type: "string" },
        "iptables-mode": { type: "string" },
        ipv6: { type: "boolean" },
        "proxy-uid": { type: "string" },
        "skip-inbound-ports": { type: "string" },
        "skip-outbound-ports": { type: "string" },
        "skip-subnets": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    return usageError((err as Error).message);
  }
  const flags = parsed.values;
  if (flags.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags["dry-run"] && flags.uninstall) return usageError("--dry-run and --uninstall exclude each other");
  const mode = (flags["iptables-mode"] ?? "nft") as IptablesMode;
  if (!IPTABLES_MODES.includes(mode)) return usageError(`--iptables-mode must be one of ${IPTABLES_MODES.join(", ")} (got ${JSON.stringify(mode)})`);
  let closeWaitSeconds: number | undefined;
  if (flags["close-wait-timeout"] !== undefined) {
    const seconds = parseCloseWaitSeconds(flags["close-wait-timeout"]);
    if (typeof seconds === "string") return usageError(`--close-wait-timeout: ${seconds}`);
    closeWaitSeconds = seconds;
  }

  const overrides: Record<string, string> = {};
  for (const [flag, name] of Object.entries(SETTING_FLAGS)) {
    const value = flags[flag as keyof typeof SETTING_FLAGS];
    if (value !== undefined) overrides[name] = value;
  }
  let config: Config;
  try {
    config = parseConfig({ ...env, ...overrides });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const flagOf = new Map<string, string>(Object.entries(SETTING_FLAGS).map(([flag, name]) => [name, flag]));
    const lines = err.problems.map((p) => {
      const source = overrides[p.name] !== undefined ? `--${flagOf.get(p.name)}` : p.name;
      return `  ${source}=${JSON.stringify(p.value)}: expected ${p.expected}`;
    });
    return usageError(`invalid settings:\n${lines.join("\n")}`);
  }
  if (config.inboundListen.port === 0 || config.outboundListen.port === 0) {
    return usageError("MESHLET_INBOUND_LISTEN and MESHLET_OUTBOUND_LISTEN need fixed ports (not 0) for a redirect");
  }

  // REDIRECT in OUTPUT delivers to 127.0.0.1 (::1 for IPv6): an outbound listener elsewhere would get nothing.
  const outboundHost = config.outboundListen.host;
  if (!["127.0.0.1", "0.0.0.0", "::1", "::"].includes(outboundHost)) {
    return usageError(`MESHLET_OUTBOUND_LISTEN must be on 127.0.0.1 or 0.0.0.0 for redirected connections to reach it (got ${outboundHost})`);
  }
  const families: Family[] = flags.ipv6 ? [4, 6] : [4];
  if (flags.ipv6 && !outboundHost.includes(":")) {
    process.stderr.write(`meshlet init-iptables: warning: --ipv6 redirects IPv6 connections to [::1]:${config.outboundListen.port}, but MESHLET_OUTBOUND_LISTEN is ${outboundHost}\n`);
  }
  const settings = redirectSettings(config);
  if (flags["dry-run"]) {
    for (const family of families) {
      // What a first run feeds to restore (a later run adds no second jump).
      process.stdout.write(`# ${toolsFor(mode, family).restore} --noflush\n${installScript(ruleSet(settings, family), "")}`);
    }
    if (closeWaitSeconds !== undefined) process.stdout.write(`# net.netfilter.nf_conntrack_tcp_timeout_close_wait = ${closeWaitSeconds}\n`);
    return 0;
  }
  try {
    if (flags.uninstall) {
      for (const family of families) {
        const removed = uninstall(toolsFor(mode, family));
        process.stderr.write(`meshlet init-iptables: IPv${family}: ${removed > 0 ? "meshlet's rules removed" : "no meshlet rules installed"}\n`);
      }
      return 0;
    }
    // As proxy-init: the close-wait timeout first, before any iptables call.
    if (closeWaitSeconds !== undefined) setCloseWaitTimeout(closeWaitSeconds);
    for (const family of families) {
      install(toolsFor(mode, family), ruleSet(settings, family));
      process.stderr.write(
        `meshlet init-iptables: IPv${family}: inbound TCP -> :${settings.inboundPort}, outbound TCP -> :${settings.outboundPort} (uid ${settings.proxyUid} exempt)\n`,
      );
    }
    return 0;
  } catch (err) {
    if (!(err instanceof InitIptablesError)) throw err;
    process.stderr.write(`meshlet init-iptables: ${err.message}\n`);
    return EXIT_FAILED;
  }
}
