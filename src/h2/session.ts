// An HTTP/2 connection as a transport-agnostic state machine (RFC 9113), client or server role: bytes
// in through receive(), bytes out through the `write` callback, events out through a handler. It owns
// the preface and SETTINGS exchange, PING, GOAWAY, stream states, HEADERS+CONTINUATION assembly with
// HPACK, message validation and flow control both ways. No sockets, no timers of its own (injected).
//
// Public API (each call writes what it produced through `write` before returning, in one write; calls
// made from inside a handler, or inside batch(fn), are written together when the outermost call ends;
// with `onOutput` the session instead signals once and the owner pulls the bytes with takeOutput()):
//   new H2Session({ role, write, handler, settings?, connectionWindowBytes?, settingsAckTimeoutMs?, timers?,
//                   abuseLimits?, nowMs?, isBacklogged?, gracefulGoawayTimeoutMs?, onOutput? })
//   receive(bytes)                      feed bytes from the transport (never throws)
//   request(headers, endStream?, ni?, owner?) → id  client: open a stream (throws H2Error REFUSED_STREAM when none may open)
//   setOwner(id, owner) / owners()      what the stream's events carry back (the proxy's exchange); the open ones'
//   respond(id, headers, endStream?, ni?)   server: response head (1xx heads may come first)
//   sendData(id, bytes, endStream?)     queue DATA; sent as the peer's windows allow (see queuedBytes)
//   sendTrailers(id, headers, ni?)      trailers with END_STREAM, after the queued DATA
//   (ni: names to encode never-indexed in that block — what onHeaders reported, when forwarding it)
//   end(id)                             END_STREAM with no more data
//   consume(id, n)                      the handler is done with n delivered DATA bytes: return credit
//   reset(id, code?)                    RST_STREAM
//   ping(payload?) / goaway(code?, debug?) / goawayGracefully() / close() / batch(fn)
// Events (SessionHandler): onHeaders (kind request | response | informational | trailers), onData,
// onEnd, onReset, onClose, onWritable, onGoaway, onGoawaySent, onPingAck, onSettings, onError (connection error).
//
// Flow control: received DATA takes from the stream's and the connection's receive windows, and both
// are given back only through consume(). The default connection window is the sum of all stream windows
// (maxConcurrentStreams × initialWindowBytes), so a stream whose reader stalls holds at most its own
// window and never stops the others; memory per connection stays bounded by that sum. Bytes sent with
// sendData() are kept by reference until written (do not reuse them); DATA views handed to onData stay
// valid only as long as the chunk given to receive() (copy them to keep them). consume() also works after
// the stream closed; a reset stream's unconsumed bytes are credited back at once.
// Header lists are flat arrays: [name0, value0, name1, value1, …], names lowercase.
import { abuseError, DEFAULT_ABUSE_LIMITS, type H2AbuseLimits, RateBucket } from "./abuse-limits.ts";
import { ClosedStreams } from "./closed-streams.ts";
import { connectionError, H2_ERROR, H2Error, streamError } from "./errors.ts";
import {
  CLIENT_PREFACE,
  DEFAULT_WINDOW_BYTES,
  FLAG,
  FRAME,
  MAX_STREAM_ID,
  MAX_WINDOW_BYTES,
  SETTING,
} from "./frame-types.ts";
import { forEachSetting, type FrameSink, FrameReader, type FrameView } from "./frames-reader.ts";
import { FrameOutput } from "./frame-output.ts";
import { goawayFrame, pingFrame, settingsAckFrame, settingsFrame, windowUpdateFrame } from "./frames-writer.ts";
import { type CheckedHead, checkRequest, checkResponse, checkTrailers, type HeaderBlockKind } from "./header-validation.ts";
import { HpackDecoder } from "./hpack-decoder.ts";
import { HpackEncoder } from "./hpack-encoder.ts";
import { H2Stream, NO_QUEUED_DATA } from "./session-stream.ts";
import { applySettings, DEFAULT_LOCAL_SETTINGS, type H2Settings, initialPeerSettings, settingsPairs } from "./settings.ts";

export type H2Role = "client" | "server";

/**
 * Events out of a session. Every method is optional; all run synchronously inside the call that caused them.
 * Stream events pass the stream's owner last (request()'s or setOwner()'s; undefined when none), so the
 * user needs no map of its own from stream ids to its objects.
 */
export interface SessionHandler {
  /**
   * A header block: a request (server), a response or 1xx (client), or trailers (both). `neverIndexed`:
   * the names the peer sent as never-indexed literals (RFC 7541 §7.1.3), null when none; a proxy passes
   * them to request/respond/sendTrailers so the next hop gets them never-indexed too.
   */
  onHeaders?(streamId: number, headers: string[], kind: HeaderBlockKind, endStream: boolean, neverIndexed: readonly string[] | null, owner: unknown): void;
  /** DATA bytes (a view, valid while the input chunk is); report them with consume() once done with them. */
  onData?(streamId: number, data: Uint8Array, endStream: boolean, owner: unknown): void;
  /** The peer ended its side of the stream (after the onHeaders/onData that carried END_STREAM). */
  onEnd?(streamId: number): void;
  /** The stream was reset: by the peer (`byPeer`) or by this session (stream error, GOAWAY, reset()). */
  onReset?(streamId: number, code: number, byPeer: boolean, owner: unknown): void;
  /** The stream is closed and forgotten; its id may be reused by nobody. */
  onClose?(streamId: number, owner: unknown): void;
  /** Everything queued on the stream has been sent: the producer may send more. */
  onWritable?(streamId: number, owner: unknown): void;
  /** The peer sent GOAWAY; streams we opened above `lastStreamId` were reset with REFUSED_STREAM (retryable). */
  onGoaway?(lastStreamId: number, code: number, debug: Uint8Array): void;
  /** A PING we sent came back. */
  onPingAck?(payload: Uint8Array): void;
  /** We sent a GOAWAY with a real last-stream-id (goaway(), or the second of goawayGracefully()). */
  onGoawaySent?(lastStreamId: number): void;
  /** The peer's SETTINGS (after they were applied and acknowledged). */
  onSettings?(peer: Readonly<H2Settings>): void;
  /** A connection error: GOAWAY was written and the session is dead; close the transport after the write. */
  onError?(err: H2Error): void;
}

