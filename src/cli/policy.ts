// `meshlet policy [--port P]`: the effective inbound authorization policy of this pod, per port, as
// the proxy would enforce it with this environment and resource directory (Server, routes in
// precedence order, each route's authorizations, the TCP authorizations; the default for other ports).
import { resourceKinds } from "../app/resource-kinds.ts";
import type { Authorization } from "../authz/authorization.ts";
import { compileInboundPolicy } from "../authz/compile.ts";
import { policySettingsOf } from "../authz/generation-policy.ts";
import type { PortPolicy } from "../authz/inbound-policy.ts";
import { ConfigError, parseConfig } from "../config/env.ts";
import { loadConfigDir } from "../resources/config-dir.ts";
import { formatProblem } from "../resources/problem.ts";
import { monotonicClock } from "../rt/clock.ts";
import { EXIT_USAGE } from "../rt/exit-codes.ts";
import { UsageError } from "./args.ts";
import { defineCommand } from "./command.ts";

export const policyCommand = defineCommand(
  {
    name: "policy",
    summary: "print the effective inbound authorization policy per port (--port P for one port)",
    details: "Reads the environment and the resource directory (--config-dir, else MESHLET_CONFIG_DIR) as the proxy would.",
    options: {
      port: { type: "string", valueName: "PORT", description: "show only this destination port (the application's port)" },
      "config-dir": { type: "string", valueName: "DIR", description: "resource directory (default: MESHLET_CONFIG_DIR)" },
    },
  },
  (values) => {
    let port: number | undefined;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!/^\d{1,5}$/.test(values.port) || port < 1 || port > 65535) throw new UsageError(`--port takes a port 1-65535 (got ${JSON.stringify(values.port)})`);
    }
    let config;
    try {
      config = parseConfig(process.env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`meshlet: ${err.message}\n`);
      return EXIT_USAGE;
    }
    const dir = values["config-dir"] ?? config.configDir;
    const result = loadConfigDir(dir, { kinds: resourceKinds(config, monotonicClock) });
    if (!result.ok) {
      for (const p of result.problems) process.stderr.write(`${formatProblem(p)}\n`);
      process.stderr.write(`meshlet policy: ${dir} has errors; the proxy would refuse it (see meshlet check)\n`);
      return EXIT_USAGE;
    }
    const policy = compileInboundPolicy(result.snapshot, { ...policySettingsOf(config), entryIdOf: undefined });
    const lines: string[] = [];
    if (port !== undefined) {
      describePort(lines, `port ${port}`, policy.byPort.get(port) ?? policy.fallback);
    } else {
      for (const p of [...policy.byPort.keys()].sort((a, b) => a - b)) describePort(lines, `port ${p}`, policy.byPort.get(p)!);
      describePort(lines, policy.byPort.size === 0 ? "every port" : "every other port", policy.fallback);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  },
);

function describePort(out: string[], where: string, p: PortPolicy): void {
  const server = p.server.kind === "default" ? `default policy ${p.server.name}` : `Server ${p.server.name}, proxyProtocol ${p.protocol}`;
  out.push(`${where}: ${server}${p.audit ? " (audit: denials are allowed and counted)" : ""}`);
  if (p.denyAtAccept) {
    out.push("  every connection refused at accept, HTTP included");
    return;
  }
  out.push(`  tcp (non-HTTP) connections:${p.authorizations.length === 0 ? (p.audit ? " audit" : " deny") : ""}`);
  for (const a of p.authorizations) out.push(`    allow ${describeAuthorization(a)}`);
  out.push("  http routes (each request takes the best match, Gateway API precedence; none → 404; no authorization → 403):");
  for (const r of p.routes) {
    const hosts = r.hostnames.length > 0 ? ` hosts ${r.hostnames.join(",")}` : "";
    const rules = r.rules.length === 0 ? "every request" : r.rules.map((rule) => (rule.matches.length === 0 ? "every request" : rule.matches.map((m) => `${m.method ?? "*"} ${m.path?.type ?? "PathPrefix"} ${m.path?.value ?? "/"}${m.headers.length > 0 ? ` +${m.headers.length} header(s)` : ""}${m.queryParams.length > 0 ? ` +${m.queryParams.length} query param(s)` : ""}`).join(" | "))).join(" | ");
    out.push(`    route ${r.meta.group === "" ? "" : `${r.meta.group}/`}${r.meta.kind === "default" ? "default" : `${r.meta.kind} ${r.meta.name}`}${hosts}: ${rules}`);
    if (r.authorizations.length === 0) out.push(`      ${p.audit ? "audit" : "deny"} (no authorization)`);
    for (const a of r.authorizations) out.push(`      allow ${describeAuthorization(a)}`);
  }
}

function describeAuthorization(a: Authorization): string {
  const nets = a.networks.specs.map((n) => (n.except.length > 0 ? `${n.cidr} except ${n.except.join(",")}` : n.cidr)).join(", ");
  let who: string;
  switch (a.authn.kind) {
    case "unauthenticated":
      who = "any client";
      break;
    case "tls-unauthenticated":
      who = "mesh TLS clients";
      break;
    case "tls-authenticated":
      who = a.authn.any ? "any mesh identity" : `identities ${[...a.authn.exact, ...a.authn.suffixes.map((s) => `*.${s}`)].join(", ")}`;
      break;
  }
  return `${a.meta.kind} ${a.meta.name}: ${who} from ${nets}`;
}
