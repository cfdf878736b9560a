// Test certificates made with the openssl CLI, shaped like Linkerd's: an ECDSA P-256 trust anchor, an
// issuer under it, and leaves whose DNS subjectAltName is a workload identity. A second, unrelated
// anchor makes the "another mesh" certificates. Everything lives in one temp dir per call.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MeshCredentialsPem } from "../../src/tls/mesh-tls-options.ts";

export interface MeshCerts {
  readonly dir: string;
  /** Credentials for `name` (a leaf issued by this mesh's issuer, SAN DNS:name, or the SANs given). */
  issue(name: string, options?: { sans?: string; anchor?: "mesh" | "other"; days?: number }): MeshCredentialsPem & { leafPem: string };
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe", stdout: "pipe" });
  if (run.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${run.stderr.toString()}`);
}

const P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

export function makeMeshCerts(): MeshCerts {
  const dir = mkdtempSync(join(tmpdir(), "meshlet-tls-test-"));
  for (const anchor of ["mesh", "other"]) {
    openssl(dir, ["req", "-x509", ...P256, "-keyout", `${anchor}-ca.key`, "-out", `${anchor}-ca.crt`, "-days", "2", "-subj", `/CN=${anchor} root`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(dir, ["req", ...P256, "-keyout", `${anchor}-issuer.key`, "-out", `${anchor}-issuer.csr`, "-subj", `/CN=${anchor} issuer`]);
    writeFileSync(join(dir, "issuer.ext"), "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
    openssl(dir, ["x509", "-req", "-in", `${anchor}-issuer.csr`, "-CA", `${anchor}-ca.crt`, "-CAkey", `${anchor}-ca.key`, "-CAcreateserial",
      "-out", `${anchor}-issuer.crt`, "-days", "2", "-extfile", "issuer.ext"]);
  }
  let serial = 0;
  return {
    dir,
    issue(name, options = {}) {
      const anchor = options.anchor ?? "mesh";
      const base = `leaf-${++serial}`;
      openssl(dir, ["req", ...P256, "-keyout", `${base}.key`, "-out", `${base}.csr`, "-subj", `/CN=${name}`]);
      const sans = options.sans ?? `DNS:${name}`;
      writeFileSync(join(dir, `${base}.ext`),
        `${sans ? `subjectAltName=${sans}\n` : ""}basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n`);
      openssl(dir, ["x509", "-req", "-in", `${base}.csr`, "-CA", `${anchor}-issuer.crt`, "-CAkey", `${anchor}-issuer.key`, "-CAcreateserial",
        "-out", `${base}.crt`, "-days", String(options.days ?? 1), "-extfile", `${base}.ext`]);
      const leafPem = readFileSync(join(dir, `${base}.crt`), "utf8");
      return {
        leafPem,
        certificateChainPem: leafPem + readFileSync(join(dir, `${anchor}-issuer.crt`), "utf8"),
        privateKeyPem: readFileSync(join(dir, `${base}.key`), "utf8"),
        // Peers always trust this mesh's anchor: "other" credentials are a stranger's.
        trustAnchorsPem: readFileSync(join(dir, "mesh-ca.crt"), "utf8"),
      };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
