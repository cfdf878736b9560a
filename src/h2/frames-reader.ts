// Incremental HTTP/2 frame parser (RFC 9113 §4, §6): splits bytes that arrive in arbitrary pieces into
// frames, checks every rule that needs no stream state (sizes, stream-id 0 rules, padding, SETTINGS
// ranges, zero WINDOW_UPDATE increments) and hands each frame (unknown types too) to a sink as a reused view.
//
// Zero copy: a frame wholly inside one input chunk is a view over that chunk (DATA payloads are
// subarrays of it); only a frame split across chunks is copied once into a buffer of its own size.
// The view object is reused for the next frame: a sink that keeps anything must keep `payload`
// (which stays valid while the caller does not reuse the chunk it pushed), never the view itself.
// Errors are thrown as H2Error; the session is the one place that turns them into GOAWAY/RST_STREAM.
import { connectionError, H2_ERROR, H2Error, streamError } from "./errors.ts";
import { DEFAULT_MAX_FRAME_BYTES, FLAG, FRAME, FRAME_HEADER_BYTES, MAX_WINDOW_BYTES, SETTING } from "./frame-types.ts";

/** One frame as the sink sees it. Fields not meaningful for `type` keep stale values. */
export class FrameView {
  type = 0;
  flags = 0;
  streamId = 0;
  /** Payload length on the wire (what DATA flow control counts, padding included). */
  length = 0;
  /**
   * The frame's content: DATA's data and HEADERS/PUSH_PROMISE/CONTINUATION's header-block fragment
   * (padding and priority fields removed), the raw payload of every other type.
   */
  payload: Uint8Array = EMPTY;
  /** HEADERS with PRIORITY flag, and PRIORITY: the stream dependency. */
  hasPriority = false;
  exclusive = false;
  dependency = 0;
  weight = 0;
  /** HEADERS whose priority names the stream itself (a stream error, raised once its block is decoded). */
  selfDependent = false;
  /** RST_STREAM and GOAWAY error code. */
  errorCode = 0;
  /** GOAWAY last-stream-id; its debug data is `payload`. */
  lastStreamId = 0;
  /** WINDOW_UPDATE increment. */
  windowIncrement = 0;
  /** PUSH_PROMISE promised stream id. */
  promisedStreamId = 0;

  /** Whether `flag` is set. */
  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }
}

const EMPTY = new Uint8Array(0);

/** Receives each complete frame, and the stream errors found in frames that carry nothing else. */
export interface FrameSink {
  frame(frame: FrameView): void;
  /** A frame broke a stream-level rule (RFC 9113 §5.4.2); parsing goes on with the next frame. */
  streamError(err: H2Error): void;
}

/** Reads a SETTINGS payload's (id, value) pairs in order. */
export function forEachSetting(payload: Uint8Array, visit: (id: number, value: number) => void): void {
  for (let at = 0; at + 6 <= payload.length; at += 6) {
    const id = (payload[at]! << 8) | payload[at + 1]!;
    visit(id, u32(payload, at + 2));
  }
}

/** A sub-view of a plain Uint8Array (push() turns a Buffer chunk into one first: Buffer#subarray goes
 * through the species constructor and is several times slower in Bun). */
