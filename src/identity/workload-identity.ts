// What the TLS engine consumes: this workload's identity (a validated certificate chain, its key and
// the trust anchors) and the store that holds the one in force and announces each rotation.
// Types only, so importing them loads no crypto code.

export interface WorkloadIdentity {
  /** The leaf's first DNS SAN, e.g. web.default.serviceaccount.identity.linkerd.cluster.local (§7.4). */
  readonly name: string;
  /** The leaf, then its issuer chain, as MESHLET_IDENTITY_CERT holds them (PEM). */
  readonly certChainPem: string;
  /** The leaf's private key (PEM). */
  readonly keyPem: string;
  /** The certificates peers' chains must end at (PEM). */
  readonly trustAnchorsPem: string;
  /** The leaf's validity, Unix ms (both ends inclusive, as RFC 5280 says). */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

export interface IdentityStore {
  /** The identity in force: validated when installed; replaced whole on rotation, never edited. */
  current(): WorkloadIdentity;
  /** Calls `listener` after each rotation with the new identity. Returns an unsubscribe function. */
  onChange(listener: (identity: WorkloadIdentity) => void): () => void;
  /** True once the certificate in force has expired (and no valid one replaced it): /ready fails. */
  expired(): boolean;
  /** Stops watching the files; current() stays readable. */
  close(): void;
}

/** The three files, as MESHLET_IDENTITY_TRUST_ANCHORS, MESHLET_IDENTITY_CERT and MESHLET_IDENTITY_KEY name them. */
export interface IdentityPaths {
  readonly trustAnchors: string;
  readonly cert: string;
  readonly key: string;
}
