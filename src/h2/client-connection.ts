// One HTTP/2 connection to an upstream endpoint: a client H2Session over a Bun socket with a write
// queue. Streams opened on it belong to owners (the proxy's per-stream exchanges), which get that
// stream's events; the endpoint pool learns when the connection opens, frees a stream, or goes away.
// A meshed endpoint's connection starts only once its mTLS handshake proved the expected identity.
import type { Socket, SocketHandler } from "bun";
import { PeerIdentityError } from "../http/proxy-errors.ts";
import { handshakeOutcome, verifyMeshServer } from "../tls/handshake-verdict.ts";
import type { H2Error } from "./errors.ts";
import type { HeaderBlockKind } from "./header-validation.ts";
import { H2Session } from "./session.ts";
import { WriteQueue } from "../http/write-queue.ts";
import { CorkedWriter } from "./corked-writer.ts";
import { countReadBytes } from "./read-garbage-bound.ts";
import { TRANSPORT_TLS_DISABLED, type TransportRow, type TransportTlsLabels, errnoNameOf, httpTransport } from "../metrics/transport.ts";
import type { Direction } from "../rt/direction.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import { reportAbuse } from "./abuse-report.ts";
import { H2Keepalive, type KeepaliveSettings, type KeepaliveTarget } from "./keepalive.ts";
import type { CallbackClock } from "./callback-clock.ts";

/** The events of one upstream stream, for the exchange that opened it. */
export interface H2StreamOwner {
  /** `neverIndexed`: names the upstream sent never-indexed (pass them on when forwarding the block). */
  onUpstreamHeaders(headers: string[], kind: HeaderBlockKind, endStream: boolean, neverIndexed: readonly string[] | null): void;
  onUpstreamData(data: Uint8Array, endStream: boolean): void;
  /** The stream was reset (by the peer, by a GOAWAY above its id, or because the connection died). */
  onUpstreamReset(code: number, byPeer: boolean, refused: boolean): void;
  /** What we queued on the stream has been written to the socket: bytes taken, more may follow. */
  onUpstreamWritable(): void;
}

/** The pool side of the connection's life. */
export interface H2ConnectionHome {
  /** The TLS labels of the endpoint's tcp_* row (outbound: Linkerd's TlsConnect labels). */
  readonly tlsLabels: TransportTlsLabels;
  onConnected(conn: H2ClientConnection): void;
  onConnectFailed(conn: H2ClientConnection, err: Error): void;
  /** A stream was opened on the connection (counted per endpoint). */
  onStreamOpened(): void;
  /** A stream ended or the peer's settings changed: more streams may be available. */
  onStreamsAvailable(conn: H2ClientConnection): void;
  onClosed(conn: H2ClientConnection): void;
}

/** Streams opened on a new connection before the peer's SETTINGS say its limit (RFC 9113 §6.5.2 suggests ≥ 100). */
const PRESETTINGS_STREAMS = 100;

export class H2ClientConnection implements KeepaliveTarget {
  socket: Socket<H2ClientConnection> | null = null;
  session: H2Session | null = null;
  readonly writer = new WriteQueue();
  private readonly out = new CorkedWriter(
    this.writer,
    () => (this.closed ? null : (this.socket as Socket<unknown> | null)),
    () => this.session?.takeOutput() ?? null,
  );
  /** Streams whose owner has not let go of them (each owner is kept on its session stream, not in a map). */
  ownedStreams = 0;
  connected = false;
  closed = false;
  connectTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  idleSinceMs = 0;
  /** Streams opened on this connection over its life (reuse counter). */
  streamsOpened = 0;
  private transport: TransportRow | null = null;
  private keepalive: H2Keepalive | null = null;

  constructor(
    readonly home: H2ConnectionHome,
    readonly addr: string,
    private readonly direction: Direction,
    private readonly logger: Logger = silentLogger,
    private readonly keepaliveSettings: KeepaliveSettings = { intervalMs: 0, timeoutMs: 0 },
    /** Set when dialed with mTLS: the identity the server must carry (the SNI). */
    readonly expectedIdentity?: string,
    /** The engine's clock, entered for each read (one reading for the timestamps the read leads to). */
    private readonly clock?: CallbackClock,
  ) {}

