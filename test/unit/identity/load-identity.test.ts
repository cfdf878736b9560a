// loadIdentity: a valid set gives the identity (first DNS SAN), PEMs and expiry; each kind of bad set
// gives its stable code naming the file at fault, and every problem of a set is reported at once.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { loadIdentity } from "../../../src/identity/load-identity.ts";
import { newCa, writeLeaf } from "./identity-fixtures.ts";

const NAME = "web.default.serviceaccount.identity.linkerd.cluster.local";

describe("loadIdentity", () => {
  test("a valid set: the leaf's DNS SAN is the identity, the files' PEM kept as read", async () => {
    const files = await writeLeaf(await newCa(), NAME);
    const result = loadIdentity(files, Date.now());
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const leaf = new X509Certificate(files.chainPem);
    expect(result.identity).toEqual({
      name: NAME,
      certChainPem: files.chainPem,
      keyPem: files.keyPem,
      trustAnchorsPem: files.anchorPem,
      notBeforeMs: leaf.validFromDate.getTime(),
      notAfterMs: leaf.validToDate.getTime(),
    });
    expect(Object.isFrozen(result.identity)).toBe(true);
  });

  test("the same bytes give the same content key, other bytes another", async () => {
    const files = await writeLeaf(await newCa(), NAME);
    const a = loadIdentity(files, Date.now());
    expect(loadIdentity(files, Date.now()).contentKey).toBe(a.contentKey);
    await writeLeaf(await newCa(), NAME, { dir: files.dir });
    expect(loadIdentity(files, Date.now()).contentKey).not.toBe(a.contentKey);
  });

  test("expired and not yet valid, judged at the time given", async () => {
    const nowMs = Date.now();
    const files = await writeLeaf(await newCa(nowMs), NAME, { nowMs, validMs: 60_000 });
    const notAfter = new X509Certificate(files.chainPem).validToDate;
    const later = loadIdentity(files, notAfter.getTime() + 1000);
    expect(later.ok ? [] : later.problems).toEqual([
      { code: "MESHLET_ERR_IDENTITY_EXPIRED", setting: "MESHLET_IDENTITY_CERT", path: files.cert, expected: `the certificate to be valid now; CN=${NAME} expired at ${notAfter.toISOString()}` },
    ]);
    const earlier = loadIdentity(files, nowMs - 60_000);
    expect(earlier.ok ? [] : earlier.problems.map((p) => p.code)).toContain("MESHLET_ERR_IDENTITY_NOT_YET_VALID");
  });

  test("an expired issuer in the chain is named", async () => {
    const nowMs = Date.now();
    const files = await writeLeaf(await newCa(nowMs), NAME, { nowMs, validMs: 48 * 3600_000 });
    const [, issuer] = readFileSync(files.cert, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    const issuerNotAfter = new X509Certificate(issuer!).validToDate.getTime();
    const result = loadIdentity(files, issuerNotAfter + 1000);
    expect(result.ok ? [] : result.problems.map((p) => p.expected)).toContain(
      `each certificate of the chain to be valid now; CN=identity.linkerd.cluster.local expired at ${new Date(issuerNotAfter).toISOString()}`,
    );
  });

  test("a key of another certificate, and a chain to another anchor, both reported", async () => {
    const files = await writeLeaf(await newCa(), NAME);
    const other = await writeLeaf(await newCa(), "other.example");
    writeFileSync(files.key, other.keyPem);
    writeFileSync(files.trustAnchors, other.anchorPem);
    const result = loadIdentity(files, Date.now());
    expect(result.ok ? [] : result.problems.map((p) => [p.code, p.setting, p.path])).toEqual([
      ["MESHLET_ERR_IDENTITY_KEY_MISMATCH", "MESHLET_IDENTITY_KEY", files.key],
      ["MESHLET_ERR_IDENTITY_UNTRUSTED", "MESHLET_IDENTITY_CERT", files.cert],
    ]);
  });

  test("a leaf without its issuer in the file does not chain to the anchor", async () => {
    const files = await writeLeaf(await newCa(), NAME);
    writeFileSync(files.cert, files.chainPem.slice(0, files.chainPem.indexOf("-----END CERTIFICATE-----") + 26));
    const result = loadIdentity(files, Date.now());
    expect(result.ok ? [] : result.problems.map((p) => p.expected)).toEqual([
      `a chain to a trust anchor in MESHLET_IDENTITY_TRUST_ANCHORS; no anchor (nor a certificate of the chain) signed CN=${NAME}, issued by CN=identity.linkerd.cluster.local`,
    ]);
  });

  test("the issuer itself as trust anchor is enough (the anchor ends the chain)", async () => {
    const files = await writeLeaf(await newCa(), NAME);
    const [, issuer] = files.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
    writeFileSync(files.trustAnchors, `${issuer}\n`);
    expect(loadIdentity(files, Date.now()).ok).toBe(true);
  });

  test("unreadable and unparsable files: every one reported", async () => {
    const files = await writeLeaf(await newCa(), NAME);
    writeFileSync(files.cert, "not a certificate\n");
    writeFileSync(files.key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    const result = loadIdentity({ ...files, trustAnchors: join(files.dir, "missing.crt") }, Date.now());
    expect(result.ok ? [] : result.problems.map((p) => [p.code, p.setting])).toEqual([
      ["MESHLET_ERR_IDENTITY_READ", "MESHLET_IDENTITY_TRUST_ANCHORS"],
      ["MESHLET_ERR_IDENTITY_PARSE", "MESHLET_IDENTITY_CERT"],
      ["MESHLET_ERR_IDENTITY_PARSE", "MESHLET_IDENTITY_KEY"],
    ]);
    expect(result.ok ? "" : result.problems[0]!.expected).toBe("a readable file (ENOENT)");
  });

  test("a certificate without a DNS SAN has no identity", async () => {
    const files = await writeLeaf(await newCa(), NAME);
    // A self-signed certificate with only a URI SAN, trusted as its own anchor.
    const made = spawnSync(
      ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=no-dns",
        "-addext", "subjectAltName=URI:spiffe://cluster.local/ns/default/sa/web", "-keyout", files.key, "-out", files.cert],
      { stdout: "pipe", stderr: "pipe" },
    );
    expect(made.exitCode).toBe(0);
    writeFileSync(files.trustAnchors, readFileSync(files.cert));
    const result = loadIdentity(files, Date.now());
    expect(result.ok ? [] : result.problems).toEqual([
      {
        code: "MESHLET_ERR_IDENTITY_NO_DNS_SAN",
        setting: "MESHLET_IDENTITY_CERT",
        path: files.cert,
        expected: "a certificate with a DNS name in subjectAltName (the identity); CN=no-dns has only URI:spiffe://cluster.local/ns/default/sa/web",
      },
    ]);
  });
});
