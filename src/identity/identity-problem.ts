// Why a set of identity files cannot be used: a stable code, the setting (file) at fault and what was
// expected. At start they become the config errors of exit 64; on rotation, warnings.
import type { ConfigProblem } from "../config/env.ts";

export type IdentitySetting = "MESHLET_IDENTITY_TRUST_ANCHORS" | "MESHLET_IDENTITY_CERT" | "MESHLET_IDENTITY_KEY";

export type IdentityProblemCode =
  | "MESHLET_ERR_IDENTITY_READ"
  | "MESHLET_ERR_IDENTITY_PARSE"
  | "MESHLET_ERR_IDENTITY_KEY_MISMATCH"
  | "MESHLET_ERR_IDENTITY_NOT_YET_VALID"
  | "MESHLET_ERR_IDENTITY_EXPIRED"
  | "MESHLET_ERR_IDENTITY_UNTRUSTED"
  | "MESHLET_ERR_IDENTITY_NO_DNS_SAN"
  | "MESHLET_ERR_IDENTITY_RENAMED";

export interface IdentityProblem {
  readonly code: IdentityProblemCode;
  readonly setting: IdentitySetting;
  /** The file, as the setting names it. */
  readonly path: string;
  /** What the file should hold, then what it holds: "a certificate valid now; it expired at …". */
  readonly expected: string;
}

/** The form the config-error path prints: `NAME="path": expected …`. */
export function toConfigProblem(p: IdentityProblem): ConfigProblem {
  return { name: p.setting, value: p.path, expected: p.expected };
}

/** One line for the log. */
export function identityProblemMessage(p: IdentityProblem): string {
  return `${p.setting}: expected ${p.expected}`;
}
