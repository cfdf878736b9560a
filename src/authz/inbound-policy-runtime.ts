// Puts the inbound policy in force at runtime: registers the HTTP authz metrics, compiles each
// configuration generation's L4 table and pushes it to the native front door (when the addon has
// setInboundPolicy), decides the opaque connections TypeScript relays (inside inbound mTLS), and renders
// inbound_tcp_authz_* from the native per-entry counters and those decisions at scrape.
import type { Config } from "../config/env.ts";
import { type InboundTlsLabels, inboundTlsLabels } from "../metrics/http.ts";
import { Counter, type Registry } from "../metrics/prom-client.ts";
import { native } from "../native/binding.ts";
import { registry as sharedRegistry } from "../metrics/registry.ts";
import type { Watch } from "../rt/watch.ts";
import type { PolicyObjects } from "./compile.ts";
import { inboundPolicyOf, type PolicyConfig, policySettingsOf } from "./generation-policy.ts";
import { inboundHttpAuthz } from "./http-authz-metrics.ts";
import { decideTcp } from "./decide.ts";
import type { PolicyMeta } from "./authorization.ts";
import { AUDIT_META, type InboundPolicy, type PortPolicy, portPolicyOf } from "./inbound-policy.ts";
import { compileL4Table, type NativeInboundPolicy } from "./l4-table.ts";

/** The addon's policy exports (notes/authz-contract.md); absent until the native side lands. */
interface L4PolicyBinding {
  setInboundPolicy(table: NativeInboundPolicy): number;
  inboundPolicyStats(): Array<{ id: number; allow: number; deny: number; terminate: number }>;
}

export interface PolicyLog {
  info(message: string, fields?: Readonly<Record<string, string | number | boolean | undefined>>): void;
  error(message: string, fields?: Readonly<Record<string, string | number | boolean | undefined>>): void;
}

export interface InboundPolicyRuntime {
  /** The policy in force (for tests and the admin side). */
  current(): InboundPolicy;
  /**
   * Decides an opaque connection relayed from inbound mTLS (the native table decides the others) to
   * `port` from `ip` with the verified `identity`, and counts it in inbound_tcp_authz_{allow,deny}_total
   * (tls="true", client_id). True: allowed.
   */
  admitMeshTcp(port: number, ip: string, identity: string): boolean;
  stop(): void;
}

export function startInboundPolicy(
  config: PolicyConfig & Pick<Config, "identityCertPath">,
  generations: Watch<PolicyObjects & { readonly generation: number }>,
  log: PolicyLog,
  registry: Registry = sharedRegistry,
  binding: Partial<L4PolicyBinding> = native as unknown as Partial<L4PolicyBinding>,
): InboundPolicyRuntime {
  const settings = policySettingsOf(config);
  inboundHttpAuthz.register(registry);
  let policy = inboundPolicyOf(generations.get(), settings);
  /** Entry id → its port policy, for every id ever pushed (native counters outlive a generation). */
  const byId = new Map<number, PortPolicy>();
  let pushes = 0;

  const push = (generation: number) => {
    for (const p of [policy.fallback, ...policy.byPort.values()]) byId.set(p.id, p);
    if (typeof binding.setInboundPolicy !== "function") return;
    const rc = binding.setInboundPolicy(compileL4Table(policy, ++pushes));
    if (rc !== 0) log.error("the native front door refused the inbound policy table", { rc, generation });
    else log.info("inbound policy table in force", { generation, ports: policy.byPort.size });
  };
  push(generations.get().generation);
  const unsubscribe = generations.subscribe((g) => {
    policy = inboundPolicyOf(g, settings);
    push(g.generation);
  });

  const meshDecisions = new MeshTcpDecisions();
  // The native table decides plaintext connections only (mTLS ones are relayed and decided in admitMeshTcp).
  const plaintextTls = inboundTlsLabels(config.identityCertPath !== "", undefined);
  registerTcpAuthzMetrics(registry, binding, byId, meshDecisions, plaintextTls);
  return {
    current: () => policy,
    admitMeshTcp(port, ip, identity) {
      const portPolicy = portPolicyOf(policy, port);
      const decision = decideTcp(portPolicy, { ip, identity });
      meshDecisions.count(portPolicy, identity, decision.kind === "allow" ? decision.authz : undefined);
      return decision.kind === "allow";
    },
    stop: unsubscribe,
  };
}

