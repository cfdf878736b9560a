// One HTTP/2 client connection (an fd adopted from the native front door, or accepted): a server
// H2Session over the Bun socket with a write queue. Each request stream becomes an H2Exchange that
// runs the request pipeline; this connection routes the session's stream events to it.
import type { Socket } from "bun";
import type { FilterChain, FilterState } from "../http/filter.ts";
import { DEFAULT_CLOSE_LINGER_MS } from "../http/options.ts";
import { ownListeners } from "../http/own-listeners.ts";
import type { ConnInfo } from "../http/request-ctx.ts";
import type { ClientSocketState } from "../http/client-sockets.ts";
import { WriteQueue } from "../http/write-queue.ts";
import { CorkedWriter } from "./corked-writer.ts";
import { countReadBytes } from "./read-garbage-bound.ts";
import { type TransportRow, errnoNameOf, httpTransport } from "../metrics/transport.ts";
import { H2_ERROR } from "./errors.ts";
import { H2Exchange } from "./exchange.ts";
import type { H2ServerEnv } from "./server-env.ts";
import { H2Session } from "./session.ts";
import { reportAbuse } from "./abuse-report.ts";
import { H2Keepalive, type KeepaliveTarget } from "./keepalive.ts";
import { formatHostPort } from "../config/values.ts";

/** Finished streams' filter slot sets a connection keeps for reuse (more concurrent streams allocate). */
const MAX_SPARE_SLOT_SETS = 16;

/** What an adopted fd carries until `open` turns it into an H2ServerConnection. */
export type H2ConnState = ClientSocketState<H2ServerConnection>;

export class H2ServerConnection implements KeepaliveTarget {
  readonly writer = new WriteQueue();
  private readonly out = new CorkedWriter(
    this.writer,
    () => (this.closed ? null : (this.socket as Socket<unknown>)),
    () => this.session.takeOutput(),
  );
  readonly session: H2Session;
  /** Streams with an exchange (each exchange is kept on its session stream, not in a map). */
  private openExchanges = 0;
  /**
   * Filter state slots of finished streams, for the chain they were made for, reset: later streams reuse
   * them instead of allocating a set each (as an HTTP/1 connection keeps one set), and the filters' own
   * per-connection memos in them (the authorization filter's allowed route) keep working on HTTP/2.
   */
  private spareSlotsChain: FilterChain | null = null;
  private spareSlots: (FilterState | undefined)[][] = [];
  closed = false;
  /** The final GOAWAY went out (or the client ended its side): no new stream is taken. */
  private goingAway = false;
  /** goAway() began the graceful two-step GOAWAY. */
  private shuttingDown = false;
  private readonly keepalive: H2Keepalive | null;
  private lastActiveMs: number;
  /**
   * Synthetic responses carry `l5d-proxy-error`: outbound (the client is the local app) always,
   * inbound only for meshed clients (linkerd-behavior §4.2).
   */
  readonly informationalErrors: boolean;

  constructor(
    readonly socket: Socket<H2ConnState>,
    readonly info: ConnInfo,
    readonly env: H2ServerEnv,
    private readonly transport: TransportRow,
  ) {
    this.writer.counter = transport;
    this.lastActiveMs = env.nowMs();
    this.informationalErrors = info.direction === "outbound" || info.clientIdentity !== undefined;
    this.session = new H2Session({
      role: "server",
      write: (bytes) => {
        if (!this.closed) this.out.write(bytes);
      },
      isBacklogged: () => this.writer.pending,
      onOutput: () => this.out.schedule(), // pull mode: the corked writer takes the frames once per callback
      handler: {
        onHeaders: (id, headers, kind, endStream, neverIndexed, owner) => {
          if (kind === "request") this.startExchange(id, headers, endStream, neverIndexed);
          else if (kind === "trailers") (owner as H2Exchange | undefined)?.onRequestTrailers(headers, neverIndexed);
        },
        onData: (id, data, endStream, owner) => {
          if (owner !== undefined) (owner as H2Exchange).onRequestData(data, endStream);
          else this.session.consume(id, data.length);
        },
        onReset: (_id, code, byPeer, owner) => {
          if (byPeer && !this.closed) (owner as H2Exchange | undefined)?.onClientReset(code);
        },
        onClose: (_id, owner) => {
          if (this.closed) return; // the connection's onClose tells its exchanges itself
          if (owner !== undefined) {
            this.openExchanges--;
            (owner as H2Exchange).onClientStreamClosed();
          }
          if (this.openExchanges === 0) this.onIdle();
        },
        onWritable: (_id, owner) => {
          if (!this.writer.pending) (owner as H2Exchange | undefined)?.onClientWritable();
        },
        onPingAck: (payload) => this.keepalive?.onPingAck(payload),
        onGoawaySent: () => {
          this.goingAway = true;
          // After the session wrote the GOAWAY (inside receive() it flushes when receive() returns).
          if (this.openExchanges === 0) queueMicrotask(() => this.closeAfterFlush());
        },
        onError: (err) => {
          reportAbuse(err, info.direction, "client", formatHostPort({ host: info.clientAddr, port: info.clientPort }), env.logger);
          // After the session wrote its GOAWAY (it flushes when the current receive() returns).
          queueMicrotask(() => this.closeAfterFlush());
        },
      },
    });
    this.keepalive = env.keepalive.intervalMs > 0 ? new H2Keepalive(env.keepalive, this) : null;
  }