/** Timer functions (injected so tests run on a fake clock). */
export interface H2Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: H2Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface SessionOptions {
  role: H2Role;
  /** Bytes to send to the peer, in order (one call per flush). */
  write(bytes: Uint8Array): void;
  handler?: SessionHandler;
  /** What we advertise; defaults: DEFAULT_LOCAL_SETTINGS. */
  settings?: Partial<H2Settings>;
  /** Our connection receive window; default maxConcurrentStreams × initialWindowBytes (≤ 2^31-1). */
  connectionWindowBytes?: number;
  /** How long the peer has to acknowledge our SETTINGS before SETTINGS_TIMEOUT; 0 disables. Default 10 s. */
  settingsAckTimeoutMs?: number;
  timers?: H2Timers;
  /** Bound on one compressed header block (HEADERS + CONTINUATIONs); default maxHeaderListBytes + maxFrameBytes. */
  maxHeaderBlockBytes?: number;
  /** goawayGracefully(): how long the PING ACK may take before the final GOAWAY goes anyway. Default 1 s (as Go's server). */
  gracefulGoawayTimeoutMs?: number;
  /** Abuse bounds (abuse-limits.ts); a breach is GOAWAY(ENHANCE_YOUR_CALM) with `H2Error.abuse` set. */
  abuseLimits?: Partial<H2AbuseLimits>;
  /** Milliseconds on a monotonic clock, for the abuse rate buckets; default performance.now. */
  nowMs?: () => number;
  /** Whether the transport still holds bytes we wrote (the peer is not reading); default never. */
  isBacklogged?: () => boolean;
  /**
   * Pull mode: instead of calling `write` whenever a call produced bytes, the session calls this once
   * (until takeOutput() is next called) and keeps the bytes; the owner takes them all with takeOutput()
   * when it writes (e.g. once per event-loop callback: corked-writer.ts). `write` is then not called.
   */
  onOutput?: () => void;
}

/** Closed streams whose delivered bytes are still unconsumed, remembered at most (then credited back). */
const LINGERING_MEMORY = 256;
/** CONTINUATION frames allowed in one header block (a flood of empty ones is ENHANCE_YOUR_CALM). */
const MAX_BLOCK_FRAMES = 64;

const EMPTY = new Uint8Array(0);

export class H2Session {
  readonly role: H2Role;
  readonly local: Readonly<H2Settings>;
  readonly peer: H2Settings = initialPeerSettings();
  private readonly handler: SessionHandler;
  private readonly writeOut: (bytes: Uint8Array) => void;
  private readonly onOutput: (() => void) | null;
  /** Pull mode: onOutput() was called and takeOutput() has not been since. */
  private outputSignalled = false;
  private readonly timers: H2Timers;
  private readonly reader = new FrameReader();
  private readonly decoder: HpackDecoder;
  private readonly encoder = new HpackEncoder();
  private readonly streams = new Map<number, H2Stream>();
  /** Recently closed streams and whether we reset them (frames on those are then ignored rather than errors). */
  private readonly closed = new ClosedStreams();
  /** Closed streams whose delivered bytes were not all consumed yet: id → bytes still to be reported. */
  private readonly lingering = new Map<number, number>();
  private readonly sendable = new Set<H2Stream>();
  private readonly outstandingPings: Buffer[] = [];
  private readonly maxHeaderBlockBytes: number;
  private readonly limits: H2AbuseLimits;
  private readonly nowMs: () => number;
  private readonly isBacklogged: () => boolean;
  private readonly rapidResets: RateBucket;
  private readonly pings: RateBucket;
  private readonly settingsFrames: RateBucket;
  private localErrorResets = 0;
  private unreadControlAnswers = 0;
  private emptyFramesInARow = 0;

  private prefaceBytesLeft: number;
  private awaitingPeerSettings = true;
  private localSettingsAcked = false;
  private settingsTimer: unknown = null;
  private readonly gracefulGoawayTimeoutMs: number;
  /** goawayGracefully(): the PING whose ACK sends the final GOAWAY, and its fallback timer. */
  private gracefulPing: Buffer | null = null;
  private gracefulTimer: unknown = null;

  private highestPeerStreamId = 0;
  private nextLocalStreamId: number;
  private peerOpenStreams = 0;
  private localOpenStreams = 0;

  private connSendWindow = DEFAULT_WINDOW_BYTES;
  private connRecvWindow = DEFAULT_WINDOW_BYTES;
  private readonly connWindowBytes: number;
  private connPendingCredit = 0;

  /** Header block being assembled from HEADERS + CONTINUATION (0 = none). */
  private blockStreamId = 0;
  private blockChunks: Uint8Array[] = [];
  private blockBytes = 0;
  private blockEndStream = false;
  private blockSelfDependent = false;

  private goawaySentLastId = -1;
  private goawayReceivedLastId = -1;
  private dead = false;
  /** Frames produced and not yet written (flushed when the outermost call ends). */
  private readonly output = new FrameOutput();
  private pingCounter = 0;
  /** >0 while inside receive() or batch(): writes wait for the outermost call to end. */
  private batchDepth = 0;
  private readonly head: CheckedHead = { contentLength: -1, method: "", status: 0, pseudo: {} };
  private readonly sink: FrameSink = { frame: (f) => this.onFrame(f), streamError: (e) => this.onStreamError(e) };

  constructor(opts: SessionOptions) {
    this.role = opts.role;
    this.handler = opts.handler ?? {};
    this.writeOut = opts.write;
    this.onOutput = opts.onOutput ?? null;
    this.timers = opts.timers ?? REAL_TIMERS;
    const local: H2Settings = { ...DEFAULT_LOCAL_SETTINGS, ...opts.settings };
    if (this.role === "client") local.enablePush = false;
    this.local = local;
    this.decoder = new HpackDecoder(local.headerTableBytes, local.maxHeaderListBytes);
    this.reader.maxFrameBytes = local.maxFrameBytes;
    this.maxHeaderBlockBytes = opts.maxHeaderBlockBytes ?? local.maxHeaderListBytes + local.maxFrameBytes;
    const limits: H2AbuseLimits = { ...DEFAULT_ABUSE_LIMITS, ...opts.abuseLimits };
    this.limits = limits;
    this.nowMs = opts.nowMs ?? performance.now.bind(performance);
    this.isBacklogged = opts.isBacklogged ?? (() => false);
    this.gracefulGoawayTimeoutMs = opts.gracefulGoawayTimeoutMs ?? 1000;
    this.rapidResets = new RateBucket(limits.rapidResetBurst, limits.rapidResetPerSecond);
    this.pings = new RateBucket(limits.pingBurst, limits.pingPerSecond);
    this.settingsFrames = new RateBucket(limits.settingsBurst, limits.settingsPerSecond);
    this.prefaceBytesLeft = this.role === "server" ? CLIENT_PREFACE.length : 0;
    this.nextLocalStreamId = this.role === "client" ? 1 : 2;
    this.connWindowBytes = Math.min(MAX_WINDOW_BYTES, opts.connectionWindowBytes ?? Math.max(DEFAULT_WINDOW_BYTES, local.maxConcurrentStreams * local.initialWindowBytes));

    if (this.role === "client") this.queue(CLIENT_PREFACE);
    this.queue(settingsFrame(settingsPairs(local, this.role === "client")));
    if (this.connWindowBytes > DEFAULT_WINDOW_BYTES) {
      this.queue(windowUpdateFrame(0, this.connWindowBytes - DEFAULT_WINDOW_BYTES));
      this.connRecvWindow = this.connWindowBytes;
    }
    const ackTimeoutMs = opts.settingsAckTimeoutMs ?? 10_000;
    if (ackTimeoutMs > 0) {
      this.settingsTimer = this.timers.set(() => {
        this.settingsTimer = null;
        if (!this.localSettingsAcked) this.fail(connectionError(H2_ERROR.SETTINGS_TIMEOUT, `SETTINGS not acknowledged within ${ackTimeoutMs} ms`));
        this.flush();
      }, ackTimeoutMs);
    }
    this.flush();
  }

