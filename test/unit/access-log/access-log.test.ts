// The access log's parts without sockets: the two line formats, the filter's fields for a request run
// through the phases (captured at the head, timings, retries, a request rejected before it), and the
// sink's bound: a stream that stops draining makes it drop and count lines instead of queueing them.
import { describe, expect, test } from "bun:test";

import { accessLogFilter } from "../../../src/access-log/access-log-filter.ts";
import { AccessLogRecord, type AccessRecord, formatLine, lineFormatFor, lineWriterFor, writeApacheLine, writeJsonLine, writeRfc3339Nanos } from "../../../src/access-log/access-log-format.ts";
import { AccessLogSink, FLUSH_AT_BYTES, FLUSH_INTERVAL_MS, type LineFormat, type LineStream } from "../../../src/access-log/access-log-sink.ts";
import { LineBuffer } from "../../../src/rt/line-buffer.ts";
import { FilterChain, type HttpFilter } from "../../../src/http/filter.ts";
import { FakeExchange } from "../../support/fake-exchange.ts";

const RECORD: AccessRecord = {
  clientAddr: "10.4.0.38:36720",
  clientId: "-",
  wallMs: Date.UTC(2026, 10, 30, 20, 28, 20, 475) + 0.0625,
  method: "GET",
  uri: "/books?id=1",
  version: "HTTP/1.1",
  traceId: "",
  requestBytes: -1,
  status: 200,
  responseBytes: "19",
  totalNs: 137676,
  processingNs: 39826,
  userAgent: "curl/8",
  host: "web:8080",
};

const RECORD_AS_JSON = {
  "client.addr": "10.4.0.38:36720",
  "client.id": "-",
  timestamp: "2026-11-30T20:28:20.475062500Z",
  method: "GET",
  uri: "/books?id=1",
  version: "HTTP/1.1",
  trace_id: "",
  request_bytes: "",
  status: 200,
  response_bytes: "19",
  total_ns: "137676",
  processing_ns: "39826",
  user_agent: "curl/8",
  host: "web:8080",
};

const rfc3339Nanos = (epochMs: number): string => {
  const out = new LineBuffer(64);
  writeRfc3339Nanos(out, epochMs);
  return new TextDecoder().decode(out.bytes.subarray(0, out.length));
};

describe("LineBuffer.decimal", () => {
  const decimal = (n: number, minDigits?: number): string => {
    const out = new LineBuffer(4);
    out.decimal(n, minDigits);
    return new TextDecoder().decode(out.bytes.subarray(0, out.length));
  };

  test("writes what String(n) writes, zero-padded, across the 32-bit fast path's edges", () => {
    const values = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65535, 99999, 100000, 123456789, 999999999, 1000000000, 2147483646, 2147483647, 2147483648, 4294967296, 9007199254740991];
    for (let p = 1; p < 1e15; p *= 10) values.push(p - 1, p, p + 1);
    for (const n of values) {
      expect(decimal(n)).toBe(String(n));
      for (const width of [1, 3, 9, 12]) expect(decimal(n, width)).toBe(String(n).padStart(width, "0"));
    }
  });

  test("a number that is not a non-negative safe integer is written as String(n)", () => {
    for (const n of [-1, -2147483648, 1.5, 0.1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) expect(decimal(n, 3)).toBe(String(n));
  });
});

