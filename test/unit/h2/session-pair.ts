// Test support for the h2 session tests: a client and a server H2Session wired back to back in memory
// (bytes are queued and pumped until both sides are quiet), each recording its events; and a raw peer
// that drives one session with hand-made frames and parses what it answers.
import { H2Error, h2ErrorName } from "../../../src/h2/errors.ts";
import { CLIENT_PREFACE, FLAG, FRAME } from "../../../src/h2/frame-types.ts";
import { FrameReader } from "../../../src/h2/frames-reader.ts";
import { headersFrame, settingsAckFrame, settingsFrame } from "../../../src/h2/frames-writer.ts";
import type { HeaderBlockKind } from "../../../src/h2/header-validation.ts";
import { HpackEncoder } from "../../../src/h2/hpack-encoder.ts";
import { H2Session, type H2Timers, type SessionHandler, type SessionOptions } from "../../../src/h2/session.ts";

/** What one side saw, in order. */
export interface Recorded {
  heads: Array<{ id: number; headers: string[]; kind: HeaderBlockKind; endStream: boolean; neverIndexed?: readonly string[] }>;
  /** Body bytes per stream, concatenated. */
  bodies: Map<number, Buffer[]>;
  ended: number[];
  resets: Array<{ id: number; code: number; byPeer: boolean }>;
  closed: number[];
  goaways: Array<{ lastStreamId: number; code: number; debug: string }>;
  /** Last-stream-ids of the final GOAWAYs this side sent. */
  goawaysSent: number[];
  pingAcks: string[];
  errors: H2Error[];
  settings: number;
}

export function newRecorded(): Recorded {
  return { heads: [], bodies: new Map(), ended: [], resets: [], closed: [], goaways: [], goawaysSent: [], pingAcks: [], errors: [], settings: 0 };
}

export function body(r: Recorded, id: number): Buffer {
  return Buffer.concat(r.bodies.get(id) ?? []);
}

/** A handler that records everything into `r`, then calls `extra` (if any) for the same event. */
export function recorder(r: Recorded, extra: SessionHandler = {}): SessionHandler {
  return {
    onHeaders(id, headers, kind, endStream, neverIndexed, owner) {
      r.heads.push(neverIndexed === null ? { id, headers, kind, endStream } : { id, headers, kind, endStream, neverIndexed });
      extra.onHeaders?.(id, headers, kind, endStream, neverIndexed, owner);
    },
    onData(id, data, endStream, owner) {
      const list = r.bodies.get(id) ?? [];
      list.push(Buffer.from(data));
      r.bodies.set(id, list);
      extra.onData?.(id, data, endStream, owner);
    },
    onEnd(id) {
      r.ended.push(id);
      extra.onEnd?.(id);
    },
    onReset(id, code, byPeer, owner) {
      r.resets.push({ id, code, byPeer });
      extra.onReset?.(id, code, byPeer, owner);
    },
    onClose(id, owner) {
      r.closed.push(id);
      extra.onClose?.(id, owner);
    },
    onWritable: (id, owner) => extra.onWritable?.(id, owner),
    onGoaway(lastStreamId, code, debug) {
      r.goaways.push({ lastStreamId, code, debug: Buffer.from(debug).toString() });
      extra.onGoaway?.(lastStreamId, code, debug);
    },
    onGoawaySent(lastStreamId) {
      r.goawaysSent.push(lastStreamId);
      extra.onGoawaySent?.(lastStreamId);
    },
    onPingAck(payload) {
      r.pingAcks.push(Buffer.from(payload).toString("hex"));
      extra.onPingAck?.(payload);
    },
    onSettings(peer) {
      r.settings++;
      extra.onSettings?.(peer);
    },
    onError(err) {
      r.errors.push(err);
      extra.onError?.(err);
    },
  };
}

/** A fake clock for the settings-ACK timer. */
export class FakeTimers implements H2Timers {
  private pending = new Map<number, { fn: () => void; at: number }>();
  private next = 1;
  now = 0;
  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { fn, at: this.now + ms });
    return id;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.pending]) {
      if (t.at <= this.now) {
        this.pending.delete(id);
        t.fn();
      }
    }
  }
  get armed(): number {
    return this.pending.size;
  }
}

type SideOptions = Partial<Omit<SessionOptions, "role" | "write" | "handler">> & { handler?: SessionHandler };

/** A client and a server session connected in memory. Nothing moves until pump(). */
export class SessionPair {
  readonly client: H2Session;
  readonly server: H2Session;
  readonly c = newRecorded();
  readonly s = newRecorded();
  private toServer: Uint8Array[] = [];
  private toClient: Uint8Array[] = [];
  /** Bytes that crossed in each direction, and how many write() calls each session made. */
  bytesToServer = 0;
  bytesToClient = 0;
  writesToServer = 0;
  writesToClient = 0;

  constructor(opts: { client?: SideOptions; server?: SideOptions } = {}) {
    const timers = new FakeTimers();
    this.client = new H2Session({
      timers,
      ...opts.client,
      role: "client",
      write: (b) => (this.writesToServer++, this.toServer.push(Buffer.from(b))),
      handler: recorder(this.c, opts.client?.handler),
    });
    this.server = new H2Session({
      timers,
      ...opts.server,
      role: "server",
      write: (b) => (this.writesToClient++, this.toClient.push(Buffer.from(b))),
      handler: recorder(this.s, opts.server?.handler),
    });
  }

