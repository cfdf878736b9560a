// One client connection (accepted or adopted fd): reads request heads, runs one Exchange at a time
// (pipelined requests wait, so responses stay in order), keeps the connection alive or closes it,
// turns into a Tunnel after an upgrade, and enforces the idle and head-read timeouts.
import type { Socket } from "bun";
import { ProxyError } from "../errors/proxy-error.ts";
import { Exchange, PAUSE_PIPELINE, PAUSE_TUNNEL, PAUSE_UPSTREAM_FULL, PAUSE_WAIT_UPSTREAM } from "./exchange.ts";
import type { FilterChain, FilterState } from "./filter.ts";
import { parseRequestHead } from "./head-parser.ts";
import { DEFAULT_CLOSE_LINGER_MS } from "./options.ts";
import { HeadReadTimeoutError, InternalError, renderSyntheticResponse, rescue } from "./proxy-errors.ts";
import type { ConnInfo } from "./request-ctx.ts";
import type { ServerEnv } from "./server-env.ts";
import { Tunnel } from "./tunnel.ts";
import type { UpstreamConnection } from "./upstream-connection.ts";
import type { EndpointPool } from "./upstream-pool.ts";
import { WriteQueue } from "./write-queue.ts";
import type { ClientSocketState } from "./client-sockets.ts";
import { ownListeners } from "./own-listeners.ts";
import { type TransportRow, errnoNameOf, httpTransport } from "../metrics/transport.ts";

/** `socket.data` of client sockets. */
export type ConnState = ClientSocketState<ServerConnection>;

export class ServerConnection {
  readonly writer = new WriteQueue();
  current: Exchange | null = null;
  private tunnel: Tunnel | null = null;
  /** Unparsed client bytes: a partial head, or pipelined requests waiting for the current response. */
  private inBuf: Buffer | null = null;
  /**
   * Spare capacity behind inBuf while bytes accumulate, so a head or pipeline trickled one byte per
   * packet costs O(n), not O(n²) copies. Dropped whenever inBuf is handed to a parse (an exchange may
   * keep referencing those bytes).
   */
  private inCap: Buffer | null = null;
  /** inBuf holds an incomplete head: re-parse only once a LF arrives (a head ends with one). */
  private inBufIsPartialHead = false;
  private pauseMask = 0;
  private parsing = false;
  private closing = false;
  private closingSinceMs = 0;
  private clientEnded = false;
  closed = false;
  private lastActiveMs: number;
  /** When the head being read started; -1 when not reading a head. */
  private headStartMs = -1;
  requests = 0;
  private cachedEndpoint: EndpointPool | null = null;
  private readonly requestFields: number[] = [];
  /** The filters' state slots, for the chain they were made for; reset per exchange, not re-allocated. */
  private slotsChain: FilterChain | null = null;
  private slots: (FilterState | undefined)[] = [];
  /**
   * Synthetic responses carry `l5d-proxy-error` and error text: outbound (the client is the local
   * app) always, inbound only for meshed clients (linkerd-behavior §4.2).
   */
  readonly informationalErrors: boolean;

  constructor(
    readonly socket: Socket<ConnState>,
    readonly info: ConnInfo,
    readonly env: ServerEnv,
    private readonly transport: TransportRow,
  ) {
    this.lastActiveMs = env.nowMs();
    this.writer.counter = transport;
    this.informationalErrors = info.direction === "outbound" || info.clientIdentity !== undefined;
  }

  // === socket events ===

  onData(data: Buffer): void {
    this.transport.readBytes += data.length;
    try {
      this.handleData(data);
    } catch (err) {
      this.internalError(err);
    }
  }

  private handleData(data: Buffer): void {
    if (this.closing || this.closed) return;
    if (this.tunnel !== null) {
      this.tunnel.fromClient(data, 0);
      return;
    }
    const ex = this.current;
    if (ex !== null) {
      let rest = 0;
      if (!ex.reqComplete) {
        rest = ex.feedRequestBody(data, 0);
        if (rest >= data.length || this.closing) return;
      }
      this.stash(rest === 0 ? data : data.subarray(rest));
      return;
    }
    this.parse(data);
  }

  onDrain(): void {
    if (!this.writer.flush(this.socket as Socket<unknown>)) return;
    if (this.closing) {
      this.socket.end();
      return;
    }
    this.current?.onClientDrain();
    this.tunnel?.onClientDrain();
  }