  /** The peer's first SETTINGS arrived (its MAX_CONCURRENT_STREAMS is known). */
  private peerSettingsKnown = false;

  /**
   * How many more streams may open now (0 while connecting or after GOAWAY). Until the peer's SETTINGS
   * arrive its limit is unknown (RFC 9113: unlimited), so at most PRESETTINGS_STREAMS open: a burst on a
   * fresh connection is not refused by a server whose limit is lower.
   */
  get availableStreams(): number {
    if (!this.connected || this.closed || this.session === null) return 0;
    const n = this.session.availableStreams;
    return this.peerSettingsKnown ? n : Math.min(n, Math.max(0, PRESETTINGS_STREAMS - this.session.openStreams));
  }

  /** Opens a stream with a request head; throws H2Error(REFUSED_STREAM) when none may open. */
  open(owner: H2StreamOwner, headers: string[], endStream: boolean, neverIndexed: readonly string[] | null = null): number {
    const id = this.session!.request(headers, endStream, neverIndexed, owner);
    this.ownedStreams++;
    this.streamsOpened++;
    this.home.onStreamOpened();
    return id;
  }

  /** The owner gives up its stream (reset sent by the caller, or the stream already ended). */
  release(id: number): void {
    if (this.session !== null && this.session.setOwner(id, undefined) !== undefined) this.ownedStreams--;
  }

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS, or null before its SETTINGS arrived (or when it sets none). */
  get peerMaxConcurrentStreams(): number | null {
    const n = this.session?.peer.maxConcurrentStreams;
    return this.peerSettingsKnown && n !== undefined && Number.isFinite(n) ? n : null;
  }

  /** Streams open on the connection now. */
  get openStreams(): number {
    return this.session?.openStreams ?? 0;
  }

  /** The socket took everything the session produced. */
  get flushed(): boolean {
    return !this.writer.pending;
  }

  onOpen(socket: Socket<H2ClientConnection>): void {
    this.socket = socket;
    if (this.expectedIdentity === undefined) this.start(socket); // else once the handshake proved the identity
  }

  /** The mTLS handshake finished (Bun's `handshake` event): start if the server proved the identity. */
  onHandshake(socket: Socket<H2ClientConnection>, success: boolean, authorizationError: Error | null): void {
    const expected = this.expectedIdentity;
    if (expected === undefined || this.connected || this.closed) return;
    const verdict = verifyMeshServer(handshakeOutcome(socket, success, authorizationError), expected);
    if (!verdict.ok) {
      // Failed first (terminate() may report the close at once); refused before our certificate is sent.
      this.onClose(new PeerIdentityError(this.addr, verdict.code, verdict.detail));
      socket.terminate();
      return;
    }
    this.start(socket);
  }