function view(b: Uint8Array, start: number, length: number): Uint8Array {
  return b.subarray(start, start + length);
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

function u31(b: Uint8Array, at: number): number {
  return u32(b, at) & 0x7fff_ffff;
}

export class FrameReader {
  /** The largest payload accepted: our SETTINGS_MAX_FRAME_SIZE. */
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  private readonly view = new FrameView();
  /** A frame split across chunks: its bytes so far (header included) and how many are filled. */
  private partial: Uint8Array | null = null;
  private partialFilled = 0;
  /** Fewer than 9 header bytes carried over from the previous chunk. */
  private readonly headerCarry = new Uint8Array(FRAME_HEADER_BYTES);
  private headerCarryFilled = 0;

  /** Bytes held back waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.partial !== null ? this.partialFilled : this.headerCarryFilled;
  }

  /** Parses every complete frame in `chunk` (plus what earlier chunks left) and passes it to `sink`. */
  push(input: Uint8Array, sink: FrameSink): void {
    const chunk = input instanceof Buffer ? new Uint8Array(input.buffer, input.byteOffset, input.length) : input;
    let at = 0;
    const end = chunk.length;
    // Finish a frame that an earlier chunk began.
    if (this.headerCarryFilled > 0) {
      const take = Math.min(FRAME_HEADER_BYTES - this.headerCarryFilled, end);
      this.headerCarry.set(chunk.subarray(0, take), this.headerCarryFilled);
      this.headerCarryFilled += take;
      at = take;
      if (this.headerCarryFilled < FRAME_HEADER_BYTES) return;
      const length = this.checkedLength(this.headerCarry, 0);
      this.headerCarryFilled = 0;
      this.partial = new Uint8Array(FRAME_HEADER_BYTES + length);
      this.partial.set(this.headerCarry, 0);
      this.partialFilled = FRAME_HEADER_BYTES;
    }
    if (this.partial !== null) {
      const partial = this.partial;
      const take = Math.min(partial.length - this.partialFilled, end - at);
      partial.set(chunk.subarray(at, at + take), this.partialFilled);
      this.partialFilled += take;
      at += take;
      if (this.partialFilled < partial.length) return;
      this.partial = null;
      this.partialFilled = 0;
      this.emit(partial, 0, sink);
    }
    while (at < end) {
      if (end - at < FRAME_HEADER_BYTES) {
        this.headerCarry.set(chunk.subarray(at, end), 0);
        this.headerCarryFilled = end - at;
        return;
      }
      const length = this.checkedLength(chunk, at);
      if (end - at < FRAME_HEADER_BYTES + length) {
        this.partial = new Uint8Array(FRAME_HEADER_BYTES + length);
        this.partial.set(chunk.subarray(at, end), 0);
        this.partialFilled = end - at;
        return;
      }
      this.emit(chunk, at, sink);
      at += FRAME_HEADER_BYTES + length;
    }
  }

  /** The payload length in a frame header, refused before any of the payload is buffered. */
  private checkedLength(b: Uint8Array, at: number): number {
    const length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
    if (length > this.maxFrameBytes) {
      throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, `frame of ${length} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameBytes}`);
    }
    return length;
  }

  private emit(b: Uint8Array, at: number, sink: FrameSink): void {
    const f = this.view;
    const length = (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
    f.length = length;
    f.type = b[at + 3]!;
    f.flags = b[at + 4]!;
    f.streamId = u31(b, at + 5);
    const start = at + FRAME_HEADER_BYTES;
    f.payload = view(b, start, length);
    try {
      validateFrame(f);
    } catch (err) {
      if (err instanceof H2Error && err.scope === "stream") return sink.streamError(err);
      throw err;
    }
    sink.frame(f);
  }
}

/**
 * Checks the stateless rules of one frame and decodes its fixed fields into `f`; throws H2Error for
 * invalid ones. Frames of unknown types pass unchecked (the session ignores them, RFC 9113 §5.5, but
 * must still see them: one inside a header block is an error).
 */
export function validateFrame(f: FrameView): void {
  const p = f.payload;
  const id = f.streamId;
  switch (f.type) {
    case FRAME.DATA:
      if (id === 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "DATA on stream 0");
      f.payload = unpad(f, p);
      return;
    case FRAME.HEADERS: {
      if (id === 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "HEADERS on stream 0");
      let block = unpad(f, p);
      f.hasPriority = f.has(FLAG.PRIORITY);
      f.selfDependent = false;
      if (f.hasPriority) {
        if (block.length < 5) throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, "HEADERS too short for its priority fields");
        readPriority(f, block);
        block = view(block, 5, block.length - 5);
      }
      f.payload = block;
      return;
    }
    case FRAME.PRIORITY:
      if (id === 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "PRIORITY on stream 0");
      if (f.length !== 5) throw streamError(id, H2_ERROR.FRAME_SIZE_ERROR, `PRIORITY of ${f.length} bytes (must be 5)`);
      f.hasPriority = true;
      readPriority(f, p);
      if (f.selfDependent) throw streamError(id, H2_ERROR.PROTOCOL_ERROR, "stream depends on itself");
      return;
    case FRAME.RST_STREAM:
      if (id === 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "RST_STREAM on stream 0");
      if (f.length !== 4) throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, `RST_STREAM of ${f.length} bytes (must be 4)`);
      f.errorCode = u32(p, 0);
      return;
    case FRAME.SETTINGS:
      if (id !== 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `SETTINGS on stream ${id}`);
      if (f.has(FLAG.ACK)) {
        if (f.length !== 0) throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
        return;
      }
      if (f.length % 6 !== 0) throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, `SETTINGS of ${f.length} bytes (not a multiple of 6)`);
      forEachSetting(p, checkSetting);
      return;
    case FRAME.PUSH_PROMISE: {
      if (id === 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "PUSH_PROMISE on stream 0");
      const block = unpad(f, p);
      if (block.length < 4) throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, "PUSH_PROMISE too short");
      f.promisedStreamId = u31(block, 0);
      f.payload = view(block, 4, block.length - 4);
      return;
    }
    case FRAME.PING:
      if (id !== 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `PING on stream ${id}`);
      if (f.length !== 8) throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, `PING of ${f.length} bytes (must be 8)`);
      return;
    case FRAME.GOAWAY:
      if (id !== 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `GOAWAY on stream ${id}`);
      if (f.length < 8) throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, `GOAWAY of ${f.length} bytes (at least 8)`);
      f.lastStreamId = u31(p, 0);
      f.errorCode = u32(p, 4);
      f.payload = view(p, 8, p.length - 8);
      return;
    case FRAME.WINDOW_UPDATE:
      if (f.length !== 4) throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, `WINDOW_UPDATE of ${f.length} bytes (must be 4)`);
      f.windowIncrement = u31(p, 0);
      if (f.windowIncrement === 0) {
        if (id === 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "WINDOW_UPDATE with a zero increment on the connection");
        throw streamError(id, H2_ERROR.PROTOCOL_ERROR, "WINDOW_UPDATE with a zero increment");
      }
      return;
    case FRAME.CONTINUATION:
      if (id === 0) throw connectionError(H2_ERROR.PROTOCOL_ERROR, "CONTINUATION on stream 0");
      return;
  }
}

