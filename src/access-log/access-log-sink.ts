// Where access-log lines go: a bounded byte buffer the lines are written into, sent to stderr in batches —
// every FLUSH_INTERVAL_MS, or at once when FLUSH_AT_BYTES have gathered — never per request. When stderr
// does not keep up (write() says its buffer is full) nothing more is written until it drains; lines
// beyond the bound are dropped and counted, never queued without limit. A batch is handed to the stream
// as a view of its buffer, not a copy: the buffer is reused once the stream's write callback says it is out.
import { Counter } from "../metrics/prom-client.ts";
import { registry } from "../metrics/registry.ts";
import { LineBuffer } from "../rt/line-buffer.ts";

/** What the sink writes to: process.stderr, or a test's stream. */
export interface LineStream {
  /**
   * false: the stream's own buffer is full, wait for "drain" before writing more. `written` runs once
   * `chunk` is out (or failed): until then the stream may still read it.
   */
  write(chunk: Uint8Array, written: () => void): boolean;
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
  /** Where lines are written now. */
  private buffer = new LineBuffer(FLUSH_AT_BYTES * 2);
  /** Buffers whose batch the stream has written, ready for reuse (a stream that blocks keeps this at one or two). */
  private readonly spares: LineBuffer[] = [];
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
    if (this.buffer.length > 0) this.writeBatch();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.blocked) return;
    this.flushTimer = setTimeout(this.flush, FLUSH_INTERVAL_MS);
  }

  private readonly flush = (): void => {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.blocked || this.buffer.length === 0) return;
    if (!this.writeBatch()) {
      this.blocked = true;
      this.out.once("drain", this.onDrain);
    }
  };

  private readonly onDrain = (): void => {
    this.blocked = false;
    if (this.buffer.length > 0) this.scheduleFlush();
  };

  /** Hands the buffered lines to the stream and continues in a spare buffer; returns what write() said. */
  private writeBatch(): boolean {
    const sent = this.buffer;
    this.buffer = this.spares.pop() ?? new LineBuffer(FLUSH_AT_BYTES * 2);
    return this.out.write(sent.bytes.subarray(0, sent.length), () => {
      sent.length = 0;
      this.spares.push(sent);
    });
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