  private start(socket: Socket<H2ClientConnection>): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    const tls = this.direction === "outbound" ? this.home.tlsLabels : TRANSPORT_TLS_DISABLED;
    this.transport = httpTransport.open(this.direction, "dst", socket.remoteAddress, socket.remotePort, true, tls);
    this.writer.counter = this.transport;
    this.connected = true;
    this.session = new H2Session({
      role: "client",
      write: (bytes) => {
        if (!this.closed) this.out.write(bytes);
      },
      isBacklogged: () => this.writer.pending,
      onOutput: () => this.out.schedule(), // pull mode: the corked writer takes the frames once per callback
      handler: {
        onHeaders: (_id, headers, kind, endStream, neverIndexed, owner) => (owner as H2StreamOwner | undefined)?.onUpstreamHeaders(headers, kind, endStream, neverIndexed),
        onData: (id, data, endStream, owner) => {
          if (owner !== undefined) (owner as H2StreamOwner).onUpstreamData(data, endStream);
          else this.session!.consume(id, data.length);
        },
        onReset: (_id, code, byPeer, owner) => {
          // After close(): the owners were told already (onClose below).
          if (!this.closed) (owner as H2StreamOwner | undefined)?.onUpstreamReset(code, byPeer, code === 7 /* REFUSED_STREAM */ && byPeer);
        },
        onClose: (_id, owner) => {
          if (owner !== undefined) this.ownedStreams--;
          this.home.onStreamsAvailable(this);
        },
        onWritable: (_id, owner) => {
          if (!this.writer.pending) (owner as H2StreamOwner | undefined)?.onUpstreamWritable();
        },
        onPingAck: (payload) => this.keepalive?.onPingAck(payload),
        onSettings: () => {
          this.peerSettingsKnown = true;
          this.home.onStreamsAvailable(this);
        },
        onError: (err: H2Error) => {
          reportAbuse(err, this.direction, "upstream", this.addr, this.logger);
          // After the session wrote its GOAWAY (it flushes when the current receive() returns).
          queueMicrotask(() => this.destroy());
        },
      },
    });
    if (this.keepaliveSettings.intervalMs > 0) this.keepalive = new H2Keepalive(this.keepaliveSettings, this);
    this.home.onConnected(this);
  }

  // === KeepaliveTarget ===

  ping(): Uint8Array {
    return this.session!.ping();
  }

  /** The upstream did not answer a keep-alive PING: its streams fail as proxy errors (reset, CANCEL). */
  onKeepaliveTimeout(timeoutMs: number): void {
    this.logger.warn("HTTP/2 upstream did not answer a keep-alive PING; closing the connection", { addr: this.addr, timeoutMs, streams: this.ownedStreams });
    this.out.flush();
    if (this.socket !== null) this.socket.terminate();
    else this.onClose(undefined);
  }

  onData(data: Buffer): void {
    this.keepalive?.onRead();
    if (this.transport !== null) this.transport.readBytes += data.length;
    countReadBytes(data.length);
    const clock = this.clock;
    if (clock === undefined) {
      this.session?.receive(data);
      return;
    }
    clock.enter();
    try {
      this.session?.receive(data);
    } finally {
      clock.exit();
    }
  }

  onDrain(): void {
    if (this.socket === null || !this.writer.flush(this.socket as Socket<unknown>)) return;
    // Bytes the socket now took: every stream that was waiting on it may return credit downstream.
    for (const owner of this.session?.owners() ?? []) (owner as H2StreamOwner).onUpstreamWritable();
  }

  onClose(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.keepalive?.stop();
    clearTimeout(this.connectTimer);
    if (this.transport !== null) httpTransport.close(this.transport, errnoNameOf(err));
    this.transport = null;
    this.writer.clear();
    this.out.clear();
    if (!this.connected) {
      this.home.onConnectFailed(this, err ?? new Error("connection closed"));
      return;
    }
    // close() resets the open streams, which reaches each owner through onReset (CANCEL, not by peer).
    const owners = (this.session?.owners() ?? []) as H2StreamOwner[];
    this.session?.close();
    this.ownedStreams = 0;
    for (const owner of owners) owner.onUpstreamReset(8 /* CANCEL */, true, false);
    this.home.onClosed(this);
  }

  /** Closes at once (connection error, eviction, shutdown). */
  destroy(): void {
    this.out.flush();
    if (this.socket !== null) this.socket.end();
    else this.onClose(undefined);
  }
}

/** Bun socket handlers for upstream HTTP/2 connections (`socket.data` is the connection). */
export const h2ClientSocketHandlers: SocketHandler<H2ClientConnection> = {
  open(socket) {
    socket.data.onOpen(socket);
  },
  handshake(socket, success, authorizationError) {
    socket.data.onHandshake(socket, success, authorizationError);
  },
  data(socket, data) {
    socket.data.onData(data);
  },
  drain(socket) {
    socket.data.onDrain();
  },
  end(socket) {
    socket.end();
  },
  close(socket, err) {
    socket.data.onClose(err);
  },
  connectError(socket, err) {
    socket.data.onClose(err);
  },
  error(socket, err) {
    socket.data.onClose(err);
    socket.terminate();
  },
};
