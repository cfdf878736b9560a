// What one session has produced and not yet flushed: frame headers and small payloads are written in
// place into a slab (no Buffer per frame), large DATA pieces are kept by reference; take() hands it
// out as one view. Slab bytes once handed out are never rewritten (a new slab starts when one is full).
// The slab is a plain Uint8Array, not a Buffer: Buffer#subarray goes through the species constructor.
import { FRAME_HEADER_BYTES } from "./frame-types.ts";
import { writeFrameHeader } from "./frames-writer.ts";

/** Slab size; a session with little to say keeps one slab of this size. */
const SLAB_BYTES = 16 * 1024;
/** Payloads from this size on are referenced rather than copied into the slab. */
const COPY_BELOW_BYTES = 1024;
/** Ranges up to this size are copied byte by byte: cheaper than making the view `set` needs (~100 ns in Bun). */
const COPY_LOOP_MAX_BYTES = 128;

export class FrameOutput {
  private slab = new Uint8Array(SLAB_BYTES);
  /** Next free byte of the slab. */
  private at = 0;
  /** Start of the slab bytes not yet moved to `parts`. */
  private regionStart = 0;
  /** Pieces in order (slab regions and referenced payloads), before the open slab region. */
  private parts: Uint8Array[] = [];
  private partBytes = 0;

  /** Bytes produced and not taken yet. */
  get pendingBytes(): number {
    return this.partBytes + this.at - this.regionStart;
  }

  /** A 9-byte frame header, in place. */
  frameHeader(length: number, type: number, flags: number, streamId: number): void {
    const at = this.reserve(FRAME_HEADER_BYTES);
    writeFrameHeader(this.slab, at, length, type, flags, streamId);
    this.at = at + FRAME_HEADER_BYTES;
  }

  /** A frame with a 4-byte payload (WINDOW_UPDATE, RST_STREAM), in place. */
  frameWithU32(type: number, flags: number, streamId: number, value: number): void {
    const at = this.reserve(FRAME_HEADER_BYTES + 4);
    const s = this.slab;
    writeFrameHeader(s, at, 4, type, flags, streamId);
    s[at + 9] = (value >>> 24) & 0xff;
    s[at + 10] = (value >>> 16) & 0xff;
    s[at + 11] = (value >>> 8) & 0xff;
    s[at + 12] = value & 0xff;
    this.at = at + FRAME_HEADER_BYTES + 4;
  }

  /**
   * Bytes after what is already there: small ones are copied (`bytes` may be reused at once); large
   * ones are referenced unless `copy` (then the caller may reuse them too).
   */
  bytes(bytes: Uint8Array, copy = false): void {
    const n = bytes.length;
    if (n === 0) return;
    if (n < COPY_BELOW_BYTES || (copy && n <= SLAB_BYTES)) {
      const at = this.reserve(n);
      this.slab.set(bytes, at);
      this.at = at + n;
      return;
    }
    this.closeRegion();
    this.parts.push(copy ? Buffer.copyBytesFrom(bytes) : bytes);
    this.partBytes += n;
  }

  /** A copy of `src[start, end)` after what is already there (no view of `src` is made for small ranges). */
  copyOf(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    const at = this.reserve(n);
    const slab = this.slab;
    if (n <= COPY_LOOP_MAX_BYTES) for (let i = 0; i < n; i++) slab[at + i] = src[start + i]!;
    else slab.set(src.subarray(start, end), at);
    this.at = at + n;
  }

  /** Everything produced since the last take(), as one view (null when nothing). */
  take(): Uint8Array | null {
    this.closeRegion();
    const parts = this.parts;
    if (parts.length === 0) return null;
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.partBytes);
    parts.length = 0;
    this.partBytes = 0;
    return out;
  }

  /** Drops what was not taken. */
  clear(): void {
    this.parts.length = 0;
    this.partBytes = 0;
    this.regionStart = this.at;
  }

  /** Offset where `n` bytes fit in the slab (a new slab when they do not). */
  private reserve(n: number): number {
    if (this.at + n <= this.slab.length) return this.at;
    this.closeRegion();
    this.slab = new Uint8Array(Math.max(SLAB_BYTES, n));
    this.at = 0;
    this.regionStart = 0;
    return 0;
  }

  private closeRegion(): void {
    if (this.at === this.regionStart) return;
    this.parts.push(this.slab.subarray(this.regionStart, this.at));
    this.partBytes += this.at - this.regionStart;
    this.regionStart = this.at;
  }
}
