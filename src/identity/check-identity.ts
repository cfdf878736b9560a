// `meshlet check`'s look at the identity files: the validation the proxy runs at start (same problems,
// same exit 64), without watching anything. Nothing is loaded when MESHLET_IDENTITY_* are unset.
import type { Config, ConfigProblem } from "../config/env.ts";

export type IdentityCheck =
  | { readonly configured: false }
  | { readonly configured: true; readonly ok: true; readonly name: string; readonly notAfterMs: number }
  | { readonly configured: true; readonly ok: false; readonly problems: readonly ConfigProblem[] };

export async function checkIdentityFiles(config: Config, nowMs: number): Promise<IdentityCheck> {
  if (config.identityCertPath === "") return { configured: false };
  const [{ loadIdentity }, { toConfigProblem }] = await Promise.all([import("./load-identity.ts"), import("./identity-problem.ts")]);
  const paths = { trustAnchors: config.identityTrustAnchorsPath, cert: config.identityCertPath, key: config.identityKeyPath };
  const load = loadIdentity(paths, nowMs);
  if (!load.ok) return { configured: true, ok: false, problems: load.problems.map(toConfigProblem) };
  return { configured: true, ok: true, name: load.identity.name, notAfterMs: load.identity.notAfterMs };
}
