// Where access-log lines go: a bounded byte buffer the lines are written into, sent to stderr in batches —
// every FLUSH_INTERVAL_MS, or at once when FLUSH_AT_BYTES have gathered — never per request. When stderr
// does not keep up (write() says its buffer is full) nothing more is written until it drains; lines
// beyond the bound are dropped and counted, never queued without limit.
import { Counter } from "../metrics/prom-client.ts";
import { registry } from "../metrics/registry.ts";
import { LineBuffer } from "./line-buffer.ts";

/** What the sink writes to: process.stderr, or a test's stream. */
export interface LineStream {
  /** false: the stream's own buffer is full, wait for "drain" before writing more. */
  write(chunk: Uint8Array): boolean;
  once(event: "drain", listener: () => void): unknown;
}

/** Bytes of lines held while stderr is busy: about a thousand 250-byte lines. */
export const MAX_BUFFERED_BYTES = 256 * 1024;
/** The longest a line waits before it is written. */
export const FLUSH_INTERVAL_MS = 20;
/** A batch this large is written without waiting for the interval. */
export const FLUSH_AT_BYTES = 32 * 1024;

export class AccessLogSink {
  /** Lines dropped because the buffer was full. */
  droppedLines = 0;
  private readonly buffer = new LineBuffer(FLUSH_AT_BYTES * 2);
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** The stream refused more; waiting for "drain". */
  private blocked = false;

  constructor(
    private readonly out: LineStream = process.stderr,
    private readonly maxBufferedBytes = MAX_BUFFERED_BYTES,
  ) {}

  /** Writes one line of `item` with `write` into the buffer (`write` ends it with a newline); never writes to the stream synchronously. */
  push<T>(write: (out: LineBuffer, item: T) => void, item: T): void {
    const buffer = this.buffer;
    const before = buffer.length;
    write(buffer, item);
    if (buffer.length > this.maxBufferedBytes) {
      buffer.length = before;
      this.droppedLines++;
      return;
    }
    if (buffer.length >= FLUSH_AT_BYTES && !this.blocked) this.flush();
    else this.scheduleFlush();
  }

  /** Writes whatever is buffered now, even if the stream is busy (at shutdown). */
  flushNow(): void {
    if (this.buffer.length > 0) this.out.write(this.takeBatch());
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.blocked) return;
    this.flushTimer = setTimeout(this.flush, FLUSH_INTERVAL_MS);
  }

  private readonly flush = (): void => {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.blocked || this.buffer.length === 0) return;
    if (!this.out.write(this.takeBatch())) {
      this.blocked = true;
      this.out.once("drain", this.onDrain);
    }
  };

  private readonly onDrain = (): void => {
    this.blocked = false;
    if (this.buffer.length > 0) this.scheduleFlush();
  };

  /** The buffered lines as a copy the stream may keep (it writes asynchronously); the buffer is reused. */
  private takeBatch(): Uint8Array {
    const batch = this.buffer.bytes.slice(0, this.buffer.length);
    this.buffer.length = 0;
    return batch;
  }
}

/** meshlet_access_log_dropped_lines_total, read from `sink` at scrape time. */
export function registerAccessLogMetrics(sink: AccessLogSink): void {
  new Counter({
    name: "meshlet_access_log_dropped_lines_total",
    help: "Access log lines dropped because standard error did not keep up",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sink.droppedLines);
    },
  });
}
