// Identity test fixtures made in-process: a CA (anchor + issuer) and leaves from certificate-issuer.ts,
// written as the three files a proxy reads, in a fresh temp dir.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type TrustAnchorAndIssuer, createTrustAnchorAndIssuer, issueLeaf } from "../../../src/identity/certificate-issuer.ts";
import type { IdentityPaths } from "../../../src/identity/workload-identity.ts";

const HOUR_MS = 3600_000;

export function newCa(nowMs = Date.now()): Promise<TrustAnchorAndIssuer> {
  return createTrustAnchorAndIssuer({ trustDomain: "cluster.local", nowMs, anchorValidMs: 24 * HOUR_MS, issuerValidMs: 12 * HOUR_MS });
}

export interface LeafFiles extends IdentityPaths {
  readonly dir: string;
  readonly chainPem: string;
  readonly keyPem: string;
  readonly anchorPem: string;
}

/** Issues `name` from `ca` and writes ca.crt, tls.crt and tls.key into `dir` (a new temp dir by default). */
export async function writeLeaf(ca: TrustAnchorAndIssuer, name: string, o: { nowMs?: number; validMs?: number; dir?: string } = {}): Promise<LeafFiles> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "meshlet-identity-unit-"));
  const leaf = await issueLeaf({ anchorPem: ca.anchor.certPem, issuer: ca.issuer, name, nowMs: o.nowMs ?? Date.now(), validMs: o.validMs ?? HOUR_MS });
  const paths = { trustAnchors: join(dir, "ca.crt"), cert: join(dir, "tls.crt"), key: join(dir, "tls.key") };
  writeFileSync(paths.trustAnchors, ca.anchor.certPem);
  writeFileSync(paths.cert, leaf.chainPem);
  writeFileSync(paths.key, leaf.keyPem);
  return { dir, ...paths, chainPem: leaf.chainPem, keyPem: leaf.keyPem, anchorPem: ca.anchor.certPem };
}