  // === KeepaliveTarget ===

  ping(): Uint8Array {
    return this.session.ping();
  }

  /** The client did not answer a keep-alive PING: the connection is closed and its streams end. */
  onKeepaliveTimeout(timeoutMs: number): void {
    this.env.logger.debug("HTTP/2 client did not answer a keep-alive PING; closing the connection", { timeoutMs, streams: this.openExchanges });
    this.forceClose();
  }

  private startExchange(id: number, headers: string[], endStream: boolean, neverIndexed: readonly string[] | null): void {
    this.lastActiveMs = this.env.nowMs();
    if (this.goingAway) {
      this.session.reset(id, H2_ERROR.REFUSED_STREAM);
      return;
    }
    const chain: FilterChain = this.env.chain.get();
    const ex = new H2Exchange(this, this.env, id, headers, neverIndexed, endStream, chain, this.slotsFor(chain));
    this.session.setOwner(id, ex);
    this.openExchanges++;
    ex.start(); // inside the session's receive(): what it writes leaves in one flush when receive() returns
  }

  /** A reset set of state slots for `chain`: a finished stream's, or a new one. */
  private slotsFor(chain: FilterChain): (FilterState | undefined)[] {
    if (chain === this.spareSlotsChain) {
      const slots = this.spareSlots.pop();
      if (slots !== undefined) return slots;
    } else {
      this.spareSlotsChain = chain; // a new configuration generation: the old chain's slots go
      this.spareSlots = [];
    }
    return chain.newSlots();
  }

  /** The slots of an exchange that finished on a closed stream: reset (they let go of its request) and kept for the next stream. */
  recycleSlots(chain: FilterChain, slots: (FilterState | undefined)[]): void {
    if (chain !== this.spareSlotsChain || this.spareSlots.length >= MAX_SPARE_SLOT_SETS) return;
    chain.resetSlots(slots);
    this.spareSlots.push(slots);
  }

  // === socket events ===

  onData(data: Buffer): void {
    this.keepalive?.onRead();
    this.transport.readBytes += data.length;
    countReadBytes(data.length);
    const clock = this.env.clock;
    clock.enter(); // the timestamps of the streams this read starts or ends share one clock reading
    try {
      this.session.receive(data);
    } finally {
      clock.exit();
    }
  }

  onDrain(): void {
    if (!this.writer.flush(this.socket as Socket<unknown>)) return;
    if (this.closing) {
      this.socket.end();
      return;
    }
    for (const ex of this.session.owners() as H2Exchange[]) ex.onClientWritable();
  }

  onEnd(): void {
    // The client sends no more: streams still answering finish as the session allows, then we close.
    this.goingAway = true;
    if (this.openExchanges === 0) this.closeAfterFlush();
  }

  onClose(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.keepalive?.stop();
    httpTransport.close(this.transport, errnoNameOf(err));
    this.writer.clear();
    this.out.clear();
    const exchanges = this.session.owners() as H2Exchange[];
    this.openExchanges = 0;
    this.session.close();
    for (const ex of exchanges) ex.onClientClosed();
    this.env.connectionClosed(this);
  }

  // === for exchanges ===

  isOwnAddress(host: string): boolean {
    return ownListeners.isOwn(host, this.socket.localPort, this.socket);
  }

  /** The socket took everything the session wrote so far. */
  get flushed(): boolean {
    return !this.writer.pending;
  }

  /**
   * Drain, idle, or a filter asked to close after a response: the graceful two-step GOAWAY (2^31-1 and a
   * PING, then the real last-stream-id after one round trip); streams in flight finish, then we close.
   */
  goAway(): void {
    if (this.goingAway || this.shuttingDown) return;
    this.shuttingDown = true;
    this.session.goawayGracefully();
  }

  private onIdle(): void {
    this.lastActiveMs = this.env.nowMs();
    if (this.goingAway) this.closeAfterFlush();
  }

  private closing = false;
  private closingSinceMs = 0;

  closeAfterFlush(): void {
    if (this.closed) return;
    if (!this.closing) this.closingSinceMs = this.env.nowMs();
    this.closing = true;
    this.out.flush();
    if (!this.writer.pending) this.socket.end();
  }

  // === timeouts and drain (driven by the server's sweep) ===

  sweep(nowMs: number): void {
    if (this.closed) return;
    // A client that does not close after our FIN is cut after the linger time (as on HTTP/1).
    if (this.closing && nowMs - this.closingSinceMs > DEFAULT_CLOSE_LINGER_MS) {
      this.socket.terminate();
      return;
    }
    if (this.openExchanges > 0) return;
    this.spareSlots.length = 0; // an idle connection holds no spare state
    if (nowMs - this.lastActiveMs > this.env.clientIdleTimeoutMs) this.goAway();
  }

  /** Graceful drain: GOAWAY now; the connection closes once its streams are done. */
  drain(): void {
    this.goAway();
  }

  forceClose(): void {
    if (!this.closed) this.socket.terminate();
  }
}