  // ------------------------------------------------------------------ queries

  /** The session ended (connection error, or close()). */
  get isDead(): boolean {
    return this.dead;
  }

  /** Streams open or half-closed. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** How many more streams request() may open now. */
  get availableStreams(): number {
    if (this.dead || this.goawayReceivedLastId >= 0 || this.nextLocalStreamId > MAX_STREAM_ID) return 0;
    return Math.max(0, this.peer.maxConcurrentStreams - this.localOpenStreams);
  }

  /** Attaches `owner` to an open stream (its later events carry it); returns the owner it had (undefined: none, or no such stream). */
  setOwner(streamId: number, owner: unknown): unknown {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return undefined;
    const had = stream.owner;
    stream.owner = owner;
    return had;
  }

  /** The owners of the open streams that have one. */
  owners(): unknown[] {
    const out: unknown[] = [];
    for (const stream of this.streams.values()) if (stream.owner !== undefined) out.push(stream.owner);
    return out;
  }

  /** DATA bytes queued on a stream waiting for window (0 for unknown streams). */
  queuedBytes(streamId: number): number {
    return this.streams.get(streamId)?.queuedBytes ?? 0;
  }

  /** DATA bytes delivered on a stream and not yet consumed. */
  unconsumedBytes(streamId: number): number {
    return this.streams.get(streamId)?.unconsumed ?? this.lingering.get(streamId) ?? 0;
  }

  /** Our remaining send window on a stream and on the connection (for tests and diagnostics). */
  sendWindow(streamId = 0): number {
    return streamId === 0 ? this.connSendWindow : (this.streams.get(streamId)?.sendWindow ?? 0);
  }

  /** How much more DATA the peer may send on a stream (0 = the connection). */
  receiveWindow(streamId = 0): number {
    return streamId === 0 ? this.connRecvWindow : (this.streams.get(streamId)?.recvWindow ?? 0);
  }

  /** Bytes held by the frame reader waiting for the rest of a frame, plus a header block in assembly. */
  get bufferedBytes(): number {
    return this.reader.bufferedBytes + this.blockBytes;
  }

  // ------------------------------------------------------------------ input

  /** Feeds bytes from the transport. Never throws: protocol errors become GOAWAY / RST_STREAM. */
  receive(bytes: Uint8Array): void {
    if (this.dead) return;
    this.batchDepth++; // what the handlers send while we parse leaves in one write with our own frames
    try {
      let chunk = bytes;
      if (this.prefaceBytesLeft > 0) chunk = this.matchPreface(chunk);
      if (chunk.length > 0) this.reader.push(chunk, this.sink);
    } catch (err) {
      this.fail(err);
    } finally {
      this.batchDepth--;
    }
    this.flush();
  }

  /** Runs `fn` (several session calls) and writes what they produced in one `write`. */
  batch<T>(fn: () => T): T {
    this.batchDepth++;
    try {
      return fn();
    } finally {
      this.batchDepth--;
      this.flush();
    }
  }

