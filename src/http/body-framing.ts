// Decides how a message body is delimited (RFC 9112 §6.3) and tracks progress through it, so bodies
// stream through without being buffered: each feed() says where the body ends within a chunk of bytes.
import { CHUNKED_ERROR, CHUNKED_NEED_MORE, ChunkedDecoder, type ChunkDataSink } from "./chunked-decoder.ts";
import type { RequestHead, ResponseHead } from "./head-parser.ts";

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
/** Close-delimited: the body ends when the peer closes (responses only). */
export const BODY_EOF = 3;

export const BODY_NEED_MORE = -1;
export const BODY_ERROR = -2;

/** RFC 9112 §6.3 for requests: chunked, else Content-Length, else no body. */
export function requestBodyKind(head: RequestHead): number {
  if (head.chunked) return BODY_CHUNKED;
  if (head.contentLength > 0) return BODY_LENGTH;
  return BODY_NONE;
}

/** RFC 9112 §6.3 for responses; `status` 1xx/204/304 and HEAD requests never have a body. */
export function responseBodyKind(req: RequestHead, res: ResponseHead): number {
  const status = res.status;
  if (req.isHead || status < 200 || status === 204 || status === 304) return BODY_NONE;
  if (res.hasTransferEncoding) return res.chunked ? BODY_CHUNKED : BODY_EOF;
  if (res.contentLength >= 0) return res.contentLength === 0 ? BODY_NONE : BODY_LENGTH;
  return BODY_EOF;
}

/** Tracks one body's framing. */
export class BodyReader {
  private remaining: number;
  private readonly chunked: ChunkedDecoder | null;
  done: boolean;

  constructor(readonly kind: number, contentLength: number, sink: ChunkDataSink | null = null) {
    this.remaining = kind === BODY_LENGTH ? contentLength : 0;
    this.chunked = kind === BODY_CHUNKED ? new ChunkedDecoder(sink) : null;
    this.done = kind === BODY_NONE;
  }

  /** Why the last feed() returned BODY_ERROR. */
  get error(): string {
    return this.chunked?.error ?? "";
  }

  /**
   * Consumes buf[start..end). Returns the index just after the body's end when it ends in this range,
   * BODY_NEED_MORE when every byte belongs to the body, or BODY_ERROR (chunked framing only).
   */
  feed(buf: Buffer, start: number, end: number): number {
    switch (this.kind) {
      case BODY_LENGTH: {
        const avail = end - start;
        if (avail < this.remaining) {
          this.remaining -= avail;
          return BODY_NEED_MORE;
        }
        const stop = start + this.remaining;
        this.remaining = 0;
        this.done = true;
        return stop;
      }
      case BODY_CHUNKED: {
        const r = this.chunked!.feed(buf, start, end);
        if (r === CHUNKED_NEED_MORE) return BODY_NEED_MORE;
        if (r === CHUNKED_ERROR) return BODY_ERROR;
        this.done = true;
        return r;
      }
      case BODY_EOF:
        return BODY_NEED_MORE;
      default:
        this.done = true;
        return start;
    }
  }

  /** Called when the peer closed: a close-delimited body is then complete; any other unfinished body is truncated. */
  endOfInput(): boolean {
    if (this.kind === BODY_EOF) this.done = true;
    return this.done;
  }
}

/** The body of every message without one; stateless, so one instance is shared. */
export const NO_BODY = new BodyReader(BODY_NONE, 0);
