// Inbound mTLS from meshed peers: the front door hands over connections whose ClientHello names this
// workload's identity (Protocol.MeshTls); this stage terminates them with the identity in force (a new
// secure context on each rotation), records the verified client identity, detects HTTP/1, HTTP/2 or
// opaque in the plaintext and gives it to the HTTP engines (tls="true", client_id) or relays it to the app.
import type { Socket, SocketHandler } from "bun";
import type { SecureContext } from "node:tls";
import { formatHostPort } from "../config/values.ts";
import type { ConnInfo } from "../http/request-ctx.ts";
import type { IdentityStore, WorkloadIdentity } from "../identity/workload-identity.ts";
import type { AcceptedConnection } from "../l4/front-door.ts";
import type { Logger } from "../log/logger.ts";
import { RateLimitedLog } from "../log/rate-limited-log.ts";
import { inboundTlsLabels } from "../metrics/http.ts";
import { Counter, type Registry } from "../metrics/prom-client.ts";
import { monotonicClock } from "../rt/clock.ts";
import { registry as sharedRegistry } from "../metrics/registry.ts";
import { terminateAdoptedMeshTls } from "../tls/adopted-tls-server.ts";
import { handOverToEngine } from "../tls/engine-handover.ts";
import type { RefusalCode } from "../tls/handshake-verdict.ts";
import { meshServerSecureContext } from "../tls/mesh-tls-options.ts";
import type { MeshIdentity } from "../tls/peer-identity.ts";
import { relayOpaque } from "./mesh-tls-relay.ts";
import { DETECT_BUDGET_BYTES, type PlaintextProtocol, detectPlaintextProtocol } from "./plaintext-protocol.ts";

/** An engine that serves client sockets (the HTTP/1 or HTTP/2 server): its Bun socket handlers. */
export interface PlaintextEngine {
  // `socket.data` is the engine's own state type; the adapter only seeds it with a PendingConn.
  readonly socketHandlers: SocketHandler<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface MeshTlsStageOptions {
  readonly identity: IdentityStore;
  /** The handshake, then the first plaintext bytes, must come within this (MESHLET_DETECT_TIMEOUT). */
  readonly detectTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly http1: PlaintextEngine;
  /** Absent: HTTP/2 inside mTLS is relayed as opaque. */
  readonly http2?: PlaintextEngine | undefined;
  /** Destination ports whose plaintext is relayed without HTTP detection (MESHLET_OPAQUE_PORTS). */
  readonly opaquePorts?: ReadonlySet<number>;
  /** Whether an opaque connection from `client` with `identity` may reach `targetPort` (the inbound policy). */
  admitOpaque(targetPort: number, clientIp: string, identity: string): boolean;
  readonly logger: Logger;
  readonly registry?: Registry;
}

export interface MeshTlsStage {
  readonly handle: (conn: AcceptedConnection) => void;
  /** Stops following rotations. */
  close(): void;
}

/** Why an inbound mTLS connection was not served: a refusal at the handshake or after it. */
export type MeshTlsFailure = RefusalCode | "MESHLET_TLS_UNAUTHORIZED" | "MESHLET_TLS_UPSTREAM_UNREACHABLE";

export function meshTlsStage(options: MeshTlsStageOptions): MeshTlsStage {
  const { identity, logger } = options;
  let context: SecureContext = contextOf(identity.current());
  const unsubscribe = identity.onChange((next) => {
    try {
      context = contextOf(next); // connections from now on; open ones keep their session
    } catch (err) {
      logger.warn("cannot build a TLS context for the rotated identity; the previous one stays in force", { error: String(err) });
    }
  });
  const failures = new Counter({
    name: "meshlet_inbound_mtls_failures_total",
    help: "Inbound mTLS connections from meshed peers that were refused or failed, by reason",
    labelNames: ["reason"] as const,
    registers: [options.registry ?? sharedRegistry],
  });
  const failureLog = new RateLimitedLog(logger);
  const fail = (conn: AcceptedConnection, reason: MeshTlsFailure, detail: string) => {
    failures.inc({ reason });
    failureLog.info(`mtls ${reason}`, "inbound mTLS connection refused", { reason, detail, client: formatHostPort(conn.client), target: formatHostPort(conn.target) });
  };

  const serve = (conn: AcceptedConnection, socket: Socket<undefined>, peer: MeshIdentity, early: Buffer, deadline: number) => {
    if (options.opaquePorts?.has(conn.target.port)) {
      // An opaque port: no detection (server-speaks-first protocols must not wait for it).
      return route(conn, socket, peer, "opaque", early, false);
    }
    const chunks: Buffer[] = early.length > 0 ? [early] : [];
    let read = early.length;
    let ended = false;
    let decided = false;
    const decide = (final: boolean) => {
      if (decided) return;
      const first = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const protocol: PlaintextProtocol = detectPlaintextProtocol(first, final || ended || read >= DETECT_BUDGET_BYTES);
      if (protocol === "need_more") return;
      decided = true;
      clearTimeout(timer);
      route(conn, socket, peer, protocol, first, ended);
    };
    // A client that says nothing in time is relayed as opaque (server-speaks-first), as the front door does.
    const timer = setTimeout(() => decide(true), Math.max(0, deadline - monotonicClock.nowMs()));
    socket.reload({
      socket: {
        data(_socket, chunk) {
          chunks.push(chunk);
          read += chunk.length;
          decide(false);
        },
        end() {
          ended = true;
          decide(true);
        },
        close() {
          decided = true;
          clearTimeout(timer);
        },
      },
    });
    if (read > 0) decide(false);
  };

  const route = (conn: AcceptedConnection, socket: Socket<undefined>, peer: MeshIdentity, protocol: PlaintextProtocol, first: Buffer, ended: boolean) => {
    const engine = protocol === "http1" ? options.http1 : protocol === "http2" ? options.http2 : undefined;
    if (engine !== undefined) {
      const info: ConnInfo = {
        clientIdentity: peer.name,
        tls: inboundTlsLabels(true, peer.name),
        clientAddr: conn.client.host,
        clientPort: conn.client.port,
        dst: conn.target.port === 0 ? null : conn.target,
        direction: "inbound",
      };
      handOverToEngine(socket, engine.socketHandlers, { pending: true, info }, first, ended);
      return;
    }
    if (!options.admitOpaque(conn.target.port, conn.client.host, peer.name)) {
      fail(conn, "MESHLET_TLS_UNAUTHORIZED", `${peer.name} is not authorized for TCP to port ${conn.target.port}`);
      socket.terminate();
      return;
    }
    relayOpaque(socket, first, ended, conn.target, {
      connectTimeoutMs: options.connectTimeoutMs,
      onConnectFailed: (reason) => fail(conn, "MESHLET_TLS_UPSTREAM_UNREACHABLE", reason),
    });
  };

  const handle = (conn: AcceptedConnection) => {
    const deadline = monotonicClock.nowMs() + options.detectTimeoutMs;
    terminateAdoptedMeshTls(
      conn.fd,
      context,
      {
        onSession: (socket, peer, early) => serve(conn, socket, peer, early, deadline),
        onRefused: (code, detail) => fail(conn, code, detail),
      },
      { handshakeTimeoutMs: options.detectTimeoutMs },
    );
  };

  return {
    handle,
    close() {
      unsubscribe();
      failureLog.close();
    },
  };
}

function contextOf(identity: WorkloadIdentity): SecureContext {
  return meshServerSecureContext({ certificateChainPem: identity.certChainPem, privateKeyPem: identity.keyPem, trustAnchorsPem: identity.trustAnchorsPem });
}