  onEnd(): void {
    this.clientEnded = true;
    if (this.tunnel !== null) {
      this.tunnel.onClientEnded();
    } else if (this.current === null) {
      this.closeAfterFlush();
    } else if (!this.current.reqComplete) {
      // FIN in the middle of a request body: the request can never complete.
      this.current.onClientClosed();
      this.closeAfterFlush();
    }
  }

  onClose(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    httpTransport.close(this.transport, errnoNameOf(err));
    this.writer.clear();
    this.current?.onClientClosed();
    this.current = null;
    this.tunnel?.onClientClosed();
    this.env.connectionClosed(this);
  }

  // === request heads ===

  private stash(data: Buffer): void {
    this.append(data);
    if (this.inBuf!.length > this.env.opts.maxPipelinedBytes) this.pauseReading(PAUSE_PIPELINE);
  }

  /** Appends to inBuf, growing a private backing buffer geometrically. */
  private append(data: Buffer): void {
    const cur = this.inBuf;
    if (cur === null) {
      this.inBuf = data;
      this.inCap = null;
      return;
    }
    const len = cur.length + data.length;
    let cap = this.inCap;
    // Only grow in place when inBuf is still the prefix view of the backing buffer.
    if (cap !== null && (cur.buffer !== cap.buffer || cur.byteOffset !== cap.byteOffset)) cap = null;
    if (cap === null || cap.length < len) {
      const grown = Buffer.allocUnsafe(Math.max(len, cur.length * 2, 4096));
      cur.copy(grown, 0);
      cap = grown;
      this.inCap = grown;
    }
    data.copy(cap, cur.length);
    this.inBuf = cap.subarray(0, len);
  }

  private parse(data: Buffer): void {
    let buf = data;
    if (this.inBuf !== null) {
      if (this.inBufIsPartialHead && data.indexOf(10) < 0) {
        // No line ended: the head cannot be complete yet; only enforce the size limit.
        this.append(data);
        if (this.inBuf!.length > this.env.opts.maxHeadBytes) {
          this.inBufIsPartialHead = false;
          this.parse(Buffer.alloc(0));
        }
        return;
      }
      this.append(data);
      buf = this.inBuf!;
      this.inBuf = null;
      this.inCap = null;
    }
    this.inBufIsPartialHead = false;
    const env = this.env;
    this.parsing = true;
    let pos = 0;
    try {
      while (pos < buf.length && this.current === null && this.tunnel === null && !this.closing) {
        if (this.headStartMs < 0) this.headStartMs = env.coarseNowMs;
        // One field array per connection: its exchanges run one at a time (ctx is invalid after onComplete).
        const head = parseRequestHead(buf, pos, env.limits, this.requestFields);
        if (head === null) {
          this.inBuf = pos === 0 ? buf : buf.subarray(pos);
          this.inBufIsPartialHead = true;
          return;
        }
        if (head instanceof ProxyError) {
          this.reject(head);
          return;
        }
        this.headStartMs = -1;
        this.requests++;
        const chain = env.chain.get();
        if (chain !== this.slotsChain) {
          this.slotsChain = chain;
          this.slots = chain.newSlots();
        }
        const ex = new Exchange(this, env, head, chain, this.slots);
        this.current = ex;
        pos = ex.start(head.end);
      }
      if (pos < buf.length && !this.closing) {
        if (this.tunnel !== null) this.tunnel.fromClient(buf, pos);
        else this.stash(pos === 0 ? buf : buf.subarray(pos));
      }
    } finally {
      this.parsing = false;
    }
  }

  /** Answers a request the proxy refuses before any exchange exists (400/431/408) and closes. */
  private reject(err: ProxyError): void {
    const syn = rescue(err);
    const bytes = renderSyntheticResponse(syn, {
      closeConnection: true,
      keepAliveHeader: false,
      informational: this.informationalErrors,
    });
    this.inBuf = null;
    this.writeToClient(bytes, 0, bytes.length, true);
    this.closeAfterFlush();
  }

  private internalError(err: unknown): void {
    const wrapped = err instanceof ProxyError ? err : new InternalError("unexpected error", { cause: err });
    const ex = this.current;
    if (ex !== null && !ex.finished) ex.fail(wrapped);
    else if (!this.closing) this.reject(wrapped);
    this.closeAfterFlush();
  }

