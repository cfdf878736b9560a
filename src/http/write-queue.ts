// Ordered writes to a Bun socket with backpressure: Bun's socket.write is unbuffered (it returns the
// bytes the kernel took), so whatever is left waits here until the socket's `drain` event.
import type { Socket } from "bun";

import type { TransportRow } from "../metrics/transport.ts";

export class WriteQueue {
  /** What the kernel did not take yet; made on the first partial write (most sockets never queue). */
  private chunks: Uint8Array[] | null = null;
  /** Bytes waiting for `drain`. */
  pendingBytes = 0;
  /** Where bytes the kernel took are counted (tcp_write_bytes_total); set once the socket is open. */
  counter: TransportRow | null = null;

  get pending(): boolean {
    return this.pendingBytes > 0;
  }

  /**
   * Writes data[start..end) or queues what the kernel did not take. `owned` says the caller will not
   * reuse `data` (a received chunk); otherwise (a scratch buffer) the remainder is copied.
   * Returns true when everything went out now. A closed socket swallows the bytes: its close event follows.
   */
  write(socket: Socket<unknown>, data: Uint8Array, start: number, end: number, owned: boolean): boolean {
    if (end <= start) return this.pendingBytes === 0;
    if (this.pendingBytes === 0) {
      const n = socket.write(data, start, end - start);
      if (n > 0 && this.counter !== null) this.counter.writeBytes += n;
      if (n < 0 || n === end - start) return true;
      start += n;
    }
    const rest = owned ? data.subarray(start, end) : data.slice(start, end);
    (this.chunks ??= []).push(rest);
    this.pendingBytes += rest.length;
    return false;
  }

  /** Writes queued chunks after `drain`; returns true when the queue is empty. */
  flush(socket: Socket<unknown>): boolean {
    const chunks = this.chunks;
    if (chunks === null) return this.pendingBytes === 0;
    let i = 0;
    while (i < chunks.length) {
      const chunk = chunks[i]!;
      const n = socket.write(chunk);
      if (n < 0) {
        i = chunks.length;
        this.pendingBytes = 0;
        break;
      }
      this.pendingBytes -= n;
      if (this.counter !== null) this.counter.writeBytes += n;
      if (n < chunk.length) {
        chunks[i] = chunk.subarray(n);
        break;
      }
      i++;
    }
    if (i > 0) chunks.splice(0, i);
    return this.pendingBytes === 0;
  }

  clear(): void {
    this.chunks = null;
    this.pendingBytes = 0;
  }
}
