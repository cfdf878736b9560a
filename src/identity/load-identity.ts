// Reads the three identity files and validates them together with node:crypto's X509Certificate:
// PEM parses, the key belongs to the leaf, the leaf is valid now and has a DNS SAN (the identity), and
// the chain verifies up to a trust anchor. Every problem is reported, not only the first.
import { type KeyObject, X509Certificate, createHash, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";

import { ValueError } from "../config/values.ts";
import type { IdentityProblem, IdentityProblemCode, IdentitySetting } from "./identity-problem.ts";
import { parseIdentityName } from "./identity-name.ts";
import type { IdentityPaths, WorkloadIdentity } from "./workload-identity.ts";

export type IdentityLoad =
  | { readonly ok: true; readonly identity: WorkloadIdentity; readonly contentKey: string }
  | { readonly ok: false; readonly problems: readonly IdentityProblem[]; readonly contentKey: string };

/** Longest issuer chain followed from the leaf to an anchor. */
const MAX_CHAIN_DEPTH = 8;
const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Loads and validates at `nowMs` (Unix ms). `contentKey` identifies the files' bytes (for "unchanged"). */
export function loadIdentity(paths: IdentityPaths, nowMs: number): IdentityLoad {
  const problems: IdentityProblem[] = [];
  const problem = (code: IdentityProblemCode, setting: IdentitySetting, expected: string) => {
    problems.push({ code, setting, path: pathOf(paths, setting), expected });
  };
  const read = (setting: IdentitySetting): string | undefined => {
    try {
      return readFileSync(pathOf(paths, setting), "utf8");
    } catch (err) {
      problem("MESHLET_ERR_IDENTITY_READ", setting, `a readable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      return undefined;
    }
  };
  const anchorsPem = read("MESHLET_IDENTITY_TRUST_ANCHORS");
  const chainPem = read("MESHLET_IDENTITY_CERT");
  const keyPem = read("MESHLET_IDENTITY_KEY");
  const contentKey = createHash("sha256")
    .update(`${anchorsPem ?? "\0"}\0${chainPem ?? "\0"}\0${keyPem ?? "\0"}`)
    .digest("hex");

  const anchors = anchorsPem === undefined ? undefined : parseCertificates(anchorsPem, "MESHLET_IDENTITY_TRUST_ANCHORS", problem);
  const chain = chainPem === undefined ? undefined : parseCertificates(chainPem, "MESHLET_IDENTITY_CERT", problem);
  const key = keyPem === undefined ? undefined : parseKey(keyPem, problem);
  const leaf = chain?.[0];

  let name: string | undefined;
  if (leaf !== undefined) {
    if (key !== undefined && !leaf.checkPrivateKey(key)) {
      problem("MESHLET_ERR_IDENTITY_KEY_MISMATCH", "MESHLET_IDENTITY_KEY", `the private key of the certificate in MESHLET_IDENTITY_CERT (${leaf.subject}); this key belongs to another certificate`);
    }
    checkValidity(leaf, "the certificate", nowMs, problem);
    name = identityName(leaf, problem);
    if (anchors !== undefined) checkChain(leaf, chain!.slice(1), anchors, nowMs, problem);
  }
  if (problems.length > 0 || leaf === undefined || name === undefined) return { ok: false, problems, contentKey };
  return {
    ok: true,
    contentKey,
    identity: Object.freeze({
      name,
      certChainPem: chainPem!,
      keyPem: keyPem!,
      trustAnchorsPem: anchorsPem!,
      notBeforeMs: leaf.validFromDate.getTime(),
      notAfterMs: leaf.validToDate.getTime(),
    }),
  };
}

type Report = (code: IdentityProblemCode, setting: IdentitySetting, expected: string) => void;

function pathOf(paths: IdentityPaths, setting: IdentitySetting): string {
  if (setting === "MESHLET_IDENTITY_TRUST_ANCHORS") return paths.trustAnchors;
  return setting === "MESHLET_IDENTITY_CERT" ? paths.cert : paths.key;
}

function parseCertificates(text: string, setting: IdentitySetting, problem: Report): X509Certificate[] | undefined {
  const blocks = text.match(CERTIFICATE_PEM) ?? [];
  if (blocks.length === 0) {
    problem("MESHLET_ERR_IDENTITY_PARSE", setting, "PEM certificates (-----BEGIN CERTIFICATE-----); the file has none");
    return undefined;
  }
  const certificates: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      certificates.push(new X509Certificate(block));
    } catch (err) {
      problem("MESHLET_ERR_IDENTITY_PARSE", setting, `PEM certificates; certificate ${i + 1} does not parse (${(err as Error).message})`);
      return undefined;
    }
  }
  return certificates;
}

function parseKey(text: string, problem: Report): KeyObject | undefined {
  try {
    return createPrivateKey(text);
  } catch (err) {
    problem("MESHLET_ERR_IDENTITY_PARSE", "MESHLET_IDENTITY_KEY", `a PEM private key (${(err as Error).message})`);
    return undefined;
  }
}

function checkValidity(cert: X509Certificate, what: string, nowMs: number, problem: Report): void {
  if (nowMs < cert.validFromDate.getTime()) {
    problem("MESHLET_ERR_IDENTITY_NOT_YET_VALID", "MESHLET_IDENTITY_CERT", `${what} to be valid now; ${cert.subject} is valid from ${cert.validFromDate.toISOString()}`);
  } else if (nowMs > cert.validToDate.getTime()) {
    problem("MESHLET_ERR_IDENTITY_EXPIRED", "MESHLET_IDENTITY_CERT", `${what} to be valid now; ${cert.subject} expired at ${cert.validToDate.toISOString()}`);
  }
}

/** The first DNS SAN: the identity (§7.4). */
function identityName(leaf: X509Certificate, problem: Report): string | undefined {
  const entries = (leaf.subjectAltName ?? "").split(", ");
  const dns = entries.find((e) => e.startsWith("DNS:"));
  if (dns === undefined) {
    problem("MESHLET_ERR_IDENTITY_NO_DNS_SAN", "MESHLET_IDENTITY_CERT", `a certificate with a DNS name in subjectAltName (the identity); ${leaf.subject} has ${leaf.subjectAltName ? `only ${leaf.subjectAltName}` : "none"}`);
    return undefined;
  }
  try {
    return parseIdentityName(dns.slice("DNS:".length));
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    problem("MESHLET_ERR_IDENTITY_NO_DNS_SAN", "MESHLET_IDENTITY_CERT", `${err.expected} as the first DNS SAN (got ${JSON.stringify(dns.slice(4))})`);
    return undefined;
  }
}

/** Follows issuers from the leaf through the file's intermediates (valid now, CA) to a trust anchor. */
function checkChain(leaf: X509Certificate, intermediates: readonly X509Certificate[], anchors: readonly X509Certificate[], nowMs: number, problem: Report): void {
  const signedBy = (cert: X509Certificate, issuer: X509Certificate) => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  const used = new Set<X509Certificate>();
  let cert = leaf;
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    if (anchors.some((anchor) => signedBy(cert, anchor))) return;
    const issuer = intermediates.find((i) => !used.has(i) && i.ca && signedBy(cert, i));
    if (issuer === undefined) break;
    checkValidity(issuer, "each certificate of the chain", nowMs, problem);
    used.add(issuer);
    cert = issuer;
  }
  problem(
    "MESHLET_ERR_IDENTITY_UNTRUSTED",
    "MESHLET_IDENTITY_CERT",
    `a chain to a trust anchor in MESHLET_IDENTITY_TRUST_ANCHORS; no anchor (nor a certificate of the chain) signed ${cert.subject}, issued by ${cert.issuer}`,
  );
}
