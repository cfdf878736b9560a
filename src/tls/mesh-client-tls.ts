// The client side of mTLS origination to meshed endpoints: Bun `tls` options for a dial, built from the
// identity in force (IdentityStore.current()) and cached per identity object, so a rotation reaches the
// next new connection and connections already open keep the certificate they were made with.
import type { IdentityStore, WorkloadIdentity } from "../identity/workload-identity.ts";
import { type MeshTlsOptions, meshClientTlsOptions } from "./mesh-tls-options.ts";

/** Server identities cached per rotation; beyond it the cache restarts (the options are cheap to rebuild). */
const MAX_CACHED_SERVER_IDENTITIES = 1024;

/** Bun takes ALPN in wire format (length-prefixed names); a plain "h2" string offers nothing. */
const ALPN_H2 = Buffer.from("\x02h2", "latin1");

export class MeshClientTls {
  private builtFor: WorkloadIdentity | undefined;
  private readonly byServerIdentity = new Map<string, MeshTlsOptions>();
  private readonly byServerIdentityH2 = new Map<string, MeshTlsOptions>();

  constructor(private readonly store: IdentityStore) {}

  /** This workload's identity now (the client certificate a new connection presents). */
  get localIdentity(): string {
    return this.store.current().name;
  }

  /**
   * Options for `Bun.connect({ tls })` to an endpoint that must prove `serverIdentity` (also the SNI):
   * the current client chain and key, the trust anchors as CA, TLS 1.3 only. `alpn` "h2" offers HTTP/2.
   */
  options(serverIdentity: string, alpn?: "h2"): MeshTlsOptions {
    const identity = this.store.current();
    if (identity !== this.builtFor) {
      this.builtFor = identity;
      this.byServerIdentity.clear();
      this.byServerIdentityH2.clear();
    }
    const cache = alpn === "h2" ? this.byServerIdentityH2 : this.byServerIdentity;
    let options: MeshTlsOptions | undefined = cache.get(serverIdentity);
    if (options === undefined) {
      if (cache.size >= MAX_CACHED_SERVER_IDENTITIES) cache.clear();
      const pem = { certificateChainPem: identity.certChainPem, privateKeyPem: identity.keyPem, trustAnchorsPem: identity.trustAnchorsPem };
      const base = meshClientTlsOptions(pem, serverIdentity);
      options = alpn === "h2" ? { ...base, ALPNProtocols: ALPN_H2 } : base;
      cache.set(serverIdentity, options);
    }
    return options;
  }
}
