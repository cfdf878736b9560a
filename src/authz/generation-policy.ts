// The compiled InboundPolicy of a configuration generation, compiled once and shared by the HTTP
// filter chain and the native table push (both see the same generation object).
import type { Config } from "../config/env.ts";
import { compileInboundPolicy, type PolicyObjects, type PolicySettings } from "./compile.ts";
import type { InboundPolicy } from "./inbound-policy.ts";

export type PolicyConfig = Pick<Config, "namespace" | "podLabels" | "defaultInboundPolicy" | "clusterNetworks">;

const settingsOf = new WeakMap<PolicyConfig, PolicySettings>();

/** One settings object per config (so the chain and the table push share compiled generations and ids). */
export function policySettingsOf(config: PolicyConfig): PolicySettings {
  const known = settingsOf.get(config);
  if (known !== undefined) return known;
  const ids = new Map<string, number>();
  const settings: PolicySettings = {
    namespace: config.namespace,
    podLabels: config.podLabels,
    defaultPolicy: config.defaultInboundPolicy,
    clusterNetworks: config.clusterNetworks.map((c) => c.text),
    entryIdOf(key) {
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size + 1));
      return id;
    },
  };
  settingsOf.set(config, settings);
  return settings;
}

const compiled = new WeakMap<PolicyObjects, { readonly settings: PolicySettings; readonly policy: InboundPolicy }>();

export function inboundPolicyOf(generation: PolicyObjects, settings: PolicySettings): InboundPolicy {
  const hit = compiled.get(generation);
  if (hit !== undefined && hit.settings === settings) return hit.policy;
  const policy = compileInboundPolicy(generation, settings);
  compiled.set(generation, { settings, policy });
  return policy;
}
