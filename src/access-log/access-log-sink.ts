// Where access-log lines go. A finished request's record is queued as it is (a handful of field stores
// on the request path); lines are formatted for the whole queue at once and sent to stderr in batches —
// every FLUSH_INTERVAL_MS, or at once when FLUSH_AT_BYTES have gathered — never per request: the
// formatting code runs hot over hundreds of lines instead of cold between two requests. Formatted
// records come back for reuse (no allocation per request). When stderr does not keep up (write() says
// its buffer is full) nothing more is written until it drains; records beyond the bound are dropped and
// counted, never queued without limit. A batch is handed to the stream as a view of its buffer, not a
// copy: the buffer is reused once the stream's write callback says it is out.
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

/** How the sink turns records of type T into lines. */
export interface LineFormat<T> {
  /** Appends the record's line, newline-terminated. */
  write(out: LineBuffer, record: T): void;
  /** About how many bytes the record's line takes (the bound counts queued records by it). */
  estimateBytes(record: T): number;
  /** The record was formatted and is about to be handed out for reuse: let go of what it references. */
  recycle?(record: T): void;
}

/** Bytes of lines (queued or formatted) held while stderr is busy: about a thousand 250-byte lines. */
export const MAX_BUFFERED_BYTES = 256 * 1024;
/** The longest a line waits before it is written. */
export const FLUSH_INTERVAL_MS = 20;
/** A batch this large is written without waiting for the interval. */
export const FLUSH_AT_BYTES = 32 * 1024;
/** Formatted records kept for reuse; more are left to the collector. */
const MAX_SPARE_RECORDS = 1024;

export class AccessLogSink<T> {
  /** Lines dropped because the bound was reached. */
  droppedLines = 0;
  /** Records waiting to be formatted, and the bytes their lines will take about. */
  private queue: T[] = [];
  private queuedBytes = 0;
  /** Formatted records, handed out by reuse(). */
  private readonly spareRecords: T[] = [];
  /** Where lines are formatted into; holds them while the stream is blocked. */
  private buffer = new LineBuffer(FLUSH_AT_BYTES * 2);
  /** Buffers whose batch the stream has written, ready for reuse (a stream that blocks keeps this at one or two). */
  private readonly spareBuffers: LineBuffer[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** The stream refused more; waiting for "drain". */
  private blocked = false;

  constructor(
    private readonly format: LineFormat<T>,
    private readonly out: LineStream = process.stderr,
    private readonly maxBufferedBytes = MAX_BUFFERED_BYTES,
  ) {}

  /**
   * Queues `record` for its line (the sink owns it from now on: hand it back to nobody else). Returns
   * false when the bound is reached: the record is dropped, counted, and remains the caller's.
   */
  push(record: T): boolean {
    const bytes = this.format.estimateBytes(record);
    if (this.queuedBytes + bytes + this.buffer.length > this.maxBufferedBytes) {
      this.droppedLines++;
      return false;
    }
    this.queue.push(record);
    this.queuedBytes += bytes;
    if (this.queuedBytes >= FLUSH_AT_BYTES && !this.blocked) this.flush();
    else this.scheduleFlush();
    return true;
  }

  /** A record whose line is written, to fill in again instead of allocating one; undefined when none is spare. */
  reuse(): T | undefined {
    return this.spareRecords.pop();
  }

  /** Writes whatever is queued now, even if the stream is busy (at shutdown). */
  flushNow(): void {
    this.formatQueue();
    if (this.buffer.length > 0) this.writeBatch();
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.blocked) return;
    this.flushTimer = setTimeout(this.flush, FLUSH_INTERVAL_MS);
  }

  private readonly flush = (): void => {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.blocked) return;
    this.formatQueue();
    if (this.buffer.length === 0) return;
    if (!this.writeBatch()) {
      this.blocked = true;
      this.out.once("drain", this.onDrain);
    }
  };

  private readonly onDrain = (): void => {
    this.blocked = false;
    if (this.queue.length > 0 || this.buffer.length > 0) this.scheduleFlush();
  };

  /** Formats every queued record into the buffer, in order, and keeps the records for reuse. */
  private formatQueue(): void {
    const { queue, format, buffer, spareRecords } = this;
    for (let i = 0; i < queue.length; i++) {
      const record = queue[i]!;
      format.write(buffer, record);
      format.recycle?.(record);
      if (spareRecords.length < MAX_SPARE_RECORDS) spareRecords.push(record);
    }
    queue.length = 0;
    this.queuedBytes = 0;
  }

  /** Hands the formatted lines to the stream and continues in a spare buffer; returns what write() said. */
  private writeBatch(): boolean {
    const sent = this.buffer;
    this.buffer = this.spareBuffers.pop() ?? new LineBuffer(FLUSH_AT_BYTES * 2);
    return this.out.write(sent.bytes.subarray(0, sent.length), () => {
      sent.length = 0;
      this.spareBuffers.push(sent);
    });
  }
}

/** meshlet_access_log_dropped_lines_total, read from `sink` at scrape time. */
export function registerAccessLogMetrics(sink: { readonly droppedLines: number }): void {
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