  /** Delivers queued bytes both ways (in chunks of `chunkBytes` if given) until nothing moves. */
  pump(chunkBytes = 0, maxRounds = 100_000): void {
    for (let round = 0; round < maxRounds; round++) {
      if (this.toServer.length === 0 && this.toClient.length === 0) return;
      const up = this.toServer.splice(0);
      for (const b of up) this.deliver(this.server, b, chunkBytes, true);
      const down = this.toClient.splice(0);
      for (const b of down) this.deliver(this.client, b, chunkBytes, false);
    }
    throw new Error(`pump did not settle in ${maxRounds} rounds`);
  }

  private deliver(to: H2Session, b: Uint8Array, chunkBytes: number, up: boolean): void {
    if (up) this.bytesToServer += b.length;
    else this.bytesToClient += b.length;
    if (chunkBytes <= 0) return to.receive(b);
    for (let at = 0; at < b.length; at += chunkBytes) to.receive(b.subarray(at, at + chunkBytes));
  }

  /** Drops whatever the server wrote and has not been delivered yet. */
  dropServerOutput(): void {
    this.toClient.length = 0;
  }
}

/** A frame the raw peer received, copied out of the reader's view. */
export interface RawFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  errorCode: number;
  lastStreamId: number;
  windowIncrement: number;
}

/**
 * Drives one session (server by default) with hand-written frames, as h2spec does, and parses what it
 * sends back. After construction the handshake is done: preface, empty SETTINGS, and ACK of its SETTINGS.
 */
export class RawPeer {
  readonly session: H2Session;
  readonly events = newRecorded();
  readonly received: RawFrame[] = [];
  readonly encoder = new HpackEncoder();
  private readonly reader = new FrameReader();
  /** Preface octets still to skip in a client session's output. */
  private prefaceLeft: number;

  constructor(
    opts: {
      role?: "server" | "client";
      settings?: SessionOptions["settings"];
      handler?: SessionHandler;
      handshake?: boolean;
      timers?: H2Timers;
      /** Further session options (abuse limits, clock, backlog). */
      session?: Partial<Pick<SessionOptions, "abuseLimits" | "nowMs" | "isBacklogged">>;
    } = {},
  ) {
    this.reader.maxFrameBytes = 1 << 24;
    this.prefaceLeft = opts.role === "client" ? CLIENT_PREFACE.length : 0;
    this.session = new H2Session({
      ...opts.session,
      role: opts.role ?? "server",
      settings: opts.settings,
      timers: opts.timers ?? new FakeTimers(),
      write: (b) => this.parse(b),
      handler: recorder(this.events, opts.handler),
    });
    if (opts.handshake !== false) {
      if ((opts.role ?? "server") === "server") this.send(CLIENT_PREFACE);
      this.send(Buffer.concat([settingsFrame([]), settingsAckFrame()]));
      this.received.length = 0;
    }
  }

  private parse(b: Uint8Array): void {
    const skip = Math.min(this.prefaceLeft, b.length);
    this.prefaceLeft -= skip;
    this.reader.push(Buffer.from(b.subarray(skip)), {
      frame: (f) =>
        this.received.push({
          type: f.type,
          flags: f.flags,
          streamId: f.streamId,
          payload: Buffer.from(f.payload),
          errorCode: f.errorCode,
          lastStreamId: f.lastStreamId,
          windowIncrement: f.windowIncrement,
        }),
      streamError: () => {},
    });
  }

  send(...frames: Uint8Array[]): this {
    this.session.receive(Buffer.concat(frames));
    return this;
  }

  /** HEADERS carrying a header block encoded with this peer's own encoder. */
  headers(streamId: number, headers: string[], opts: Parameters<typeof headersFrame>[2] = {}): Buffer {
    return headersFrame(streamId, this.encoder.encode(headers), opts);
  }

  /** The GOAWAY it sent, or null. */
  goaway(): { lastStreamId: number; code: string; debug: string } | null {
    const f = this.received.find((x) => x.type === FRAME.GOAWAY);
    return f ? { lastStreamId: f.lastStreamId, code: h2ErrorName(f.errorCode), debug: f.payload.toString() } : null;
  }

  /** RST_STREAM codes it sent, per stream. */
  resets(): Array<[number, string]> {
    return this.received.filter((x) => x.type === FRAME.RST_STREAM).map((x) => [x.streamId, h2ErrorName(x.errorCode)]);
  }

  framesOfType(type: number): RawFrame[] {
    return this.received.filter((x) => x.type === type);
  }

  hasFlag(f: RawFrame, flag: number): boolean {
    return (f.flags & flag) !== 0;
  }
}

export const GET = [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "example.test"];
export const POST = [":method", "POST", ":scheme", "http", ":path", "/pkg.Service/Method", ":authority", "example.test", "content-type", "application/grpc", "te", "trailers"];
export { FLAG, FRAME };
