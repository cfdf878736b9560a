// Incremental validator for the chunked transfer coding (RFC 9112 §7.1): finds where a chunked body
// ends without copying it, and reports data ranges when de-chunking. Strict: bare LF, invalid or
// oversized chunk sizes, and malformed extensions or trailers are errors (smuggling defence, §11.2).

const CR = 13;
const LF = 10;

const S_SIZE_START = 0;
const S_SIZE = 1;
const S_SIZE_BWS = 2;
const S_EXT = 3;
const S_SIZE_LF = 4;
const S_DATA = 5;
const S_DATA_CR = 6;
const S_DATA_LF = 7;
const S_TRAILER_START = 8;
const S_TRAILER = 9;
const S_TRAILER_LF = 10;
const S_END_LF = 11;
const S_DONE = 12;

export const CHUNKED_NEED_MORE = -1;
export const CHUNKED_ERROR = -2;

/** Chunk sizes above this are refused (they would lose precision and no real body is this large). */
const MAX_CHUNK_SIZE = 2 ** 48;
/** Bound on chunk-extension and trailer bytes per body, so a peer cannot make us scan forever. */
const MAX_META_BYTES = 64 * 1024;

/** Receives the chunk-data ranges when a body is being de-chunked (HTTP/1.0 clients). */
export interface ChunkDataSink {
  onChunkData(buf: Buffer, start: number, end: number): void;
}

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

export class ChunkedDecoder {
  private state = S_SIZE_START;
  private size = 0;
  private metaBytes = 0;
  /** Why the last feed() failed. */
  error = "";

  constructor(private readonly sink: ChunkDataSink | null = null) {}

  get done(): boolean {
    return this.state === S_DONE;
  }

  /**
   * Consumes buf[start..end). Returns the index just after the body's final CRLF when the body ends in
   * this range, CHUNKED_NEED_MORE when all bytes belong to the body, or CHUNKED_ERROR.
   */
  feed(buf: Buffer, start: number, end: number): number {
    let i = start;
    let state = this.state;
    while (i < end) {
      if (state === S_DATA) {
        const n = Math.min(this.size, end - i);
        if (this.sink !== null) this.sink.onChunkData(buf, i, i + n);
        i += n;
        this.size -= n;
        if (this.size === 0) state = S_DATA_CR;
        continue;
      }
      const c = buf[i++]!;
      switch (state) {
        case S_SIZE_START: {
          const h = HEX[c]!;
          if (h < 0) return this.fail("invalid chunk size");
          this.size = h;
          state = S_SIZE;
          break;
        }
        case S_SIZE: {
          const h = HEX[c]!;
          if (h >= 0) {
            this.size = this.size * 16 + h;
            if (this.size > MAX_CHUNK_SIZE) return this.fail("chunk size too large");
          } else if (c === CR) state = S_SIZE_LF;
          else if (c === 59 /* ; */) state = S_EXT;
          else if (c === 32 || c === 9) state = S_SIZE_BWS;
          else return this.fail(c === LF ? "bare LF in chunk size line" : "invalid chunk size");
          break;
        }
        case S_SIZE_BWS:
          if (c === 59) state = S_EXT;
          else if (c !== 32 && c !== 9) return this.fail("invalid chunk size");
          break;
        case S_EXT:
          if (++this.metaBytes > MAX_META_BYTES) return this.fail("chunk extensions too large");
          if (c === CR) state = S_SIZE_LF;
          else if (c < 0x20 ? c !== 9 : c === 0x7f) return this.fail(c === LF ? "bare LF in chunk extension" : "invalid chunk extension");
          break;
        case S_SIZE_LF:
          if (c !== LF) return this.fail("bare CR in chunk size line");
          state = this.size === 0 ? S_TRAILER_START : S_DATA;
          break;
        case S_DATA_CR:
          if (c !== CR) return this.fail("chunk data longer than its size");
          state = S_DATA_LF;
          break;
        case S_DATA_LF:
          if (c !== LF) return this.fail("bare CR after chunk data");
          state = S_SIZE_START;
          break;
        case S_TRAILER_START:
          if (c === CR) state = S_END_LF;
          else if (c === LF) return this.fail("bare LF in trailer section");
          else if (c === 32 || c === 9) return this.fail("obsolete line folding in trailer");
          else state = S_TRAILER;
          break;
        case S_TRAILER:
          if (++this.metaBytes > MAX_META_BYTES) return this.fail("trailer section too large");
          if (c === CR) state = S_TRAILER_LF;
          else if (c < 0x20 ? c !== 9 : c === 0x7f) return this.fail("invalid trailer field");
          break;
        case S_TRAILER_LF:
          if (c !== LF) return this.fail("bare CR in trailer section");
          state = S_TRAILER_START;
          break;
        case S_END_LF:
          if (c !== LF) return this.fail("bare CR at end of chunked body");
          this.state = S_DONE;
          return i;
        default:
          return this.fail("data after the end of a chunked body");
      }
    }
    this.state = state;
    return CHUNKED_NEED_MORE;
  }

  private fail(reason: string): number {
    this.error = reason;
    return CHUNKED_ERROR;
  }
}
