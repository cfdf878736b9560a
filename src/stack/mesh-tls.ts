// The mTLS stack of a workload with an identity, loaded only then: node:tls, node:crypto and node:stream
// cost ~4 MB of RSS at start in Bun (issue 15), and a proxy without MESHLET_IDENTITY_* never needs them.
// One MeshClientTls serves every outbound dial (HTTP/1 and HTTP/2 pools, opaque origination).
import type { IdentityStore } from "../identity/workload-identity.ts";
import type { startInboundMeshTls } from "../inbound/start-mesh-tls.ts";
import type { startMeshTlsOrigination } from "../outbound/start-mesh-tls-origination.ts";
import type { MeshClientTls } from "../tls/mesh-client-tls.ts";

export interface MeshTlsStack {
  /** The client side of mTLS for the outbound engines and opaque origination. */
  readonly client: MeshClientTls;
  readonly startInbound: typeof startInboundMeshTls;
  readonly startOrigination: typeof startMeshTlsOrigination;
}

export async function loadMeshTlsStack(identity: IdentityStore): Promise<MeshTlsStack> {
  const [{ MeshClientTls }, { startInboundMeshTls }, { startMeshTlsOrigination }] = await Promise.all([
    import("../tls/mesh-client-tls.ts"),
    import("../inbound/start-mesh-tls.ts"),
    import("../outbound/start-mesh-tls-origination.ts"),
  ]);
  return { client: new MeshClientTls(identity), startInbound: startInboundMeshTls, startOrigination: startMeshTlsOrigination };
}