describe("line formats", () => {
  test("apache: addr id - [timestamp] \"METHOD uri version\" status", () => {
    expect(formatLine(writeApacheLine, RECORD)).toBe('10.4.0.38:36720 - - [2026-11-30T20:28:20.475062500Z] "GET /books?id=1 HTTP/1.1" 200\n');
  });

  test("json: one object per line, every field a string but status", () => {
    const line = formatLine(writeJsonLine, RECORD);
    expect(line.endsWith("}\n")).toBe(true);
    expect(line.indexOf("\n")).toBe(line.length - 1);
    const parsed = JSON.parse(line);
    expect(parsed).toEqual(RECORD_AS_JSON);
    expect(Object.keys(parsed)).toEqual(Object.keys(RECORD_AS_JSON));
    for (const [k, v] of Object.entries(parsed)) expect(typeof v).toBe(k === "status" ? "number" : "string");
    expect(JSON.parse(formatLine(writeJsonLine, { ...RECORD, requestBytes: 0, status: 0, totalNs: 0 }))).toMatchObject({ request_bytes: "0", status: 0, total_ns: "0" });
  });

  test("json: every text field is escaped as JSON.stringify escapes it (quotes, backslashes, controls, non-ASCII)", () => {
    const hostile = ['"', "\\", "\n", "\u0000", "\u001f", "\u007f", "é", "日本", "😀", "\ud800", 'a"b\\c', "x".repeat(70)];
    for (const value of hostile) {
      const record = { ...RECORD, uri: value, userAgent: value, host: value, traceId: value, method: value, clientAddr: value };
      const line = formatLine(writeJsonLine, record);
      expect(line.indexOf("\n")).toBe(line.length - 1);
      expect(line).toContain(`"uri":${JSON.stringify(value)},`);
      expect(JSON.parse(line)).toMatchObject({ uri: value, user_agent: value, host: value, trace_id: value, method: value, "client.addr": value });
    }
  });

  test("timestamps are RFC 3339 UTC with nine fraction digits (a double of epoch ms resolves ~0.25 µs)", () => {
    expect(rfc3339Nanos(Date.UTC(2026, 10, 30, 20, 28, 20, 475) + 0.0625)).toBe("2026-11-30T20:28:20.475062500Z");
    expect(rfc3339Nanos(Date.UTC(2026, 0, 1))).toBe("2026-01-01T00:00:00.000000000Z");
  });
});

function run(format: "apache" | "json", extra: HttpFilter[] = []) {
  const lines: string[] = [];
  // A sink that formats at once and hands every record back for reuse, as the real one does after a flush.
  const spares: AccessLogRecord[] = [];
  const sink = {
    push(record: AccessLogRecord): boolean {
      lines.push(formatLine(lineWriterFor(format), record));
      spares.push(record);
      return true;
    },
    reuse: () => spares.pop(),
  };
  const filter = accessLogFilter({ sink, wallClock: { nowMs: () => Date.UTC(2026, 10, 30, 12, 0, 0, 5) } });
  const chain = new FilterChain([...extra, filter]);
  return { lines, chain };
}

describe("accessLogFilter", () => {
  test("fields from the request head, the response head and the timings", () => {
    const { lines, chain } = run("json");
    const x = new FakeExchange(chain, "inbound", "POST", "/books", "web:8080", {
      host: "web:8080",
      "user-agent": "test-agent/1",
      "x-request-id": "req-7",
      "x-amzn-trace-id": "Root=1",
      "content-length": "12",
    }, { clientAddr: "10.1.2.3", clientPort: 4567 });
    x.timing = { startMs: 100, dispatchMs: 101, responseHeadMs: 0, endMs: 0 };
    x.requestHead();
    x.responseHead(201, 103.5, { "content-length": "42" });
    x.timing = { ...x.timing, endMs: 110 };
    x.complete();
    expect(lines.length).toBe(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      "client.addr": "10.1.2.3:4567",
      "client.id": "-",
      timestamp: "2026-11-30T12:00:00.005000000Z",
      method: "POST",
      uri: "/books",
      version: "HTTP/1.1",
      trace_id: "req-7", // x-request-id comes before x-amzn-trace-id
      request_bytes: "12",
      status: 201,
      response_bytes: "42",
      total_ns: "3500000", // request head → response head
      processing_ns: "1000000", // less the 2.5 ms the app took
      user_agent: "test-agent/1",
      host: "web:8080",
    });
  });

  test("a proxy-made response: no response length, total to the end, the client's identity", () => {
    const { lines, chain } = run("apache");
    const x = new FakeExchange(chain, "inbound", "GET", "/", "web", { "x-b3-traceid": "b3", "x-request-id": "r" }, { clientIdentity: "web.default.serviceaccount.identity.linkerd.cluster.local", clientAddr: "::1", clientPort: 9 });
    x.timing = { startMs: 10, dispatchMs: 0, responseHeadMs: 0, endMs: 13 };
    x.requestHead();
    x.complete(undefined, 503);
    expect(lines).toEqual([`[::1]:9 web.default.serviceaccount.identity.linkerd.cluster.local - [2026-11-30T12:00:00.005000000Z] "GET / HTTP/1.1" 503\n`]);
  });

  test("a retried attempt's response length is forgotten; a request rejected before the filter is not logged", () => {
    const retryOnce: HttpFilter<undefined> = { name: "retry-once", onResponseHead: (ctx) => ctx.attempt === 1 };
    const { lines, chain } = run("json", [retryOnce]);
    const x = new FakeExchange(chain, "inbound", "GET", "/", "web");
    x.requestHead();
    expect(x.responseHead(500, 20, { "content-length": "5" })).toBe(true);
    x.complete(undefined, 502);
    expect(JSON.parse(lines[0]!)).toMatchObject({ status: 502, response_bytes: "" });

    const deny: HttpFilter<undefined> = { name: "deny", onRequestHead: () => new Error("denied") as never };
    const denied = run("json", [deny]);
    const y = new FakeExchange(denied.chain, "inbound", "GET", "/", "web");
    y.requestHead();
    y.complete(undefined, 403);
    expect(denied.lines).toEqual([]);
  });
});

