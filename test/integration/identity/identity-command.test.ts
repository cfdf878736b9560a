// `meshlet identity init` and `issue` as a user runs them: the files of a Linkerd-style trust anchor,
// issuer and workload certificate, checked with node:crypto and accepted by the openssl CLI; mistakes
// and existing files exit 64 with a message and change nothing.
import { describe, expect, test } from "bun:test";
import { createPrivateKey } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { certificatesIn, issue, makeCa, meshletIdentity, mustRun, openssl, tempDir } from "./identity-cli.ts";

const NAME = "web.default.serviceaccount.identity.linkerd.cluster.local";

describe("meshlet identity init", () => {
  test("writes a self-signed anchor and an issuer it signed, ECDSA P-256, keys 0600", async () => {
    const ca = await makeCa("example.org");
    const [anchor] = certificatesIn(join(ca, "ca.crt"));
    const [issuer] = certificatesIn(join(ca, "issuer.crt"));
    expect(anchor!.subject).toBe("CN=root.linkerd.example.org");
    expect(anchor!.issuer).toBe("CN=root.linkerd.example.org");
    expect(anchor!.ca).toBe(true);
    expect(anchor!.verify(anchor!.publicKey)).toBe(true);
    expect(issuer!.subject).toBe("CN=identity.linkerd.example.org");
    expect(issuer!.ca).toBe(true);
    expect(issuer!.checkIssued(anchor!) && issuer!.verify(anchor!.publicKey)).toBe(true);
    for (const [crt, key] of [["ca.crt", "ca.key"], ["issuer.crt", "issuer.key"]] as const) {
      const privateKey = createPrivateKey(readFileSync(join(ca, key)));
      expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
      expect(certificatesIn(join(ca, crt))[0]!.checkPrivateKey(privateKey)).toBe(true);
      expect(statSync(join(ca, key)).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(ca, key), "utf8")).toStartWith("-----BEGIN PRIVATE KEY-----"); // PKCS#8
    }
    const text = openssl(["x509", "-in", join(ca, "ca.crt"), "-noout", "-text"]).stdout;
    expect(text).toContain("CA:TRUE");
    expect(text).toContain("ecdsa-with-SHA256");
  });

  test("refuses to overwrite existing files without --force, and overwrites with it", async () => {
    const ca = await makeCa();
    const before = readFileSync(join(ca, "issuer.key"), "utf8");
    const again = await meshletIdentity(["init", "--trust-domain", "cluster.local", "--out", ca]);
    expect(again.code).toBe(64);
    expect(again.stderr).toContain(`${join(ca, "ca.crt")}, ${join(ca, "ca.key")}, ${join(ca, "issuer.crt")}, ${join(ca, "issuer.key")} already exist; nothing was written (pass --force to overwrite)`);
    expect(readFileSync(join(ca, "issuer.key"), "utf8")).toBe(before);
    await mustRun(["init", "--trust-domain", "cluster.local", "--out", ca, "--force"]);
    expect(readFileSync(join(ca, "issuer.key"), "utf8")).not.toBe(before);
    expect(statSync(join(ca, "issuer.key")).mode & 0o777).toBe(0o600);
  });

  test.each([
    [["--trust-domain", "bad domain", "--out", "OUT"], '--trust-domain must be a DNS name, e.g. cluster.local (got "bad domain")'],
    [["--trust-domain", "cluster.local"], "--out is required"],
    [["--out", "OUT"], "--trust-domain is required"],
    [["--trust-domain", "cluster.local", "--out", "OUT", "--issuer-valid", "1y"], '--issuer-valid: unknown unit "y" in duration "1y"'],
  ])("init %j exits 64: %s", async (args, message) => {
    const out = join(tempDir(), "ca");
    const r = await meshletIdentity(["init", ...args.map((a) => (a === "OUT" ? out : a))]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(message);
    expect(() => statSync(out)).toThrow(); // nothing written
  });

  test("one existing file is enough to write none", async () => {
    const out = join(tempDir(), "ca");
    await mustRun(["init", "--trust-domain", "cluster.local", "--out", out]);
    const other = join(tempDir(), "ca");
    await mustRun(["init", "--trust-domain", "cluster.local", "--out", other]);
    writeFileSync(join(other, "ca.crt"), "mine\n"); // and the rest removed below
    for (const f of ["ca.key", "issuer.crt", "issuer.key"]) Bun.spawnSync(["rm", join(other, f)]);
    const r = await meshletIdentity(["init", "--trust-domain", "cluster.local", "--out", other]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`${join(other, "ca.crt")} already exists`);
    expect(readFileSync(join(other, "ca.crt"), "utf8")).toBe("mine\n");
    expect(() => statSync(join(other, "ca.key"))).toThrow();
  });
});