  // === called by the exchange and the tunnel ===

  /**
   * Whether host names one of meshlet's listeners at this connection's port, in any spelling (loop
   * detection before any lookup; the pool checks resolved names and other ports before dialing).
   */
  isOwnAddress(host: string): boolean {
    return ownListeners.isOwn(host, this.socket.localPort, this.socket);
  }

  /** The pool of this connection's fixed destination, cached (a Map lookup and key string per request saved). */
  dstEndpoint(): EndpointPool {
    let ep = this.cachedEndpoint;
    if (ep === null || ep.retired) {
      const dst = this.info.dst!;
      ep = this.env.pool.endpoint(dst.host, dst.port);
      this.cachedEndpoint = ep;
    }
    return ep;
  }

  writeToClient(data: Uint8Array, start: number, end: number, owned: boolean): boolean {
    if (this.closed) return true;
    return this.writer.write(this.socket as Socket<unknown>, data, start, end, owned);
  }

  exchangeDone(ex: Exchange, closeAfter: boolean): void {
    if (this.current !== ex) return;
    this.current = null;
    this.resumeReading(PAUSE_WAIT_UPSTREAM | PAUSE_UPSTREAM_FULL);
    if (this.closed || this.tunnel !== null) return;
    this.lastActiveMs = this.env.coarseNowMs;
    if (closeAfter || this.env.draining || this.clientEnded) {
      this.closeAfterFlush();
      return;
    }
    this.resumeReading(PAUSE_PIPELINE);
    if (!this.parsing && this.inBuf !== null) {
      const next = this.inBuf;
      this.inBuf = null;
      this.parse(next);
    }
  }

  startTunnel(upstream: UpstreamConnection): void {
    const tunnel = new Tunnel(this, upstream);
    this.tunnel = tunnel;
    this.resumeReading(PAUSE_WAIT_UPSTREAM | PAUSE_UPSTREAM_FULL | PAUSE_PIPELINE);
    const early = this.inBuf;
    this.inBuf = null;
    if (early !== null) tunnel.fromClient(early, 0);
  }

  pauseReading(reason: number): void {
    if (this.pauseMask === 0 && !this.closed) this.socket.pause();
    this.pauseMask |= reason;
  }

  resumeReading(reason: number): void {
    if ((this.pauseMask & reason) === 0) return;
    this.pauseMask &= ~reason;
    if (this.pauseMask === 0 && !this.closed) this.socket.resume();
  }

  pauseForTunnel(): void {
    this.pauseReading(PAUSE_TUNNEL);
  }

  resumeForTunnel(): void {
    this.resumeReading(PAUSE_TUNNEL);
  }

  /** Stops taking requests; sends FIN once queued bytes are written. */
  closeAfterFlush(): void {
    if (this.closed) return;
    if (!this.closing) {
      this.closing = true;
      this.closingSinceMs = this.env.nowMs();
      this.inBuf = null;
    }
    if (!this.writer.pending) this.socket.end();
  }

  /** The response cannot be completed: close so the client sees a truncated response, not a hang. */
  abort(): void {
    this.closeAfterFlush();
  }

  // === timeouts (driven by the server's sweep) ===

  sweep(nowMs: number): void {
    if (this.closed) return;
    const opts = this.env.opts;
    if (this.closing) {
      if (nowMs - this.closingSinceMs > DEFAULT_CLOSE_LINGER_MS) this.socket.terminate();
      return;
    }
    if (this.tunnel !== null || this.current !== null) return;
    if (this.headStartMs >= 0) {
      if (nowMs - this.headStartMs > opts.headReadTimeoutMs) this.reject(new HeadReadTimeoutError(opts.headReadTimeoutMs));
      return;
    }
    if (nowMs - this.lastActiveMs > opts.clientIdleTimeoutMs) this.closeAfterFlush();
  }

  /** Graceful drain: close now if idle; otherwise the current exchange's end closes it. */
  drainIfIdle(): void {
    if (this.current === null && this.tunnel === null && this.inBuf === null) this.closeAfterFlush();
  }

  forceClose(): void {
    if (!this.closed) this.socket.terminate();
  }
}
