// Where access-log lines go: a bounded buffer written to stderr in batches — every FLUSH_INTERVAL_MS, or
// at once when FLUSH_AT_CHARS have gathered — never per request. When stderr does not keep up (write()
// says its buffer is full) nothing more is written until it drains; lines beyond the buffer are dropped
// and counted, never queued without limit.
import { Counter } from "../metrics/prom-client.ts";
import { registry } from "../metrics/registry.ts";

/** What the sink writes to: process.stderr, or a test's stream. */
export interface LineStream {
  /** false: the stream's own buffer is full, wait for "drain" before writing more. */
  write(chunk: string): boolean;
  once(event: "drain", listener: () => void): unknown;
}

/** Characters of lines held while stderr is busy: about a thousand 250-character lines. */
export const MAX_BUFFERED_CHARS = 256 * 1024;
/** The longest a line waits before it is written. */
export const FLUSH_INTERVAL_MS = 20;
/** A batch this large is written without waiting for the interval. */
export const FLUSH_AT_CHARS = 32 * 1024;

export class AccessLogSink {
  /** Lines dropped because the buffer was full. */
  droppedLines = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** The stream refused more; waiting for "drain". */
  private blocked = false;

  constructor(
    private readonly out: LineStream = process.stderr,
    private readonly maxBufferedChars = MAX_BUFFERED_CHARS,
  ) {}

  /** Queues one newline-terminated line; O(1), never writes synchronously. */
  push(line: string): void {
    if (this.pendingChars + line.length > this.maxBufferedChars) {
      this.droppedLines++;
      return;
    }
    this.pending.push(line);
    this.pendingChars += line.length;
    if (this.pendingChars >= FLUSH_AT_CHARS && !this.blocked) this.flush();
    else this.scheduleFlush();
  }

  /** Writes whatever is buffered now, even if the stream is busy (at shutdown). */
  flushNow(): void {
    if (this.pending.length === 0) return;
    this.out.write(this.takeBatch());
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== undefined || this.blocked) return;
    this.flushTimer = setTimeout(this.flush, FLUSH_INTERVAL_MS);
  }

  private readonly flush = (): void => {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.blocked || this.pending.length === 0) return;
    if (!this.out.write(this.takeBatch())) {
      this.blocked = true;
      this.out.once("drain", this.onDrain);
    }
  };

  private readonly onDrain = (): void => {
    this.blocked = false;
    if (this.pending.length > 0) this.scheduleFlush();
  };

  private takeBatch(): string {
    const batch = this.pending.join("");
    this.pending = [];
    this.pendingChars = 0;
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
