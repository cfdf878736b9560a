// Boot step for workload identity: nothing when MESHLET_IDENTITY_* are unset, and then the crypto
// and watch code is not even loaded (startup footprint, issue 15); otherwise the validated store,
// or a ConfigError naming every problem with the files.
import type { Config } from "../config/env.ts";
import type { Logger } from "../log/logger.ts";
import type { IdentityStore } from "./workload-identity.ts";

export async function startIdentity(config: Config, log: Logger): Promise<IdentityStore | null> {
  if (config.identityCertPath === "") return null; // env.ts makes the three all set or all empty
  const { openIdentityStore } = await import("./identity-store.ts");
  const paths = { trustAnchors: config.identityTrustAnchorsPath, cert: config.identityCertPath, key: config.identityKeyPath };
  return openIdentityStore({ paths, log });
}
