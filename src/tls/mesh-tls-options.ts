// TLS settings for connections between meshed proxies, built from PEM strings: TLS 1.3 only; the
// server requires a client certificate that chains to the trust anchors, the client presents its own and
// accepts only a server carrying the expected identity (see handshake-verdict.ts) — as Bun socket options,
// and as a node:tls context for adopted sockets (adopted-tls-server.ts). The PEM is parsed here
// once, so a bad input fails with the field named instead of at the first handshake.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { type SecureContext, createSecureContext } from "node:tls";
import type { TLSOptions } from "bun";

/** The workload's credentials as PEM text, as Kubernetes mounts them (tls.crt, tls.key, ca.crt). */
export interface MeshCredentialsPem {
  /** The leaf certificate first, then its issuer chain. */
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  /** One or more trust anchors (roots) that peer certificates must chain to. */
  readonly trustAnchorsPem: string;
}

/** A PEM input Bun could not use; `field` names the input, `index` the certificate within it. */
export class MeshCredentialsError extends Error {
  readonly code = "MESHLET_ERR_TLS_CREDENTIALS";
  constructor(
    readonly field: keyof MeshCredentialsPem,
    readonly index: number | undefined,
    readonly reason: string,
  ) {
    super(`${field}${index === undefined ? "" : ` certificate ${index}`}: ${reason}`);
  }
}

/** Bun reads protocol versions as numbers (a string throws "TLSOptions.minVersion must be a number"). */
export const TLS_1_3 = 0x0304;

/** Bun's TLSOptions plus the version bounds it accepts but does not declare. */
export interface MeshTlsOptions extends TLSOptions {
  readonly minVersion: number;
  readonly maxVersion: number;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function certificates(field: "certificateChainPem" | "trustAnchorsPem", pem: string): X509Certificate[] {
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new MeshCredentialsError(field, undefined, "no PEM CERTIFICATE block");
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new MeshCredentialsError(field, index, `not a readable X.509 certificate (${(err as Error).message})`);
    }
  });
}

/** Parses every input and checks that the key belongs to the leaf; throws MeshCredentialsError. */
function checked(pem: MeshCredentialsPem): void {
  const [leaf] = certificates("certificateChainPem", pem.certificateChainPem);
  certificates("trustAnchorsPem", pem.trustAnchorsPem);
  let key;
  try {
    key = createPrivateKey(pem.privateKeyPem);
  } catch (err) {
    throw new MeshCredentialsError("privateKeyPem", undefined, `not a readable private key (${(err as Error).message})`);
  }
  if (!leaf!.checkPrivateKey(key)) throw new MeshCredentialsError("privateKeyPem", undefined, "does not belong to the leaf certificate (certificate 0 of certificateChainPem)");
}

/** Options for `Bun.listen({ tls })` on the inbound mTLS side. */
export function meshServerTlsOptions(pem: MeshCredentialsPem): MeshTlsOptions {
  checked(pem);
  return {
    cert: pem.certificateChainPem,
    key: pem.privateKeyPem,
    ca: pem.trustAnchorsPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: TLS_1_3,
    maxVersion: TLS_1_3,
  };
}

/** Options for `Bun.connect({ tls })` to a meshed peer; SNI = the identity it must prove. */
export function meshClientTlsOptions(pem: MeshCredentialsPem, serverIdentity: string): MeshTlsOptions {
  checked(pem);
  return {
    cert: pem.certificateChainPem,
    key: pem.privateKeyPem,
    ca: pem.trustAnchorsPem,
    serverName: serverIdentity,
    rejectUnauthorized: true,
    minVersion: TLS_1_3,
    maxVersion: TLS_1_3,
  };
}

/** A node:tls context for terminating on an adopted socket (adopted-tls-server.ts); one per rotation. */
export function meshServerSecureContext(pem: MeshCredentialsPem): SecureContext {
  checked(pem);
  return createSecureContext({ cert: pem.certificateChainPem, key: pem.privateKeyPem, ca: pem.trustAnchorsPem, minVersion: "TLSv1.3", maxVersion: "TLSv1.3" });
}
