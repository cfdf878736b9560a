// Outbound mTLS origination for TCP to a meshed endpoint (opaque port, not HTTP, detect timeout): the
// front door hands the client's fd over (meshedTarget); Bun adopts it in plaintext and dials the endpoint
// with Bun.connect({ tls }) (MeshClientTls: SNI = the peer identity, exact identity verdict), then relays
// the bytes both ways with backpressure (a full side pauses the other) and passes half-closes on.
import type { Socket } from "bun";
import { closeSync } from "node:fs";
import { formatHostPort } from "../config/values.ts";
import { setTcpLiveness } from "../http/tcp-liveness.ts";
import type { AcceptedConnection } from "../l4/front-door.ts";
import type { Logger } from "../log/logger.ts";
import { RateLimitedLog } from "../log/rate-limited-log.ts";
import { outboundTlsLabels } from "../metrics/http.ts";
import { Counter, type Registry } from "../metrics/prom-client.ts";
import { registry as sharedRegistry } from "../metrics/registry.ts";
import { type TransportCounters, type TransportRow, errnoNameOf, httpTransport } from "../metrics/transport.ts";
import { type RefusalCode, handshakeOutcome, verifyMeshServer } from "../tls/handshake-verdict.ts";
import type { MeshClientTls } from "../tls/mesh-client-tls.ts";
import type { MeshTlsOptions } from "../tls/mesh-tls-options.ts";

/** Why an originated connection was closed before any byte reached the peer. */
export type OriginationFailure =
  | RefusalCode
  | "MESHLET_TLS_CONNECT_FAILED" // the endpoint refused or was unreachable
  | "MESHLET_TLS_CONNECT_TIMEOUT" // no verified session within MESHLET_CONNECT_TIMEOUT
  | "MESHLET_TLS_CREDENTIALS_UNUSABLE"; // the local identity could not make TLS options

export interface MeshTlsOriginationOptions {
  readonly meshTls: MeshClientTls;
  /** The identity the endpoint ip:port must prove; undefined when the table no longer calls it meshed. */
  identityOf(ip: string, port: number): string | undefined;
  /** Gives a connection back to be spliced in plaintext (its destination stopped being meshed meanwhile). */
  forwardAsTcp(conn: AcceptedConnection): void;
  /** Connect plus handshake must finish within this (MESHLET_CONNECT_TIMEOUT). */
  readonly connectTimeoutMs: number;
  /** Keepalive / TCP_USER_TIMEOUT of the dialed socket (tcpLivenessOf(config).outbound); absent: untouched. */
  readonly liveness?: { readonly connectKeepaliveMs: number; readonly userTimeoutMs: number } | undefined;
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly transport?: TransportCounters;
}

export interface MeshTlsOrigination {
  readonly handle: (conn: AcceptedConnection) => void;
  close(): void;
}

export function meshTlsOrigination(options: MeshTlsOriginationOptions): MeshTlsOrigination {
  const failures = new Counter({
    name: "meshlet_outbound_mtls_failures_total",
    help: "Outbound TCP connections to meshed endpoints closed because mTLS origination failed, by reason",
    labelNames: ["reason"] as const,
    registers: [options.registry ?? sharedRegistry],
  });
  const failureLog = new RateLimitedLog(options.logger);
  const fail = (conn: AcceptedConnection, reason: OriginationFailure, detail: string) => {
    failures.inc({ reason });
    const target = formatHostPort(conn.target);
    failureLog.warn(`mtls ${reason} ${target}`, "outbound mTLS origination failed; client connection closed", { reason, detail, client: formatHostPort(conn.client), target });
  };
  const handle = (conn: AcceptedConnection) => {
    const identity = options.identityOf(conn.target.host, conn.target.port);
    if (identity === undefined) return options.forwardAsTcp(conn);
    let tls: MeshTlsOptions;
    try {
      tls = options.meshTls.options(identity);
    } catch (err) {
      fail(conn, "MESHLET_TLS_CREDENTIALS_UNUSABLE", (err as Error).message);
      closeSync(conn.fd);
      return;
    }
    new OriginatedConnection(conn, identity, tls, options, (reason, detail) => fail(conn, reason, detail)).start();
  };
  return { handle, close: () => failureLog.close() };
}

/** Bun's write: the bytes taken (a closed socket reports -1: nothing). */
function written(n: number): number {
  return n < 0 ? 0 : n;
}

