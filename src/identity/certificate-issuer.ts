// Makes the certificates of `meshlet identity`: a trust anchor and an issuer (intermediate CA) like
// `linkerd install`'s, and workload leaves like Linkerd's identity service issues (§11.3), all ECDSA
// P-256 signed with ECDSA-SHA256, built by @peculiar/x509 on WebCrypto (no hand-written ASN.1).
import "reflect-metadata"; // @peculiar/x509's dependency injection (tsyringe) needs it loaded first
import * as x509 from "@peculiar/x509";
import { X509Certificate as NodeX509, createPrivateKey } from "node:crypto";

const EC_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** Linkerd's Helm default clock-skew allowance: certificates are valid from 20 s before issuance. */
export const CLOCK_SKEW_MS = 20_000;

export interface CertificateAndKey {
  /** PEM, one certificate. */
  readonly certPem: string;
  /** PEM, PKCS#8 ("PRIVATE KEY"). */
  readonly keyPem: string;
}

export interface TrustAnchorAndIssuer {
  readonly anchor: CertificateAndKey;
  readonly issuer: CertificateAndKey;
}

export interface CaOptions {
  /** e.g. cluster.local: the anchor is `root.linkerd.<D>`, the issuer `identity.linkerd.<D>`. */
  readonly trustDomain: string;
  readonly nowMs: number;
  readonly anchorValidMs: number;
  readonly issuerValidMs: number;
}

/** A self-signed trust anchor (CA, path length 1) and an issuer it signs (CA, path length 0). */
export async function createTrustAnchorAndIssuer(o: CaOptions): Promise<TrustAnchorAndIssuer> {
  const anchorKeys = await newKeyPair();
  const anchor = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=root.linkerd.${o.trustDomain}`,
    notBefore: new Date(o.nowMs - CLOCK_SKEW_MS),
    notAfter: new Date(o.nowMs + o.anchorValidMs),
    signingAlgorithm: EC_P256,
    keys: anchorKeys,
    extensions: [...caExtensions(1), await x509.SubjectKeyIdentifierExtension.create(anchorKeys.publicKey)],
  });
  const issuerKeys = await newKeyPair();
  const issuer = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=identity.linkerd.${o.trustDomain}`,
    issuer: anchor.subject,
    notBefore: new Date(o.nowMs - CLOCK_SKEW_MS),
    notAfter: new Date(Math.min(o.nowMs + o.issuerValidMs, anchor.notAfter.getTime())),
    signingAlgorithm: EC_P256,
    publicKey: issuerKeys.publicKey,
    signingKey: anchorKeys.privateKey,
    extensions: [
      ...caExtensions(0),
      await x509.SubjectKeyIdentifierExtension.create(issuerKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(anchor, false),
    ],
  });
  return {
    anchor: { certPem: pem(anchor), keyPem: await pkcs8Pem(anchorKeys.privateKey) },
    issuer: { certPem: pem(issuer), keyPem: await pkcs8Pem(issuerKeys.privateKey) },
  };
}

export interface LeafOptions {
  readonly anchorPem: string;
  readonly issuer: CertificateAndKey;
  /** The identity: CN and the one DNS SAN. */
  readonly name: string;
  readonly nowMs: number;
  readonly validMs: number;
}

export interface IssuedLeaf {
  /** The leaf, then the issuer (what a TLS server sends). */
  readonly chainPem: string;
  readonly keyPem: string;
  readonly notAfterMs: number;
}

/** Why a CA directory cannot issue; `file` is the CA file at fault (ca.crt, issuer.crt or issuer.key). */
export class CaFilesError extends Error {
  readonly code = "MESHLET_ERR_IDENTITY_CA";
  constructor(
    readonly file: "ca.crt" | "issuer.crt" | "issuer.key",
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

/**
 * A workload leaf (EKU serverAuth + clientAuth) valid from now − 20 s to now + validMs, clamped to
 * the issuer's and the anchor's notAfter (Linkerd clamps to the earliest expiry in the issuer chain).
 */
export async function issueLeaf(o: LeafOptions): Promise<IssuedLeaf> {
  const { anchor, issuerCert, issuerKey } = checkCa(o.anchorPem, o.issuer, o.nowMs);
  const leafKeys = await newKeyPair();
  const issuer = new x509.X509Certificate(issuerCert.raw);
  const notAfterMs = Math.min(o.nowMs + o.validMs, issuerCert.validToDate.getTime(), anchor.validToDate.getTime());
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${o.name}`,
    issuer: issuer.subject,
    notBefore: new Date(o.nowMs - CLOCK_SKEW_MS),
    notAfter: new Date(notAfterMs),
    signingAlgorithm: EC_P256,
    publicKey: leafKeys.publicKey,
    signingKey: await crypto.subtle.importKey("pkcs8", issuerKey, EC_P256, false, ["sign"]),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: o.name }]),
      await x509.AuthorityKeyIdentifierExtension.create(issuer, false),
    ],
  });
  return { chainPem: pem(leaf) + pem(issuer), keyPem: await pkcs8Pem(leafKeys.privateKey), notAfterMs: leaf.notAfter.getTime() };
}

/** The CA files parsed and checked against each other: the issuer key fits, the anchor signed it, it is valid now. */
function checkCa(anchorPem: string, issuer: CertificateAndKey, nowMs: number): { anchor: NodeX509; issuerCert: NodeX509; issuerKey: ArrayBuffer } {
  const anchor = parseCertificate("ca.crt", anchorPem);
  const issuerCert = parseCertificate("issuer.crt", issuer.certPem);
  let key;
  try {
    key = createPrivateKey(issuer.keyPem);
  } catch (err) {
    throw new CaFilesError("issuer.key", `expected a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new CaFilesError("issuer.key", "expected an ECDSA P-256 key");
  }
  if (!issuerCert.checkPrivateKey(key)) throw new CaFilesError("issuer.key", "does not belong to the certificate in issuer.crt");
  if (!issuerCert.ca) throw new CaFilesError("issuer.crt", "is not a CA certificate (basicConstraints CA:true)");
  if (!issuerCert.checkIssued(anchor) || !issuerCert.verify(anchor.publicKey)) {
    throw new CaFilesError("issuer.crt", `is not signed by the trust anchor in ca.crt (${anchor.subject})`);
  }
  if (issuerCert.validToDate.getTime() <= nowMs) throw new CaFilesError("issuer.crt", `expired at ${issuerCert.validToDate.toISOString()}`);
  const der = key.export({ type: "pkcs8", format: "der" });
  return { anchor, issuerCert, issuerKey: der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) as ArrayBuffer };
}

function parseCertificate(file: "ca.crt" | "issuer.crt", text: string): NodeX509 {
  try {
    return new NodeX509(text);
  } catch (err) {
    throw new CaFilesError(file, `expected a PEM certificate (${(err as Error).message})`);
  }
}

function caExtensions(pathLength: number): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(EC_P256, true, ["sign", "verify"]);
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280 §4.1.2.2: at most 20 octets). */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return Buffer.from(bytes).toString("hex");
}

function pem(cert: x509.X509Certificate): string {
  return `${cert.toString("pem")}\n`;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  return `${x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY")}\n`;
}