  private matchPreface(chunk: Uint8Array): Uint8Array {
    const offset = CLIENT_PREFACE.length - this.prefaceBytesLeft;
    const n = Math.min(this.prefaceBytesLeft, chunk.length);
    for (let i = 0; i < n; i++) {
      if (chunk[i] !== CLIENT_PREFACE[offset + i]) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "invalid connection preface");
    }
    this.prefaceBytesLeft -= n;
    return chunk.subarray(n);
  }

  /** One validated frame. Stream errors reset the stream; connection errors propagate to receive(). */
  private onFrame(f: FrameView): void {
    try {
      this.dispatch(f);
    } catch (err) {
      if (err instanceof H2Error && err.scope === "stream") this.onStreamError(err);
      else throw err;
    }
  }

  /** A stream error found while parsing, or raised while handling a frame: RST_STREAM (§5.4.2). */
  private onStreamError(err: H2Error): void {
    const id = err.streamId;
    if (this.isIdle(id)) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `${err.reason} (on idle stream ${id})`);
    if (++this.localErrorResets > this.limits.localErrorResets) {
      throw abuseError("local_reset", `more than ${this.limits.localErrorResets} streams reset for the peer's errors`);
    }
    this.resetStream(id, err.code);
  }

  private dispatch(f: FrameView): void {
    if (this.awaitingPeerSettings) {
      if (f.type !== FRAME.SETTINGS || f.has(FLAG.ACK)) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "the first frame from the peer must be SETTINGS");
      this.awaitingPeerSettings = false;
    }
    if (this.blockStreamId !== 0) {
      if (f.type !== FRAME.CONTINUATION || f.streamId !== this.blockStreamId) {
        throw connectionError(H2_ERROR.PROTOCOL_ERROR, `frame type ${f.type} on stream ${f.streamId} inside the header block of stream ${this.blockStreamId}`);
      }
      this.onContinuation(f);
      return;
    }
    switch (f.type) {
      case FRAME.DATA:
        return this.onDataFrame(f);
      case FRAME.HEADERS:
        this.emptyFramesInARow = 0;
        return this.onHeadersFrame(f);
      case FRAME.PRIORITY:
        return; // RFC 9113 §5.3.2: priority signals are advisory; this codec does not prioritize.
      case FRAME.RST_STREAM:
        return this.onRstStream(f);
      case FRAME.SETTINGS:
        return this.onSettingsFrame(f);
      case FRAME.PUSH_PROMISE:
        // A server never receives it (§8.4); a client of this codec always sends ENABLE_PUSH=0 (§6.6).
        throw connectionError(H2_ERROR.PROTOCOL_ERROR, this.role === "server" ? "PUSH_PROMISE from a client" : "PUSH_PROMISE although push is disabled");
      case FRAME.PING:
        return this.onPing(f);
      case FRAME.GOAWAY:
        return this.onGoawayFrame(f);
      case FRAME.WINDOW_UPDATE:
        return this.onWindowUpdate(f);
      case FRAME.CONTINUATION:
        throw connectionError(H2_ERROR.PROTOCOL_ERROR, "CONTINUATION without a preceding HEADERS");
      default:
        this.countEmptyFrame(); // unknown frame types are ignored (RFC 9113 §5.5), but not without bound
        return;
    }
  }

  /** A stream id nobody has opened yet (RFC 9113 §5.1 idle). */
  private isIdle(id: number): boolean {
    if (this.streams.has(id)) return false;
    const peerParity = (id & 1) === (this.role === "server" ? 1 : 0);
    return peerParity ? id > this.highestPeerStreamId : id >= this.nextLocalStreamId;
  }

  private onHeadersFrame(f: FrameView): void {
    const endStream = f.has(FLAG.END_STREAM);
    if (f.has(FLAG.END_HEADERS)) {
      this.headerBlock(f.streamId, f.payload, endStream, f.selfDependent);
      return;
    }
    this.blockStreamId = f.streamId;
    this.blockChunks = [f.payload.slice()];
    this.blockBytes = f.payload.length;
    this.blockEndStream = endStream;
    this.blockSelfDependent = f.selfDependent;
    this.checkBlockBounds();
  }

  private onContinuation(f: FrameView): void {
    this.blockChunks.push(f.payload.slice());
    this.blockBytes += f.payload.length;
    this.checkBlockBounds();
    if (!f.has(FLAG.END_HEADERS)) return;
    const block = Buffer.concat(this.blockChunks, this.blockBytes);
    const id = this.blockStreamId;
    this.blockStreamId = 0;
    this.blockChunks = [];
    this.blockBytes = 0;
    this.headerBlock(id, block, this.blockEndStream, this.blockSelfDependent);
  }

  private checkBlockBounds(): void {
    if (this.blockBytes > this.maxHeaderBlockBytes) {
      throw abuseError("continuation_flood", `header block exceeds ${this.maxHeaderBlockBytes} bytes`);
    }
    if (this.blockChunks.length > MAX_BLOCK_FRAMES) {
      throw abuseError("continuation_flood", `header block split over more than ${MAX_BLOCK_FRAMES} frames`);
    }
  }

  /** A complete header block: decode it first (the HPACK state must advance whatever happens next). */
  private headerBlock(id: number, block: Uint8Array, endStream: boolean, selfDependent: boolean): void {
    const headers: string[] = [];
    const { tooLarge } = this.decoder.decode(block, headers);
    let stream = this.streams.get(id);
    if (stream === undefined) {
      const peerParity = (id & 1) === (this.role === "server" ? 1 : 0);
      if (this.role === "client" || !peerParity) {
        // Only a server sees new streams (no push here): anything else is idle or closed.
        if (this.isIdle(id)) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `HEADERS on idle stream ${id}`);
        return this.onClosedStreamFrame(id, "HEADERS");
      }
      if (id <= this.highestPeerStreamId) {
        if (this.closed.has(id)) return this.onClosedStreamFrame(id, "HEADERS");
        throw connectionError(H2_ERROR.PROTOCOL_ERROR, `stream ${id} is not above the previous stream ${this.highestPeerStreamId}`);
      }
      this.highestPeerStreamId = id;
      if (this.goawaySentLastId >= 0 && id > this.goawaySentLastId) {
        this.rememberClosed(id, true); // §6.8: ignored after our GOAWAY, and so are its later frames
        return;
      }
      if (this.peerOpenStreams >= this.local.maxConcurrentStreams) {
        throw streamError(id, H2_ERROR.REFUSED_STREAM, `MAX_CONCURRENT_STREAMS ${this.local.maxConcurrentStreams} reached`);
      }
      if (selfDependent) throw streamError(id, H2_ERROR.PROTOCOL_ERROR, "stream depends on itself");
      if (tooLarge) return this.answerHeaderListTooLarge(id, endStream);
      checkRequest(id, headers, this.head);
      stream = new H2Stream(id, true, this.peer.initialWindowBytes, this.recvInitialWindow());
      stream.headReceived = true;
      stream.contentLength = this.head.contentLength;
      this.streams.set(id, stream);
      this.peerOpenStreams++;
      this.deliverHead(stream, headers, "request", endStream);
      return;
    }
    if (!stream.remoteOpen) throw streamError(id, H2_ERROR.STREAM_CLOSED, "HEADERS after END_STREAM");
    if (selfDependent) throw streamError(id, H2_ERROR.PROTOCOL_ERROR, "stream depends on itself");
    if (tooLarge) throw streamError(id, H2_ERROR.PROTOCOL_ERROR, `header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE ${this.local.maxHeaderListBytes}`);
    if (stream.headReceived) {
      if (!endStream) throw streamError(id, H2_ERROR.PROTOCOL_ERROR, "malformed message: trailers without END_STREAM");
      checkTrailers(id, headers, this.head.pseudo);
      this.deliverHead(stream, headers, "trailers", true);
      return;
    }
    // Client: a response head, possibly 1xx first.
    checkResponse(id, headers, this.head);
    const status = this.head.status;
    if (status < 200) {
      if (endStream) throw streamError(id, H2_ERROR.PROTOCOL_ERROR, "malformed message: 1xx response with END_STREAM");
      this.deliverHead(stream, headers, "informational", false);
      return;
    }
    stream.headReceived = true;
    stream.contentLength = stream.headRequest || status === 204 || status === 304 ? -1 : this.head.contentLength;
    this.deliverHead(stream, headers, "response", endStream);
  }

  /**
   * A request whose header list is over our SETTINGS_MAX_HEADER_LIST_SIZE: answered 431 here, as hyper/h2
   * does (RFC 9113 §10.5.1 allows 431 or a reset); the handler never sees the stream. A request still
   * sending is then reset with NO_ERROR (§8.1). Counted with the resets for the peer's errors.
   */
  private answerHeaderListTooLarge(id: number, endStream: boolean): void {
    if (++this.localErrorResets > this.limits.localErrorResets) {
      throw abuseError("local_reset", `more than ${this.limits.localErrorResets} streams refused for the peer's errors`);
    }
    const stream = new H2Stream(id, true, this.peer.initialWindowBytes, this.recvInitialWindow());
    stream.headReceived = true;
    stream.remoteOpen = !endStream;
    this.streams.set(id, stream);
    this.peerOpenStreams++;
    this.writeHeaders(stream, [":status", "431"], true);
    if (stream.remoteOpen) this.resetStream(id, H2_ERROR.NO_ERROR);
  }

  private deliverHead(stream: H2Stream, headers: string[], kind: HeaderBlockKind, endStream: boolean): void {
    if (endStream) {
      if (stream.contentLength > 0 && stream.dataBytesReceived !== stream.contentLength) {
        throw streamError(stream.id, H2_ERROR.PROTOCOL_ERROR, `malformed message: content-length ${stream.contentLength} but ${stream.dataBytesReceived} DATA bytes`);
      }
      stream.remoteOpen = false;
    }
    const never = this.decoder.neverIndexed;
    this.handler.onHeaders?.(stream.id, headers, kind, endStream, never.length === 0 ? null : never.slice(), stream.owner);
    if (endStream) this.remoteEnded(stream);
  }

  private remoteEnded(stream: H2Stream): void {
    this.handler.onEnd?.(stream.id);
    this.closeIfDone(stream);
  }

  /** A DATA or HEADERS frame on a stream that is no longer open. */
  private onClosedStreamFrame(id: number, what: string): void {
    if (this.closed.wasResetByUs(id)) return; // §5.1: ignore frames that were in flight when we reset it
    throw connectionError(H2_ERROR.STREAM_CLOSED, `${what} on closed stream ${id}`);
  }

  private onDataFrame(f: FrameView): void {
    const id = f.streamId;
    const flowBytes = f.length;
    if (flowBytes > this.connRecvWindow) {
      throw connectionError(H2_ERROR.FLOW_CONTROL_ERROR, `DATA of ${flowBytes} bytes exceeds the connection window ${this.connRecvWindow}`);
    }
    this.connRecvWindow -= flowBytes;
    const stream = this.streams.get(id);
    if (stream === undefined) {
      this.creditConnection(flowBytes);
      if (this.isIdle(id)) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
      return this.onClosedStreamFrame(id, "DATA");
    }
    if (!stream.remoteOpen || !stream.headReceived) {
      this.creditConnection(flowBytes);
      if (!stream.remoteOpen) throw streamError(id, H2_ERROR.STREAM_CLOSED, "DATA after END_STREAM");
      throw streamError(id, H2_ERROR.PROTOCOL_ERROR, "malformed message: DATA before the response head");
    }
    if (flowBytes > stream.recvWindow) {
      this.creditConnection(flowBytes);
      throw streamError(id, H2_ERROR.FLOW_CONTROL_ERROR, `DATA of ${flowBytes} bytes exceeds the stream window ${stream.recvWindow}`);
    }
    stream.recvWindow -= flowBytes;
    const data = f.payload;
    const padding = flowBytes - data.length;
    if (padding > 0) {
      // Padding is never delivered, so it is consumed at once.
      stream.pendingCredit += padding;
      this.creditConnection(padding);
    }
    stream.dataBytesReceived += data.length;
    stream.unconsumed += data.length;
    const endStream = f.has(FLAG.END_STREAM);
    if (data.length > 0 || endStream) this.emptyFramesInARow = 0;
    else this.countEmptyFrame();
    if (stream.contentLength >= 0) {
      const n = stream.dataBytesReceived;
      if (n > stream.contentLength || (endStream && n !== stream.contentLength)) {
        throw streamError(id, H2_ERROR.PROTOCOL_ERROR, `malformed message: content-length ${stream.contentLength} but ${n}${endStream ? "" : "+"} DATA bytes`);
      }
    }
    if (endStream) stream.remoteOpen = false;
    if (data.length > 0 || endStream) this.handler.onData?.(id, data, endStream, stream.owner);
    if (padding > 0) this.returnStreamCredit(stream);
    if (endStream) this.remoteEnded(stream);
  }

  /** A frame that carries nothing (empty DATA without END_STREAM, an unknown type): bounded in a row. */
  private countEmptyFrame(): void {
    if (++this.emptyFramesInARow > this.limits.emptyFramesInARow) {
      throw abuseError("empty_frames", `more than ${this.limits.emptyFramesInARow} empty or unknown frames in a row`);
    }
  }

  /** A PING or SETTINGS ACK we are about to queue: bounded while the peer does not read what we wrote. */
  private countControlAnswer(kind: "ping_flood" | "settings_flood"): void {
    if (!this.isBacklogged()) {
      this.unreadControlAnswers = 0;
      return;
    }
    if (++this.unreadControlAnswers > this.limits.unreadControlAnswers) {
      throw abuseError(kind, `more than ${this.limits.unreadControlAnswers} control frames answered while the peer does not read`);
    }
  }

  private onRstStream(f: FrameView): void {
    const id = f.streamId;
    if (this.isIdle(id)) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
    const stream = this.streams.get(id);
    if (stream === undefined) return;
    if (stream.peerInitiated && !stream.headSent && !this.rapidResets.take(this.nowMs())) {
      // CVE-2023-44487: streams opened and cancelled faster than they are answered cost work for nothing.
      throw abuseError("rapid_reset", `more than ${this.limits.rapidResetBurst} streams reset by the peer before their response`);
    }
    this.forget(stream, false);
    this.handler.onReset?.(id, f.errorCode, true, stream.owner);
    this.handler.onClose?.(id, stream.owner);
  }

  private onSettingsFrame(f: FrameView): void {
    if (f.has(FLAG.ACK)) {
      if (this.localSettingsAcked) return;
      this.localSettingsAcked = true;
      if (this.settingsTimer !== null) this.timers.clear(this.settingsTimer);
      this.settingsTimer = null;
      // Our INITIAL_WINDOW_SIZE applies from the peer's ACK on (RFC 9113 §6.9.2).
      const delta = this.local.initialWindowBytes - DEFAULT_WINDOW_BYTES;
      if (delta !== 0) for (const s of this.streams.values()) s.recvWindow += delta;
      return;
    }
    if (this.role === "client") {
      forEachSetting(f.payload, (id, value) => {
        if (id === SETTING.ENABLE_PUSH && value !== 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "a server sent SETTINGS_ENABLE_PUSH = 1");
      });
    }
    if (!this.settingsFrames.take(this.nowMs())) {
      throw abuseError("settings_flood", `more than ${this.limits.settingsBurst} SETTINGS frames (refilled ${this.limits.settingsPerSecond}/s)`);
    }
    this.countControlAnswer("settings_flood");
    const oldWindow = this.peer.initialWindowBytes;
    applySettings(this.peer, f.payload);
    const delta = this.peer.initialWindowBytes - oldWindow;
    if (delta !== 0) {
      for (const s of this.streams.values()) {
        s.sendWindow += delta;
        if (s.sendWindow > MAX_WINDOW_BYTES) throw connectionError(H2_ERROR.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE change overflows stream ${s.id}'s window`);
      }
    }
    this.encoder.setPeerMaxTableBytes(this.peer.headerTableBytes);
    this.queue(settingsAckFrame());
    this.handler.onSettings?.(this.peer);
    if (delta > 0) this.sendQueuedData();
  }

  private onPing(f: FrameView): void {
    if (!f.has(FLAG.ACK)) {
      if (!this.pings.take(this.nowMs())) {
        throw abuseError("ping_flood", `more than ${this.limits.pingBurst} PINGs (refilled ${this.limits.pingPerSecond}/s)`);
      }
      this.countControlAnswer("ping_flood");
      this.queue(pingFrame(f.payload, true));
      return;
    }
    const i = this.outstandingPings.findIndex((p) => p.equals(f.payload));
    if (i < 0) return; // an ACK we did not ask for: nothing to match (RFC 9113 sets no error)
    const [payload] = this.outstandingPings.splice(i, 1);
    if (payload === this.gracefulPing) {
      this.finalGoaway();
      return;
    }
    this.handler.onPingAck?.(payload!);
  }

  private onGoawayFrame(f: FrameView): void {
    const last = f.lastStreamId;
    this.goawayReceivedLastId = this.goawayReceivedLastId < 0 ? last : Math.min(last, this.goawayReceivedLastId);
    const debug = f.payload.slice();
    for (const s of [...this.streams.values()]) {
      if (!s.peerInitiated && s.id > this.goawayReceivedLastId) {
        // Never processed by the peer: safe to retry elsewhere.
        this.forget(s, false);
        this.handler.onReset?.(s.id, H2_ERROR.REFUSED_STREAM, true, s.owner);
        this.handler.onClose?.(s.id, s.owner);
      }
    }
    this.handler.onGoaway?.(last, f.errorCode, debug);
  }

  private onWindowUpdate(f: FrameView): void {
    const id = f.streamId;
    const inc = f.windowIncrement;
    if (id === 0) {
      this.connSendWindow += inc;
      if (this.connSendWindow > MAX_WINDOW_BYTES) throw connectionError(H2_ERROR.FLOW_CONTROL_ERROR, "connection send window above 2^31-1");
    } else {
      const stream = this.streams.get(id);
      if (stream === undefined) {
        if (this.isIdle(id)) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
        return; // a closed stream: updates may still be in flight
      }
      stream.sendWindow += inc;
      if (stream.sendWindow > MAX_WINDOW_BYTES) throw streamError(id, H2_ERROR.FLOW_CONTROL_ERROR, "stream send window above 2^31-1");
    }
    this.sendQueuedData();
  }

  // ------------------------------------------------------------------ output API

  /** Client: opens a stream with a request head. Throws H2Error(REFUSED_STREAM) when no stream may open. */
  request(headers: string[], endStream = false, neverIndexed: readonly string[] | null = null, owner: unknown = undefined): number {
    if (this.role !== "client") throw new Error("request() is for client sessions");
    if (this.availableStreams === 0) {
      const why = this.dead ? "the session is closed" : this.goawayReceivedLastId >= 0 ? "the peer sent GOAWAY" : `the peer's MAX_CONCURRENT_STREAMS ${this.peer.maxConcurrentStreams} is reached`;
      throw new H2Error("stream", H2_ERROR.REFUSED_STREAM, this.nextLocalStreamId, `cannot open a stream: ${why}`);
    }
    const id = this.nextLocalStreamId;
    this.nextLocalStreamId += 2;
    const stream = new H2Stream(id, false, this.peer.initialWindowBytes, this.recvInitialWindow());
    for (let i = 0; i < headers.length; i += 2) if (headers[i] === ":method") stream.headRequest = headers[i + 1] === "HEAD";
    stream.owner = owner;
    this.streams.set(id, stream);
    this.localOpenStreams++;
    this.writeHeaders(stream, headers, endStream, neverIndexed);
    this.flush();
    return id;
  }

  /** Server: sends a response head (1xx heads first if any). */
  respond(streamId: number, headers: string[], endStream = false, neverIndexed: readonly string[] | null = null): void {
    if (this.role !== "server") throw new Error("respond() is for server sessions");
    const stream = this.sendingStream(streamId);
    if (stream === undefined) return;
    this.writeHeaders(stream, headers, endStream, neverIndexed);
    this.flush();
  }

  /** Queues DATA; it leaves as the peer's windows allow (round robin between streams). */
  sendData(streamId: number, data: Uint8Array, endStream = false): void {
    const stream = this.sendingStream(streamId);
    if (stream === undefined) return;
    const n = data.length;
    if (
      stream.queue.length === 0 &&
      this.sendable.size === 0 &&
      (n > 0 || endStream) &&
      n <= stream.sendWindow &&
      n <= this.connSendWindow &&
      n <= this.peer.maxFrameBytes
    ) {
      // Nothing queued before it and window for all of it: one frame now, past the queue.
      if (endStream) stream.endQueued = true;
      this.dataFrame(stream, data, n, true);
      this.flush();
      return;
    }
    if (data.length > 0 || endStream) {
      if (stream.queue === NO_QUEUED_DATA) stream.queue = [];
      stream.queue.push(data.length > 0 ? data : EMPTY);
      stream.queuedBytes += data.length;
    }
    if (endStream) stream.endQueued = true;
    if (stream.queue.length > 0) {
      if (this.sendable.size === 0) {
        // No other stream waits for window: what the round robin would do with this one member, without the Set.
        while (stream.queue.length > 0 && this.sendOneFrame(stream));
        if (stream.queue.length > 0) this.sendable.add(stream);
      } else {
        this.sendable.add(stream);
        this.sendQueuedData();
      }
    }
    this.flush();
  }

  /** Pull mode (`onOutput`): everything produced and not yet taken, as one view (null when nothing). */
  takeOutput(): Uint8Array | null {
    this.outputSignalled = false;
    return this.output.take();
  }

  /** Ends our side of the stream. */
  end(streamId: number): void {
    this.sendData(streamId, EMPTY, true);
  }

  /** Sends trailers (with END_STREAM) after whatever DATA is queued. */
  sendTrailers(streamId: number, headers: string[], neverIndexed: readonly string[] | null = null): void {
    const stream = this.sendingStream(streamId);
    if (stream === undefined) return;
    stream.endQueued = true;
    if (stream.queue.length === 0) {
      this.writeHeaders(stream, headers, true, neverIndexed);
    } else {
      stream.trailers = headers;
      stream.trailersNeverIndexed = neverIndexed;
    }
    this.flush();
  }

  /** The handler is done with `bytes` delivered DATA bytes of a stream: return that credit to the peer. */
  consume(streamId: number, bytes: number): void {
    if (this.dead || bytes <= 0) return;
    const stream = this.streams.get(streamId);
    let n: number;
    if (stream !== undefined) {
      n = Math.min(bytes, stream.unconsumed);
      stream.unconsumed -= n;
      if (stream.remoteOpen) {
        stream.pendingCredit += n;
        this.returnStreamCredit(stream);
      }
    } else {
      const left = this.lingering.get(streamId) ?? 0;
      n = Math.min(bytes, left);
      if (left - n > 0) this.lingering.set(streamId, left - n);
      else this.lingering.delete(streamId);
    }
    this.creditConnection(n);
    this.flush();
  }

  /** Resets a stream (RST_STREAM); unknown or closed streams are ignored. */
  reset(streamId: number, code: number = H2_ERROR.CANCEL): void {
    if (this.dead || !this.streams.has(streamId)) return;
    this.resetStream(streamId, code);
    this.flush();
  }

  /** Sends a PING; onPingAck gets the same 8 bytes back. Returns the payload. */
  ping(payload?: Uint8Array): Buffer {
    const p = Buffer.alloc(8);
    if (payload !== undefined) p.set(payload.subarray(0, 8));
    else p.writeUInt32BE(++this.pingCounter >>> 0, 4);
    if (this.dead) return p;
    this.outstandingPings.push(p);
    this.queue(pingFrame(p));
    this.flush();
    return p;
  }

  /**
   * Sends GOAWAY: the peer opens no more streams; streams it opened up to the last one we saw finish.
   * Later streams the peer opens anyway are ignored (§6.8).
   */
  goaway(code: number = H2_ERROR.NO_ERROR, debug = ""): void {
    if (this.dead) return;
    this.stopGracefulGoaway();
    this.goawaySentLastId = this.lastServedStreamId();
    this.queue(goawayFrame(this.goawaySentLastId, code, Buffer.from(debug)));
    this.flush();
    this.handler.onGoawaySent?.(this.goawaySentLastId);
  }

  /**
   * Graceful shutdown (RFC 9113 §6.8): GOAWAY with last-stream-id 2^31-1 and a PING now, so the peer stops
   * opening streams while those already in flight are still taken; when the PING comes back (one round
   * trip) — or after gracefulGoawayTimeoutMs — the final GOAWAY(NO_ERROR) with the real last stream.
   */
  goawayGracefully(): void {
    if (this.dead || this.gracefulPing !== null || this.goawaySentLastId >= 0) return;
    this.batch(() => {
      this.queue(goawayFrame(MAX_STREAM_ID, H2_ERROR.NO_ERROR));
      this.gracefulPing = this.ping();
    });
    this.gracefulTimer = this.timers.set(() => {
      this.gracefulTimer = null;
      this.finalGoaway();
    }, this.gracefulGoawayTimeoutMs);
  }

  private finalGoaway(): void {
    if (this.gracefulPing === null) return;
    this.goaway(H2_ERROR.NO_ERROR);
  }

  private stopGracefulGoaway(): void {
    this.gracefulPing = null;
    if (this.gracefulTimer !== null) this.timers.clear(this.gracefulTimer);
    this.gracefulTimer = null;
  }

  /** Stops the session without sending anything (the transport closed); pending streams are reset. */
  close(): void {
    if (this.dead) return;
    this.dead = true;
    this.stopTimer();
    this.dropAllStreams(H2_ERROR.CANCEL);
  }

  // ------------------------------------------------------------------ internals

  /** The last-stream-id for a GOAWAY: the highest peer stream we took, never more than an earlier GOAWAY said. */
  private lastServedStreamId(): number {
    return this.goawaySentLastId < 0 ? this.highestPeerStreamId : Math.min(this.goawaySentLastId, this.highestPeerStreamId);
  }

  private recvInitialWindow(): number {
    return this.localSettingsAcked ? this.local.initialWindowBytes : DEFAULT_WINDOW_BYTES;
  }

  private sendingStream(streamId: number): H2Stream | undefined {
    if (this.dead) return undefined;
    const stream = this.streams.get(streamId);
    if (stream === undefined) return undefined; // reset meanwhile: the producer learns it from onReset
    if (!stream.localOpen || stream.endQueued) throw new Error(`stream ${streamId}: our side is already ended`);
    return stream;
  }

  private writeHeaders(stream: H2Stream, headers: string[], endStream: boolean, neverIndexed: readonly string[] | null = null): void {
    stream.headSent = true;
    const length = this.encoder.encodeBlock(headers, neverIndexed); // valid until the next encode: copied below
    const block = this.encoder.blockBuffer;
    const max = this.peer.maxFrameBytes;
    const out = this.output;
    const endStreamFlag = endStream ? FLAG.END_STREAM : 0;
    if (length <= max) {
      out.frameHeader(length, FRAME.HEADERS, endStreamFlag | FLAG.END_HEADERS, stream.id);
      out.copyOf(block, 0, length);
    } else {
      out.frameHeader(max, FRAME.HEADERS, endStreamFlag, stream.id);
      out.copyOf(block, 0, max);
      for (let at = max; at < length; at += max) {
        const end = Math.min(length, at + max);
        out.frameHeader(end - at, FRAME.CONTINUATION, end === length ? FLAG.END_HEADERS : 0, stream.id);
        out.copyOf(block, at, end);
      }
    }
    if (endStream) {
      stream.localOpen = false;
      stream.endQueued = true;
      this.closeIfDone(stream);
    }
  }

  /** Sends queued DATA while windows allow, one frame per stream per round (fair between streams). */
  private sendQueuedData(): void {
    let progress = true;
    while (progress && this.sendable.size > 0) {
      progress = false;
      for (const stream of this.sendable) if (this.sendOneFrame(stream)) progress = true;
    }
  }

  private sendOneFrame(stream: H2Stream): boolean {
    const chunk = stream.queue[0]!;
    const left = chunk.length - stream.queueOffset;
    let n = 0;
    if (left > 0) {
      n = Math.min(left, stream.sendWindow, this.connSendWindow, this.peer.maxFrameBytes);
      if (n <= 0) return false;
    }
    const piece = n === chunk.length ? chunk : chunk.subarray(stream.queueOffset, stream.queueOffset + n);
    stream.queueOffset += n;
    stream.queuedBytes -= n;
    if (stream.queueOffset === chunk.length) {
      stream.queue.shift();
      stream.queueOffset = 0;
    }
    this.dataFrame(stream, piece, n, stream.queue.length === 0);
    return true;
  }

  /**
   * One DATA frame of `n` bytes (`piece`) out of both send windows; `drained`: nothing of the stream's
   * queue is left, so END_STREAM (or the trailers) follows if the stream's end is queued.
   */
  private dataFrame(stream: H2Stream, piece: Uint8Array, n: number, drained: boolean): void {
    stream.sendWindow -= n;
    this.connSendWindow -= n;
    const endStream = drained && stream.endQueued && stream.trailers === null;
    this.output.frameHeader(n, FRAME.DATA, endStream ? FLAG.END_STREAM : 0, stream.id);
    if (n > 0) this.output.bytes(piece);
    if (drained) {
      if (this.sendable.size > 0) this.sendable.delete(stream);
      if (stream.trailers !== null) {
        const trailers = stream.trailers;
        stream.trailers = null;
        this.writeHeaders(stream, trailers, true, stream.trailersNeverIndexed);
      } else if (endStream) {
        stream.localOpen = false;
        this.closeIfDone(stream);
      }
      this.handler.onWritable?.(stream.id, stream.owner);
    }
  }

  private returnStreamCredit(stream: H2Stream): void {
    const threshold = Math.max(1, this.local.initialWindowBytes >>> 1);
    if (stream.pendingCredit >= threshold || (stream.recvWindow <= 0 && stream.pendingCredit > 0)) {
      this.output.frameWithU32(FRAME.WINDOW_UPDATE, 0, stream.id, stream.pendingCredit & 0x7fff_ffff);
      stream.recvWindow += stream.pendingCredit;
      stream.pendingCredit = 0;
    }
  }

  private creditConnection(bytes: number): void {
    if (bytes <= 0) return;
    this.connPendingCredit += bytes;
    if (this.connPendingCredit >= this.connWindowBytes >>> 1 || this.connRecvWindow <= 0) {
      this.output.frameWithU32(FRAME.WINDOW_UPDATE, 0, 0, this.connPendingCredit & 0x7fff_ffff);
      this.connRecvWindow += this.connPendingCredit;
      this.connPendingCredit = 0;
    }
  }

  /** Sends RST_STREAM for a known (or just-refused) stream and forgets it. */
  private resetStream(id: number, code: number): void {
    this.output.frameWithU32(FRAME.RST_STREAM, 0, id, code >>> 0);
    const stream = this.streams.get(id);
    if (stream !== undefined) this.forget(stream, true);
    else this.rememberClosed(id, true);
    this.handler.onReset?.(id, code, false, stream?.owner);
    if (stream !== undefined) this.handler.onClose?.(id, stream.owner);
  }

  private closeIfDone(stream: H2Stream): void {
    if (stream.localOpen || stream.remoteOpen || !this.streams.has(stream.id)) return;
    if (stream.unconsumed > 0) {
      this.lingering.set(stream.id, stream.unconsumed);
      if (this.lingering.size > LINGERING_MEMORY) {
        // A handler that never reports consumption must not grow this map: credit the oldest.
        const [oldest, bytes] = this.lingering.entries().next().value!;
        this.lingering.delete(oldest);
        this.creditConnection(bytes);
      }
    }
    this.remove(stream);
    this.rememberClosed(stream.id, false);
    if (stream.peerInitiated) this.rapidResets.credit(1); // an answered stream earns back one reset
    this.handler.onClose?.(stream.id, stream.owner);
  }

  /** Drops a reset stream: its queue goes, its unconsumed bytes go back to the connection window. */
  private forget(stream: H2Stream, resetByUs: boolean): void {
    this.remove(stream);
    this.rememberClosed(stream.id, resetByUs);
    this.creditConnection(stream.unconsumed);
    stream.unconsumed = 0;
  }

  private remove(stream: H2Stream): void {
    this.streams.delete(stream.id);
    if (this.sendable.size > 0) this.sendable.delete(stream);
    // Guarded: `length = 0` on an array never pushed to costs ~35 ns in Bun (most streams here queue nothing).
    if (stream.queue.length > 0) stream.queue.length = 0;
    stream.queuedBytes = 0;
    if (stream.peerInitiated) this.peerOpenStreams--;
    else this.localOpenStreams--;
  }

  private rememberClosed(id: number, resetByUs: boolean): void {
    this.closed.remember(id, resetByUs);
  }

  /** A connection error: GOAWAY with its code, every stream reset, the session dead. */
  private fail(err: unknown): void {
    if (this.dead) return;
    const h2 =
      err instanceof H2Error && err.scope === "connection"
        ? err
        : new H2Error("connection", H2_ERROR.INTERNAL_ERROR, 0, `internal error: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    this.queue(goawayFrame(this.lastServedStreamId(), h2.code, Buffer.from(h2.reason.slice(0, 256))));
    this.dead = true;
    this.stopTimer();
    this.dropAllStreams(h2.code);
    this.handler.onError?.(h2);
  }

  private dropAllStreams(code: number): void {
    for (const stream of [...this.streams.values()]) {
      this.remove(stream);
      this.handler.onReset?.(stream.id, code, false, stream.owner);
      this.handler.onClose?.(stream.id, stream.owner);
    }
  }

  private stopTimer(): void {
    if (this.settingsTimer !== null) this.timers.clear(this.settingsTimer);
    this.settingsTimer = null;
    this.stopGracefulGoaway();
  }

  private queue(bytes: Uint8Array): void {
    this.output.bytes(bytes);
  }

  private flush(): void {
    if (this.batchDepth > 0) return;
    if (this.onOutput !== null) {
      if (!this.outputSignalled && this.output.pendingBytes > 0) {
        this.outputSignalled = true;
        this.onOutput();
      }
      return;
    }
    const bytes = this.output.take();
    if (bytes !== null) this.writeOut(bytes);
  }
}