/** One client connection relayed to its meshed endpoint over mTLS. */
class OriginatedConnection {
  private client: Socket<undefined> | undefined;
  private upstream: Socket<undefined> | undefined;
  /** The server proved the identity: bytes may flow. */
  private verified = false;
  private finished = false;
  /** Bytes a side has not taken yet; the other side is paused while they wait (one chunk at most). */
  private toUpstream: Buffer | undefined;
  private toClient: Buffer | undefined;
  private clientEnded = false;
  private upstreamEnded = false;
  private upstreamShutdown = false;
  private clientShutdown = false;
  private src: TransportRow | undefined;
  private dst: TransportRow | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly conn: AcceptedConnection,
    private readonly identity: string,
    private readonly tls: MeshTlsOptions,
    private readonly options: MeshTlsOriginationOptions,
    private readonly fail: (reason: OriginationFailure, detail: string) => void,
  ) {}

  start(): void {
    const self = this;
    const transport = this.options.transport ?? httpTransport;
    // The front door counted the accept; this row carries the client leg's bytes and close.
    this.src = transport.open("outbound", "src", this.conn.target.host, this.conn.target.port, false);
    (Bun.connect as unknown as (o: object) => Promise<Socket<undefined>>)({
      fd: this.conn.fd,
      allowHalfOpen: true,
      socket: {
        open(socket: Socket<undefined>) {
          self.client = socket;
          if (self.finished) return void socket.terminate();
          if (!self.verified) socket.pause(); // nothing is read before the peer is verified
        },
        data: (_socket: Socket<undefined>, data: Buffer) => this.fromClient(data),
        drain: () => this.clientDrained(),
        end: () => {
          this.clientEnded = true;
          this.flushToUpstream();
        },
        close: (_socket: Socket<undefined>, err?: Error) => this.clientClosed(err),
      },
    }).catch((err: unknown) => {
      // Whether Bun closed the fd is unknown: closing the number again could cut an unrelated connection.
      this.fail("MESHLET_TLS_CONNECT_FAILED", `cannot adopt the client connection: ${String(err)}`);
      this.clientClosed(err instanceof Error ? err : new Error(String(err)));
    });

    this.connectTimer = setTimeout(() => {
      if (this.verified || this.finished) return;
      this.fail("MESHLET_TLS_CONNECT_TIMEOUT", `no verified mTLS session with ${this.identity} within ${this.options.connectTimeoutMs} ms`);
      this.finish(new Error("connect timeout"));
    }, this.options.connectTimeoutMs);

    Bun.connect({
      hostname: this.conn.target.host,
      port: this.conn.target.port,
      allowHalfOpen: true,
      tls: this.tls,
      socket: {
        open(socket) {
          self.upstream = socket;
          if (self.finished) socket.terminate();
        },
        handshake: (socket, success, authorizationError) => this.handshake(socket, success, authorizationError),
        data: (_socket, data) => this.fromUpstream(data),
        drain: () => this.upstreamDrained(),
        end: () => {
          this.upstreamEnded = true;
          this.flushToClient();
        },
        close: (_socket, err) => this.upstreamClosed(err),
        connectError: (_socket, err) => {
          if (this.finished) return;
          this.fail("MESHLET_TLS_CONNECT_FAILED", String(err));
          this.finish(err);
        },
      },
    }).catch((err: unknown) => {
      if (this.finished) return;
      this.fail("MESHLET_TLS_CONNECT_FAILED", String(err));
      this.finish(err);
    });
  }

  private handshake(socket: Socket<undefined>, success: boolean, authorizationError: Error | null): void {
    if (this.finished || this.verified) return;
    const verdict = verifyMeshServer(handshakeOutcome(socket, success, authorizationError), this.identity);
    if (!verdict.ok) {
      this.fail(verdict.code, verdict.detail);
      this.finish(new Error(verdict.code));
      return;
    }
    this.verified = true;
    clearTimeout(this.connectTimer);
    this.upstream = socket;
    socket.setNoDelay(true);
    const liveness = this.options.liveness;
    if (liveness !== undefined) setTcpLiveness(socket, liveness.connectKeepaliveMs, liveness.userTimeoutMs);
    const transport = this.options.transport ?? httpTransport;
    this.dst = transport.open("outbound", "dst", this.conn.target.host, this.conn.target.port, true, outboundTlsLabels(true, this.identity));
    if (this.flushToUpstream() && !this.clientEnded) this.client?.resume();
  }

  // === client → upstream ===

  private fromClient(data: Buffer): void {
    if (this.src !== undefined) this.src.readBytes += data.length;
    const upstream = this.upstream;
    if (this.toUpstream === undefined && this.verified && upstream !== undefined) {
      const n = written(upstream.write(data));
      if (this.dst !== undefined) this.dst.writeBytes += n;
      if (n === data.length) return;
      this.toUpstream = Buffer.from(data.subarray(n)); // copied: Bun may reuse the buffer it read into
    } else {
      this.toUpstream = this.toUpstream === undefined ? Buffer.from(data) : Buffer.concat([this.toUpstream, data]);
    }
    this.client?.pause();
  }

  /** Writes what waits for the upstream (once verified), then its FIN; true when nothing waits. */
  private flushToUpstream(): boolean {
    const upstream = this.upstream;
    if (!this.verified || upstream === undefined) return false;
    const pending = this.toUpstream;
    if (pending !== undefined) {
      const n = written(upstream.write(pending));
      if (this.dst !== undefined) this.dst.writeBytes += n;
      if (n < pending.length) {
        this.toUpstream = pending.subarray(n);
        return false;
      }
      this.toUpstream = undefined;
    }
    if (this.clientEnded && !this.upstreamShutdown) {
      this.upstreamShutdown = true;
      upstream.shutdown(); // the client's FIN, after its last byte
      this.closeIfDone();
    }
    return true;
  }

  private upstreamDrained(): void {
    if (this.flushToUpstream() && !this.clientEnded) this.client?.resume();
  }

  // === upstream → client ===

  private fromUpstream(data: Buffer): void {
    if (this.dst !== undefined) this.dst.readBytes += data.length;
    const client = this.client;
    if (this.toClient === undefined && client !== undefined) {
      const n = written(client.write(data));
      if (this.src !== undefined) this.src.writeBytes += n;
      if (n === data.length) return;
      this.toClient = Buffer.from(data.subarray(n));
    } else {
      this.toClient = this.toClient === undefined ? Buffer.from(data) : Buffer.concat([this.toClient, data]);
    }
    this.upstream?.pause();
  }

  private flushToClient(): boolean {
    const client = this.client;
    if (client === undefined) return false;
    const pending = this.toClient;
    if (pending !== undefined) {
      const n = written(client.write(pending));
      if (this.src !== undefined) this.src.writeBytes += n;
      if (n < pending.length) {
        this.toClient = pending.subarray(n);
        return false;
      }
      this.toClient = undefined;
    }
    if (this.upstreamEnded && !this.clientShutdown) {
      this.clientShutdown = true;
      client.shutdown(); // the peer's FIN (close_notify), after its last byte
      this.closeIfDone();
    }
    return true;
  }

  private clientDrained(): void {
    if (this.flushToClient() && !this.upstreamEnded) this.upstream?.resume();
  }

  // === closing ===

  /** Both directions ended (a FIN passed on, or the side gone): nothing more will flow. */
  private closeIfDone(): void {
    if ((this.upstreamShutdown || this.upstream === undefined) && (this.clientShutdown || this.client === undefined)) this.finish(undefined);
  }

  private clientClosed(err: Error | undefined): void {
    this.client = undefined;
    if (this.src !== undefined) {
      (this.options.transport ?? httpTransport).close(this.src, errnoNameOf(err));
      this.src = undefined;
    }
    if (err !== undefined) return this.finish(err);
    // Closed cleanly: what it sent still goes to the peer (once verified), then the peer's side is closed.
    this.clientEnded = true;
    this.toClient = undefined;
    if (this.verified) this.flushToUpstream(); // else the handshake flushes it
  }

  private upstreamClosed(err: Error | undefined): void {
    this.upstream = undefined;
    if (this.dst !== undefined) {
      (this.options.transport ?? httpTransport).close(this.dst, errnoNameOf(err));
      this.dst = undefined;
    }
    if (!this.verified && !this.finished) this.fail("MESHLET_TLS_HANDSHAKE_FAILED", err === undefined ? "the endpoint closed during the handshake" : String(err));
    if (err === undefined && this.verified) {
      // The peer closed cleanly: what it sent still reaches the client (its drain flushes the rest), then its FIN.
      this.upstreamEnded = true;
      if (this.flushToClient()) this.closeIfDone();
      return;
    }
    this.finish(err ?? new Error("the endpoint closed before the session was verified"));
  }

  /** Ends the relay: a failure resets what is left, a clean end closes what is left. */
  private finish(err: unknown): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.connectTimer);
    if (err !== undefined) {
      this.upstream?.terminate();
      this.client?.terminate();
    } else {
      if (this.toUpstream === undefined) this.upstream?.end();
      else this.upstream?.terminate();
      if (this.toClient === undefined) this.client?.end();
      else this.client?.terminate();
    }
  }
}
