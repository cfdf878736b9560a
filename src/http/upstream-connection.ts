// One HTTP/1 connection to an upstream endpoint over a Bun socket: forwards socket events to its
// current owner (an exchange or a tunnel) or, while idle, back to its pool. A meshed endpoint's
// connection is open only once its mTLS handshake proved the expected identity.
import type { Socket, SocketHandler } from "bun";
import { PeerIdentityError } from "./proxy-errors.ts";
import { handshakeOutcome, verifyMeshServer } from "../tls/handshake-verdict.ts";
import { WriteQueue } from "./write-queue.ts";
import { TRANSPORT_TLS_DISABLED, type TransportRow, type TransportTlsLabels, errnoNameOf, httpTransport } from "../metrics/transport.ts";
import type { Direction } from "../rt/direction.ts";

/** Whoever currently uses the connection. */
export interface UpstreamOwner {
  onUpstreamData(conn: UpstreamConnection, data: Buffer): void;
  onUpstreamDrain(conn: UpstreamConnection): void;
  /** The connection is gone; `err` is the socket error (e.g. ECONNRESET) if any. */
  onUpstreamClose(conn: UpstreamConnection, err: Error | undefined): void;
}

/** The pool side of a connection's life. */
export interface ConnectionHome {
  /** The TLS labels of the endpoint's tcp_* row (outbound: Linkerd's TlsConnect labels). */
  readonly tlsLabels: TransportTlsLabels;
  onConnected(conn: UpstreamConnection): void;
  onConnectFailed(conn: UpstreamConnection, err: Error): void;
  /** Closed while idle or owned; the pool forgets it. */
  onClosed(conn: UpstreamConnection): void;
}

export const UPSTREAM_CONNECTING = 0;
export const UPSTREAM_OPEN = 1;
export const UPSTREAM_CLOSED = 2;

export class UpstreamConnection {
  socket: Socket<UpstreamConnection> | null = null;
  owner: UpstreamOwner | null = null;
  state = UPSTREAM_CONNECTING;
  /** Requests dispatched on this connection; > 1 means it was reused from the pool. */
  requests = 0;
  idleSinceMs = 0;
  /** Armed by the pool while connecting. */
  connectTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  readonly writer = new WriteQueue();
  private shutdownWhenFlushed = false;
  private paused = false;

  /** tcp_* counters of this connection; null until it opened. */
  private transport: TransportRow | null = null;

  constructor(
    readonly home: ConnectionHome,
    readonly addr: string,
    private readonly direction: Direction,
    /** Set when dialed with mTLS: the identity the server must carry (the SNI). */
    readonly expectedIdentity?: string,
  ) {}

  /** Counts the close once, whichever way the connection ends. */
  private countClose(err: Error | undefined): void {
    if (this.transport === null) return;
    httpTransport.close(this.transport, errnoNameOf(err));
    this.transport = null;
    this.writer.counter = null;
  }

  /** Writes or queues bytes (see WriteQueue.write); false means wait for onUpstreamDrain. */
  write(data: Uint8Array, start: number, end: number, owned: boolean): boolean {
    const socket = this.socket;
    if (socket === null || this.state !== UPSTREAM_OPEN) return true;
    return this.writer.write(socket, data, start, end, owned);
  }

  pause(): void {
    if (!this.paused && this.socket !== null) {
      this.paused = true;
      this.socket.pause();
    }
  }

