// Coalesces what an HTTP/2 session writes to one socket while one event callback runs into one socket
// write: a proxied response touches the client session several times (head, DATA, trailers) from the
// upstream's read, and each would otherwise be its own syscall. Flushed in the microtask after it. The
// session runs in pull mode (its `onOutput` calls schedule()): its frames stay in its own frame output
// until the flush takes them all at once, so there is no view or chunk per session call.
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
    /** The session's bytes not yet taken (H2Session.takeOutput), taken at each flush after write()'s chunks. */
    private readonly take: () => Uint8Array | null = () => null,
  ) {}

  /** The session has output to take: flush in the microtask after the current callback. */
  schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushFn);
    }
  }

  write(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.bytes += bytes.length;
    this.schedule();
  }

  /** Writes what accumulated (in one write when there is more than one chunk). */
  flush(): void {
    this.scheduled = false;
    const taken = this.take();
    if (taken !== null) {
      this.chunks.push(taken);
      this.bytes += taken.length;
    }
    const chunks = this.chunks;
    if (chunks.length === 0) return;
    const socket = this.socket();
    const out = chunks.length === 1 ? chunks[0]! : joined(chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    if (socket !== null) this.queue.write(socket, out, 0, out.length, true);
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}

/**
 * The chunks as one byte sequence: when they are consecutive views of one slab (a session's successive
 * flushes, frame-output.ts) one view of it, made once here rather than per write; otherwise a copy.
 */
function joined(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  const first = chunks[0]!;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < chunks.length; i++) {
    const c = chunks[i]!;
    if (c.buffer !== first.buffer || c.byteOffset !== end) return Buffer.concat(chunks, bytes);
    end += c.length;
  }
  return new Uint8Array(first.buffer, first.byteOffset, bytes);
}