describe("meshlet identity issue", () => {
  test("writes tls.crt (leaf + issuer), tls.key (PKCS#8) and ca.crt, as Linkerd's identity service issues them", async () => {
    const ca = await makeCa();
    const out = join(tempDir(), "web");
    const beforeMs = Date.now();
    const files = await issue(ca, NAME, out);
    const afterMs = Date.now();
    const chain = certificatesIn(files.cert);
    expect(chain).toHaveLength(2);
    const [leaf, issuer] = chain as [NonNullable<(typeof chain)[0]>, NonNullable<(typeof chain)[0]>];
    expect(issuer.raw).toEqual(certificatesIn(join(ca, "issuer.crt"))[0]!.raw);
    expect(readFileSync(files.anchors, "utf8")).toBe(readFileSync(join(ca, "ca.crt"), "utf8"));
    expect(leaf.subject).toBe(`CN=${NAME}`);
    expect(leaf.subjectAltName).toBe(`DNS:${NAME}`);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey)).toBe(true);
    const key = createPrivateKey(readFileSync(files.key));
    expect(readFileSync(files.key, "utf8")).toStartWith("-----BEGIN PRIVATE KEY-----");
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(leaf.checkPrivateKey(key)).toBe(true);
    expect(statSync(files.key).mode & 0o777).toBe(0o600);
    // Valid from now − 20 s to now + 24 h (whole seconds in the certificate).
    expect(leaf.validFromDate.getTime()).toBeGreaterThanOrEqual(Math.floor(beforeMs / 1000) * 1000 - 20_000);
    expect(leaf.validFromDate.getTime()).toBeLessThanOrEqual(afterMs - 20_000);
    expect(leaf.validToDate.getTime() - leaf.validFromDate.getTime()).toBeGreaterThanOrEqual(24 * 3600_000 + 19_000);
    expect(leaf.validToDate.getTime() - leaf.validFromDate.getTime()).toBeLessThanOrEqual(24 * 3600_000 + 21_000);
    const text = openssl(["x509", "-in", files.cert, "-noout", "-text"]).stdout;
    expect(text).toContain("TLS Web Server Authentication, TLS Web Client Authentication");
    expect(text).toContain("ecdsa-with-SHA256");
  });

  test("the openssl CLI verifies the chain to the anchor, for server and client use, and not to another anchor", async () => {
    const ca = await makeCa();
    const out = join(tempDir(), "web");
    const files = await issue(ca, NAME, out);
    const [leaf, issuer] = certificatesIn(files.cert);
    writeFileSync(join(out, "leaf.pem"), leaf!.toString());
    writeFileSync(join(out, "issuer.pem"), issuer!.toString());
    for (const purpose of ["sslserver", "sslclient"]) {
      const r = openssl(["verify", "-purpose", purpose, "-CAfile", files.anchors, "-untrusted", join(out, "issuer.pem"), join(out, "leaf.pem")]);
      expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: `${join(out, "leaf.pem")}: OK` });
    }
    const other = await makeCa();
    const r = openssl(["verify", "-CAfile", join(other, "ca.crt"), "-untrusted", join(out, "issuer.pem"), join(out, "leaf.pem")]);
    expect(r.code).not.toBe(0);
  });

  test("--valid sets the lifetime, and it never outlives the issuer", async () => {
    const ca = await makeCa("cluster.local", ["--issuer-valid", "1h"]);
    const short = certificatesIn((await issue(ca, "a.example", join(tempDir(), "a"), ["--valid", "90s"])).cert)[0]!;
    expect(short.validToDate.getTime() - short.validFromDate.getTime()).toBe(110_000);
    const long = certificatesIn((await issue(ca, "b.example", join(tempDir(), "b"), ["--valid", "48h"])).cert)[0]!;
    expect(long.validToDate.getTime()).toBe(certificatesIn(join(ca, "issuer.crt"))[0]!.validToDate.getTime());
  });

  test.each([
    [["--name", "bad name"], '--name must be a DNS name such as web.default.serviceaccount.identity.linkerd.cluster.local (got "bad name")'],
    [["--name", "10.0.0.1"], "--name must be a DNS name such as web.default.serviceaccount.identity.linkerd.cluster.local, not an IP address"],
    [["--name", "a..b"], '(got "a..b")'],
    [["--name", "ok.example", "--valid", "soon"], '--valid: invalid duration "soon"'],
    [["--name", "ok.example", "--valid", "0s"], "--valid must be at least 1s"],
    [[], "--name is required"],
  ])("issue %j exits 64: %s", async (args, message) => {
    const ca = await makeCa();
    const out = join(tempDir(), "x");
    const r = await meshletIdentity(["issue", "--ca", ca, "--out", out, ...args]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(message);
    expect(() => statSync(out)).toThrow(); // nothing written
  });

  test("unusable CA files exit 64 naming the file", async () => {
    const missing = await meshletIdentity(["issue", "--ca", join(tempDir(), "none"), "--name", NAME, "--out", join(tempDir(), "x")]);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain("ca.crt: cannot read");
    const ca = await makeCa();
    const other = await makeCa();
    writeFileSync(join(ca, "issuer.key"), readFileSync(join(other, "issuer.key")));
    const wrongKey = await meshletIdentity(["issue", "--ca", ca, "--name", NAME, "--out", join(tempDir(), "x")]);
    expect(wrongKey.code).toBe(64);
    expect(wrongKey.stderr).toContain("issuer.key: does not belong to the certificate in issuer.crt");
    const ca2 = await makeCa();
    writeFileSync(join(ca2, "ca.crt"), readFileSync(join(other, "ca.crt")));
    const wrongAnchor = await meshletIdentity(["issue", "--ca", ca2, "--name", NAME, "--out", join(tempDir(), "x")]);
    expect(wrongAnchor.code).toBe(64);
    expect(wrongAnchor.stderr).toContain("issuer.crt: is not signed by the trust anchor in ca.crt (CN=root.linkerd.cluster.local)");
  });

  test("--help, no subcommand and a misspelt one", async () => {
    expect((await meshletIdentity(["issue", "--help"])).stdout).toContain("--valid DURATION");
    expect((await meshletIdentity(["--help"])).code).toBe(0);
    const none = await meshletIdentity([]);
    expect(none.code).toBe(64);
    expect(none.stderr).toContain("Usage: meshlet identity init");
    const typo = await meshletIdentity(["isue"]);
    expect(typo.code).toBe(64);
    expect(typo.stderr).toContain('unknown subcommand "isue": expected init or issue (did you mean issue?)');
  });
});
