// HTTP/2 frame serialization (RFC 9113 §6): one function per frame type, each returning the frame's
// bytes. DATA can also be written as a 9-byte header followed by the caller's payload untouched.
import { FLAG, FRAME, FRAME_HEADER_BYTES } from "./frame-types.ts";

/** Writes a 9-byte frame header at `at`. */
export function writeFrameHeader(out: Uint8Array, at: number, length: number, type: number, flags: number, streamId: number): void {
  out[at] = (length >>> 16) & 0xff;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  writeU32(out, at + 5, streamId & 0x7fff_ffff);
}

function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = (v >>> 24) & 0xff;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

/** Just a frame header (for DATA written as header + payload without copying the payload). */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(out, 0, length, type, flags, streamId);
  return out;
}

/** Any frame from its parts (unknown extension types included). */
export function rawFrame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export interface PaddingOption {
  /** Adds the PADDED flag with this many zero octets of padding (0..255). */
  padBytes?: number;
}

export interface PriorityFields {
  exclusive: boolean;
  dependency: number;
  /** 1..256 */
  weight: number;
}

function padded(type: number, flags: number, streamId: number, prefix: Uint8Array | null, body: Uint8Array, padBytes: number | undefined): Buffer {
  const pad = padBytes ?? -1;
  const prefixBytes = prefix?.length ?? 0;
  const length = (pad >= 0 ? 1 + pad : 0) + prefixBytes + body.length;
  const out = Buffer.alloc(FRAME_HEADER_BYTES + length);
  writeFrameHeader(out, 0, length, type, flags | (pad >= 0 ? FLAG.PADDED : 0), streamId);
  let at = FRAME_HEADER_BYTES;
  if (pad >= 0) out[at++] = pad;
  if (prefix !== null) {
    out.set(prefix, at);
    at += prefixBytes;
  }
  out.set(body, at);
  return out;
}

export function dataFrame(streamId: number, data: Uint8Array, opts: { endStream?: boolean } & PaddingOption = {}): Buffer {
  return padded(FRAME.DATA, opts.endStream ? FLAG.END_STREAM : 0, streamId, null, data, opts.padBytes);
}

function priorityBytes(p: PriorityFields): Uint8Array {
  const out = new Uint8Array(5);
  writeU32(out, 0, (p.dependency & 0x7fff_ffff) | (p.exclusive ? 0x8000_0000 : 0));
  out[4] = p.weight - 1;
  return out;
}

export function headersFrame(
  streamId: number,
  block: Uint8Array,
  opts: { endStream?: boolean; endHeaders?: boolean; priority?: PriorityFields } & PaddingOption = {},
): Buffer {
  const flags = (opts.endStream ? FLAG.END_STREAM : 0) | (opts.endHeaders !== false ? FLAG.END_HEADERS : 0) | (opts.priority ? FLAG.PRIORITY : 0);
  return padded(FRAME.HEADERS, flags, streamId, opts.priority ? priorityBytes(opts.priority) : null, block, opts.padBytes);
}

export function priorityFrame(streamId: number, p: PriorityFields): Buffer {
  return rawFrame(FRAME.PRIORITY, 0, streamId, priorityBytes(p));
}

export function rstStreamFrame(streamId: number, errorCode: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(out, 0, 4, FRAME.RST_STREAM, 0, streamId);
  writeU32(out, FRAME_HEADER_BYTES, errorCode >>> 0);
  return out;
}

/** SETTINGS with (id, value) pairs in order. */
export function settingsFrame(pairs: ReadonlyArray<readonly [number, number]>): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 6 * pairs.length);
  writeFrameHeader(out, 0, 6 * pairs.length, FRAME.SETTINGS, 0, 0);
  let at = FRAME_HEADER_BYTES;
  for (const [id, value] of pairs) {
    out[at] = (id >>> 8) & 0xff;
    out[at + 1] = id & 0xff;
    writeU32(out, at + 2, value >>> 0);
    at += 6;
  }
  return out;
}

export function settingsAckFrame(): Buffer {
  return frameHeader(0, FRAME.SETTINGS, FLAG.ACK, 0);
}

export function pushPromiseFrame(streamId: number, promisedStreamId: number, block: Uint8Array, opts: { endHeaders?: boolean } & PaddingOption = {}): Buffer {
  const prefix = new Uint8Array(4);
  writeU32(prefix, 0, promisedStreamId & 0x7fff_ffff);
  return padded(FRAME.PUSH_PROMISE, opts.endHeaders !== false ? FLAG.END_HEADERS : 0, streamId, prefix, block, opts.padBytes);
}

/** PING with 8 octets of opaque data. */
export function pingFrame(payload: Uint8Array, ack = false): Buffer {
  if (payload.length !== 8) throw new RangeError(`PING payload must be 8 bytes, got ${payload.length}`);
  return rawFrame(FRAME.PING, ack ? FLAG.ACK : 0, 0, payload);
}

export function goawayFrame(lastStreamId: number, errorCode: number, debug: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 8 + debug.length);
  writeFrameHeader(out, 0, 8 + debug.length, FRAME.GOAWAY, 0, 0);
  writeU32(out, FRAME_HEADER_BYTES, lastStreamId & 0x7fff_ffff);
  writeU32(out, FRAME_HEADER_BYTES + 4, errorCode >>> 0);
  out.set(debug, FRAME_HEADER_BYTES + 8);
  return out;
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(out, 0, 4, FRAME.WINDOW_UPDATE, 0, streamId);
  writeU32(out, FRAME_HEADER_BYTES, increment & 0x7fff_ffff);
  return out;
}

export function continuationFrame(streamId: number, block: Uint8Array, endHeaders: boolean): Buffer {
  return rawFrame(FRAME.CONTINUATION, endHeaders ? FLAG.END_HEADERS : 0, streamId, block);
}