/** A stream that accepts `capacity` writes, then reports itself full until drain() is called. */
class StuckStream implements LineStream {
  written: string[] = [];
  private drainListener: (() => void) | undefined;
  constructor(private capacity: number) {}
  write(chunk: Uint8Array, written: () => void): boolean {
    this.written.push(new TextDecoder().decode(chunk));
    queueMicrotask(written);
    return this.written.length < this.capacity;
  }
  once(_event: "drain", listener: () => void): unknown {
    this.drainListener = listener;
    return this;
  }
  drain(more: number): void {
    this.capacity = this.written.length + more;
    const l = this.drainListener;
    this.drainListener = undefined;
    l?.();
  }
}

/** Plain text lines (each pushed string ends with its newline). */
const text: LineFormat<string> = { write: (out, line) => out.text(line), estimateBytes: (line) => line.length };

/** Past the sink's flush interval. */
const nextTurn = () => Bun.sleep(FLUSH_INTERVAL_MS * 2);

describe("AccessLogSink", () => {
  test("writes batches after the flush interval, not in push(), or at once when a batch is large", async () => {
    const out = new StuckStream(100);
    const sink = new AccessLogSink(text, out, FLUSH_AT_BYTES * 4);
    sink.push("a\n");
    sink.push("b\n");
    expect(out.written).toEqual([]);
    await nextTurn();
    expect(out.written).toEqual(["a\nb\n"]);
    const line = `${"x".repeat(1023)}\n`;
    for (let i = 0; i < FLUSH_AT_BYTES / 1024; i++) sink.push(line);
    expect(out.written).toHaveLength(2);
    expect(out.written[1]).toHaveLength(FLUSH_AT_BYTES);
  });

  test("the filter's records are queued, formatted in one batch in request order, then reused: no line shows another's fields", async () => {
    const out = new StuckStream(100);
    const sink = new AccessLogSink(lineFormatFor("json"), out);
    const chain = new FilterChain([accessLogFilter({ sink, wallClock: { nowMs: () => 0 } })]);
    const requestsPerRound = 50;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < requestsPerRound; i++) {
        const x = new FakeExchange(chain, "inbound", "GET", `/r${round}/${i}`, "web", { "user-agent": `agent-${i}` });
        x.requestHead();
        x.responseHead(200, 1, { "content-length": String(i) });
        x.complete();
      }
      await nextTurn();
    }
    const lines = out.written.join("").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3 * requestsPerRound);
    lines.forEach((line, k) => {
      const i = k % requestsPerRound;
      expect(line).toMatchObject({ uri: `/r${Math.floor(k / requestsPerRound)}/${i}`, user_agent: `agent-${i}`, response_bytes: String(i) });
    });
    // Formatted records came back for reuse with their long fields let go.
    const spare = sink.reuse();
    expect(spare).toBeDefined();
    expect([spare!.uri, spare!.userAgent, spare!.host, spare!.traceId]).toEqual(["", "", "", ""]);
  });

  test("a full stream: lines are held up to the bound, the rest dropped and counted; drain resumes", async () => {
    const out = new StuckStream(1);
    const sink = new AccessLogSink(text, out, 10 * 4);
    sink.push("000\n");
    await nextTurn(); // first write fills the stream
    expect(out.written).toEqual(["000\n"]);
    for (let i = 1; i <= 25; i++) sink.push(`${String(i).padStart(3, "0")}\n`);
    await nextTurn();
    expect(out.written.length).toBe(1); // nothing written while full
    expect(sink.droppedLines).toBe(15); // 10 lines of 4 characters fit
    out.drain(10);
    await nextTurn();
    expect(out.written[1]).toBe(["001", "002", "003", "004", "005", "006", "007", "008", "009", "010"].map((l) => `${l}\n`).join(""));
    sink.push("026\n");
    await nextTurn();
    expect(out.written[2]).toBe("026\n");
    expect(sink.droppedLines).toBe(15);
  });
});