/** A row of decisions taken in TypeScript: one port policy, one client identity, and on allow the authorization. */
interface MeshTcpRow {
  readonly policy: PortPolicy;
  readonly clientId: string;
  readonly authz: PolicyMeta | undefined;
  count: number;
}

/** Counts of the mTLS opaque decisions, by port policy, client identity and outcome (identities are verified certificates). */
class MeshTcpDecisions {
  private readonly rows = new Map<string, MeshTcpRow>();

  count(policy: PortPolicy, clientId: string, authz: PolicyMeta | undefined): void {
    const key = `${policy.id}|${clientId}|${authz === undefined ? "deny" : `${authz.group}|${authz.kind}|${authz.name}`}`;
    let row = this.rows.get(key);
    if (row === undefined) {
      row = { policy, clientId, authz, count: 0 };
      this.rows.set(key, row);
    }
    row.count++;
  }

  values(): IterableIterator<MeshTcpRow> {
    return this.rows.values();
  }
}

/**
 * inbound_tcp_authz_{allow,deny,terminate}_total with Linkerd's srv_* (and authz_* on allow) labels: the
 * native counters, labelled `plaintextTls` (the native table decides plaintext clients only: TlsAccept's
 * no_identity on a proxy with an identity, disabled without), then the mTLS decisions (tls="true", client_id).
 */
function registerTcpAuthzMetrics(registry: Registry, binding: Partial<L4PolicyBinding>, byId: ReadonlyMap<number, PortPolicy>, mesh: MeshTcpDecisions, plaintextTls: InboundTlsLabels): void {
  const srv = (p: PortPolicy) => ({ srv_group: p.server.group, srv_kind: p.server.kind, srv_name: p.server.name });
  // The native side counts per entry, not per authorization: an entry with one authorization (or audit
  // only) names it; with several, the allow series says authz_kind="any".
  const authz = (p: PortPolicy) => {
    const m = p.authorizations.length === 1 ? p.authorizations[0]!.meta : p.authorizations.length === 0 && p.audit ? AUDIT_META : { group: "", kind: "any", name: "" };
    return { authz_group: m.group, authz_kind: m.kind, authz_name: m.name };
  };
  const meta = (m: PolicyMeta) => ({ authz_group: m.group, authz_kind: m.kind, authz_name: m.name });
  /** `meshOutcome`: which mTLS decisions the family counts (allowed or denied); undefined: none (terminate). */
  const family = (name: string, help: string, withAuthz: boolean, value: (r: { allow: number; deny: number; terminate: number }) => number, meshOutcome?: "allow" | "deny") =>
    new Counter({
      name,
      help,
      labelNames: ["srv_group", "srv_kind", "srv_name", ...(withAuthz ? ["authz_group", "authz_kind", "authz_name"] : []), "tls", "client_id", "no_tls_reason"],
      registers: [registry],
      collect() {
        this.reset();
        for (const row of binding.inboundPolicyStats?.() ?? []) {
          const p = byId.get(row.id);
          const n = value(row);
          if (p === undefined || n === 0) continue;
          this.inc({ ...srv(p), ...(withAuthz ? authz(p) : {}), ...plaintextTls }, n);
        }
        if (meshOutcome === undefined) return;
        for (const row of mesh.values()) {
          if ((row.authz !== undefined) !== (meshOutcome === "allow")) continue;
          this.inc({ ...srv(row.policy), ...(row.authz !== undefined ? meta(row.authz) : {}), tls: "true", client_id: row.clientId }, row.count);
        }
      },
    });
  family("inbound_tcp_authz_allow_total", "The total number of inbound TCP connections that were authorized", true, (r) => r.allow, "allow");
  family("inbound_tcp_authz_deny_total", "The total number of inbound TCP connections that were denied", false, (r) => r.deny, "deny");
  family("inbound_tcp_authz_terminate_total", "The total number of inbound TCP connections that were terminated due to an authorization change", false, (r) => r.terminate);
}
