// The native front door's allow/deny table (notes/authz-contract.md): one entry per Server port plus
// the default entry, each with its client networks and whether an identity is required. Pure; the
// push to the binding is src/authz/l4-push.ts.
import type { InboundPolicy, PortPolicy } from "./inbound-policy.ts";

export interface NativePolicyEntry {
  readonly id: number;
  readonly mode: "deny" | "check";
  readonly rules: ReadonlyArray<{ readonly networks: ReadonlyArray<{ readonly cidr: string; readonly except: readonly string[] }>; readonly requireIdentity: boolean }>;
  readonly audit: boolean;
}

export interface NativeInboundPolicy {
  readonly generation: number;
  readonly defaultEntry: NativePolicyEntry;
  readonly entries: ReadonlyArray<{ readonly port: number; readonly entry: NativePolicyEntry }>;
}

function entryOf(policy: PortPolicy): NativePolicyEntry {
  return {
    id: policy.id,
    mode: policy.denyAtAccept ? "deny" : "check",
    rules: policy.authorizations.map((a) => ({
      networks: a.networks.specs.map((n) => ({ cidr: n.cidr, except: [...n.except] })),
      requireIdentity: a.authn.kind !== "unauthenticated",
    })),
    audit: policy.audit,
  };
}

export function compileL4Table(policy: InboundPolicy, generation: number): NativeInboundPolicy {
  return {
    generation,
    defaultEntry: entryOf(policy.fallback),
    entries: [...policy.byPort].map(([port, p]) => ({ port, entry: entryOf(p) })),
  };
}