/** Strips PADDED frames' pad-length octet and padding (RFC 9113 §6.1). */
function unpad(f: FrameView, p: Uint8Array): Uint8Array {
  if (!f.has(FLAG.PADDED)) return p;
  if (p.length < 1) throw connectionError(H2_ERROR.FRAME_SIZE_ERROR, "PADDED frame without a pad length");
  const padBytes = p[0]!;
  if (padBytes >= p.length) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `padding of ${padBytes} bytes fills the whole ${p.length}-byte payload`);
  return view(p, 1, p.length - 1 - padBytes);
}

function readPriority(f: FrameView, b: Uint8Array): void {
  f.exclusive = (b[0]! & 0x80) !== 0;
  f.dependency = u31(b, 0);
  f.weight = b[4]! + 1;
  f.selfDependent = f.dependency === f.streamId;
}

/** RFC 9113 §6.5.2 value ranges; unknown identifiers are ignored. */
function checkSetting(id: number, value: number): void {
  switch (id) {
    case SETTING.ENABLE_PUSH:
    case SETTING.ENABLE_CONNECT_PROTOCOL:
    case SETTING.NO_RFC7540_PRIORITIES:
      if (value > 1) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `SETTINGS 0x${id.toString(16)} = ${value} (must be 0 or 1)`);
      return;
    case SETTING.INITIAL_WINDOW_SIZE:
      if (value > MAX_WINDOW_BYTES) throw connectionError(H2_ERROR.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value} exceeds 2^31-1`);
      return;
    case SETTING.MAX_FRAME_SIZE:
      if (value < 16_384 || value > 0xff_ffff) throw connectionError(H2_ERROR.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value} outside 16384..16777215`);
      return;
  }
}