  resume(): void {
    if (this.paused && this.socket !== null) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /**
   * Sends FIN once queued bytes are out and keeps reading (tunnels pass a client's half-close on).
   * Bun's socket.end() closes both directions, so this uses shutdown().
   */
  shutdownAfterFlush(): void {
    if (this.socket === null || this.state !== UPSTREAM_OPEN) return;
    if (this.writer.pending) this.shutdownWhenFlushed = true;
    else this.socket.shutdown();
  }

  /** Closes now without telling the owner; used when the connection cannot be reused. */
  destroy(): void {
    this.countClose(undefined);
    this.owner = null;
    if (this.state === UPSTREAM_CLOSED) return;
    this.state = UPSTREAM_CLOSED;
    this.writer.clear();
    this.socket?.end();
    this.home.onClosed(this);
  }

  // === socket events ===

  handleOpen(socket: Socket<UpstreamConnection>): void {
    this.socket = socket;
    if (this.state === UPSTREAM_CLOSED) {
      // Abandoned (connect timeout) before it opened.
      socket.terminate();
      return;
    }
    if (this.expectedIdentity !== undefined) return; // open once the handshake proved the identity
    this.opened(socket);
  }

  /** The mTLS handshake finished (Bun's `handshake` event): open if the server proved the identity. */
  handleHandshake(socket: Socket<UpstreamConnection>, success: boolean, authorizationError: Error | null): void {
    const expected = this.expectedIdentity;
    if (expected === undefined || this.state !== UPSTREAM_CONNECTING) return;
    const verdict = verifyMeshServer(handshakeOutcome(socket, success, authorizationError), expected);
    if (!verdict.ok) {
      // Failed first: terminate() may report the close at once. In a TLS 1.3 client's handshake
      // callback it refuses the server before our certificate is sent.
      this.handleConnectError(new PeerIdentityError(this.addr, verdict.code, verdict.detail));
      socket.terminate();
      return;
    }
    this.opened(socket);
  }

  private opened(socket: Socket<UpstreamConnection>): void {
    this.state = UPSTREAM_OPEN;
    const tls = this.direction === "outbound" ? this.home.tlsLabels : TRANSPORT_TLS_DISABLED;
    this.transport = httpTransport.open(this.direction, "dst", socket.remoteAddress, socket.remotePort, true, tls);
    this.writer.counter = this.transport;
    this.home.onConnected(this);
  }

  handleConnectError(err: Error): void {
    if (this.state !== UPSTREAM_CONNECTING) return;
    this.state = UPSTREAM_CLOSED;
    this.home.onConnectFailed(this, err);
  }

  handleData(data: Buffer): void {
    if (this.transport !== null) this.transport.readBytes += data.length;
    const owner = this.owner;
    if (owner !== null) owner.onUpstreamData(this, data);
    else this.destroy(); // bytes on an idle connection: it cannot be trusted for the next request
  }

  handleDrain(): void {
    const socket = this.socket;
    if (socket === null) return;
    if (!this.writer.flush(socket)) return;
    if (this.shutdownWhenFlushed) {
      this.shutdownWhenFlushed = false;
      socket.shutdown();
      return;
    }
    this.owner?.onUpstreamDrain(this);
  }

  handleClose(err: Error | undefined): void {
    this.countClose(err);
    if (this.state === UPSTREAM_CLOSED) return;
    const wasConnecting = this.state === UPSTREAM_CONNECTING;
    this.state = UPSTREAM_CLOSED;
    this.writer.clear();
    if (wasConnecting) {
      this.home.onConnectFailed(this, err ?? new Error("connection closed while connecting"));
      return;
    }
    const owner = this.owner;
    this.owner = null;
    this.home.onClosed(this);
    owner?.onUpstreamClose(this, err);
  }
}

/** Shared handlers for every upstream socket (`socket.data` is the UpstreamConnection). */
export const UPSTREAM_HANDLERS: SocketHandler<UpstreamConnection> = {
  open(socket) {
    socket.data.handleOpen(socket);
  },
  handshake(socket, success, authorizationError) {
    socket.data.handleHandshake(socket, success, authorizationError);
  },
  data(socket, data) {
    socket.data.handleData(data);
  },
  drain(socket) {
    socket.data.handleDrain();
  },
  end(socket) {
    // The upstream sent FIN: its response (or tunnel direction) is over. Connections are half-open
    // capable so a tunnelled client's FIN can be passed on while the upstream still answers; here
    // we finish our side too.
    socket.data.handleClose(undefined);
    socket.end();
  },
  close(socket, err) {
    socket.data.handleClose(err);
  },
  error(socket, err) {
    socket.data.handleClose(err);
  },
  connectError(socket, err) {
    socket.data.handleConnectError(err);
  },
};
