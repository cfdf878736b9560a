// Wiring of outbound opaque mTLS origination for main.ts: the meshed endpoints of each configuration
// generation pushed to the front door's native table, and the origination handler for the outbound
// listeners' meshed TCP (checked against the table in force when the connection arrives).
import type { Config } from "../config/env.ts";
import { endpointTables, type DiscoveryObjects } from "../discovery/generation-table.ts";
import { meshedEndpointsOf } from "../discovery/meshed-endpoints.ts";
import type { FrontDoor } from "../l4/front-door.ts";
import { tcpLivenessOf } from "../l4/tcp-liveness.ts";
import type { Logger } from "../log/logger.ts";
import type { Watch } from "../rt/watch.ts";
import type { MeshClientTls } from "../tls/mesh-client-tls.ts";
import { type MeshTlsOrigination, meshTlsOrigination } from "./mesh-tls-origination.ts";

export function startMeshTlsOrigination(config: Config, meshTls: MeshClientTls, frontDoor: FrontDoor, generations: Watch<DiscoveryObjects>, logger: Logger): MeshTlsOrigination {
  const tables = endpointTables(generations, config.clusterDomain);
  const meshed = () => meshedEndpointsOf(tables.get());
  const push = () => frontDoor.setMeshedEndpoints(meshed().list());
  push();
  const unsubscribe = generations.subscribe(push);
  const origination = meshTlsOrigination({
    meshTls,
    identityOf: (ip, port) => meshed().identityOf(ip, port),
    forwardAsTcp: (conn) => frontDoor.forwardAsTcp(conn),
    connectTimeoutMs: config.connectTimeoutMs,
    liveness: tcpLivenessOf(config).outbound,
    logger,
  });
  return {
    handle: origination.handle,
    close() {
      unsubscribe();
      origination.close();
    },
  };
}
