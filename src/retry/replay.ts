// Buffers a request body so that it can be sent again on retry, up to 64 KiB (Linkerd's
// MAX_BUFFERED_BYTES). Past the cap the buffer is dropped and the request is no longer retryable.

/** Linkerd buffers at most this many request-body bytes for replay. */
export const MAX_REPLAY_BYTES = 64 * 1024;

/**
 * Whether a request can have retry support at all, decided from its head before any body byte is
 * read (Linkerd's `ReplayBody::try_new`): a declared length above the cap cannot be replayed, so
 * the request is sent without retry support (and leaves the budget untouched).
 * `contentLength` is undefined for chunked or unknown-length bodies (they may still cap later).
 */
export function canReplay(contentLength: number | undefined, maxBytes: number = MAX_REPLAY_BYTES): boolean {
  return contentLength === undefined || contentLength <= maxBytes;
}

/**
 * The replayable body of one request. Ownership: `push` keeps a reference to each chunk, so the
 * caller must hand over chunks it will not reuse or mutate (copy first if the socket reuses
 * its read buffer). Once capped, buffered chunks are released.
 */
export class ReplayBuffer {
  readonly maxBytes: number;
  #chunks: Uint8Array[] = [];
  #bytes = 0;
  #capped = false;
  #ended = false;

  constructor(maxBytes: number = MAX_REPLAY_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** Records a chunk that was (or is being) sent upstream on the first attempt. */
  push(chunk: Uint8Array): void {
    if (this.#ended) throw new Error("replay buffer: push after end");
    this.#bytes += chunk.byteLength;
    if (this.#capped) return;
    if (this.#bytes > this.maxBytes) {
      this.#capped = true;
      this.#chunks = [];
      return;
    }
    if (chunk.byteLength > 0) this.#chunks.push(chunk);
  }

  /** The request body is complete. */
  end(): void {
    this.#ended = true;
  }

  /** True once the body exceeded the cap. */
  get capped(): boolean {
    return this.#capped;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Total bytes seen (also after capping). */
  get totalBytes(): number {
    return this.#bytes;
  }

  /**
   * Linkerd's `is_capped()`: true once capped; false when the body ended within the cap; null
   * while the body is still streaming (a response that arrives before the request body ended
   * makes the request not retryable).
   */
  cappedState(): boolean | null {
    if (this.#capped) return true;
    return this.#ended ? false : null;
  }

  /** The chunks to send again on a retry. Only valid for a complete, uncapped body. */
  chunks(): readonly Uint8Array[] {
    if (this.#capped) throw new Error("replay buffer: body exceeded the replay limit");
    if (!this.#ended) throw new Error("replay buffer: body not complete");
    return this.#chunks;
  }
}
