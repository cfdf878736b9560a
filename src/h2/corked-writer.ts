// Coalesces what HTTP/2 sessions write to one socket while one event callback runs into one socket
// write: a proxied response touches the client session several times (head, DATA, trailers) from the
// upstream's read, and each would otherwise be its own syscall. Flushed in the microtask after it.
import type { Socket } from "bun";
import type { WriteQueue } from "../http/write-queue.ts";

export class CorkedWriter {
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  private scheduled = false;
  private readonly flushFn = (): void => this.flush();

  constructor(
    private readonly queue: WriteQueue,
    private readonly socket: () => Socket<unknown> | null,
  ) {}

  write(bytes: Uint8Array): void {
    const chunks = this.chunks;
    const last = chunks.length > 0 ? chunks[chunks.length - 1]! : null;
    if (last !== null && last.buffer === bytes.buffer && last.byteOffset + last.length === bytes.byteOffset) {
      // The session's next bytes follow its previous ones in the same slab (frame-output.ts): one view.
      chunks[chunks.length - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + bytes.length);
    } else {
      chunks.push(bytes);
    }
    this.bytes += bytes.length;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushFn);
    }
  }

  /** Writes what accumulated (in one write when there is more than one chunk). */
  flush(): void {
    this.scheduled = false;
    const chunks = this.chunks;
    if (chunks.length === 0) return;
    const socket = this.socket();
    const out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    if (socket !== null) this.queue.write(socket, out, 0, out.length, true);
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}
