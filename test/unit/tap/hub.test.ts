// The subscriber hub on test sinks: an event reaches every matching subscriber, a sink whose
// queue passes the bound loses (and counts) events until it drains and is then told how many, events
// of one interval leave in one frame, and a subscription closes once its limit's last request
// has ended (after its last events are sent).
import { expect, test } from "bun:test";
import { unpackMultiple } from "msgpackr/unpack";
import { SUBSCRIBER_BUFFER_LIMIT_BYTES, TAP_FLUSH_INTERVAL_MS, TapHub, type TapSink } from "../../../src/tap/hub.ts";
import { parseSubscription } from "../../../src/tap/subscription.ts";
import { FakeExchange } from "../../support/fake-exchange.ts";
import { EMPTY_CHAIN } from "../../../src/http/filter.ts";

class RecordingSink implements TapSink {
  readonly frames: Uint8Array[] = [];
  buffered = 0;
  /** When true, sends are queued (status -1) and add to `buffered`, as on a socket nobody reads. */
  stalled = false;
  closed: [number | undefined, string | undefined] | undefined;
  /** Copies the frame, as Bun's WebSocket does (the hub reuses its frame buffer). */
  sendBinary(data: Uint8Array): number {
    this.frames.push(data.slice());
    if (!this.stalled) return data.length;
    this.buffered += data.length;
    return -1;
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  close(code?: number, reason?: string): void {
    this.closed = [code, reason];
  }
  events(): Record<string, unknown>[] {
    return this.frames.flatMap((f) => unpackMultiple(f) as Record<string, unknown>[]);
  }
}

const request = (method: string, path: string, authority = "web:8080") => new FakeExchange(EMPTY_CHAIN, "inbound", method, path, authority);

test("filters select subscribers before any event exists; one packed frame serves every match", async () => {
  const hub = new TapHub();
  const all = new RecordingSink();
  const gets = new RecordingSink();
  const books = new RecordingSink();
  const outbound = new RecordingSink();
  hub.subscribe(all, parseSubscription("{}"));
  hub.subscribe(gets, parseSubscription('{"method":"GET","authority":"WEB:8080"}'));
  hub.subscribe(books, parseSubscription('{"path":"/books/.*"}'));
  hub.subscribe(outbound, parseSubscription('{"direction":"outbound"}'));

  const matched: Parameters<TapHub["match"]>[2] = [];
  hub.match(request("GET", "/books/1"), "inbound", matched);
  expect(matched.map((s) => s.sink)).toEqual([all, gets, books]);
  hub.publish(matched, { type: "dropped", count: 1 });
  expect(all.frames).toHaveLength(0); // in the outbox until the flush
  hub.flush();
  expect(all.frames[0]).toEqual(gets.frames[0]!);
  expect(books.frames[0]).toEqual(all.frames[0]!);
  expect(outbound.frames).toHaveLength(0);

  matched.length = 0;
  hub.match(request("POST", "/authors"), "inbound", matched);
  expect(matched.map((s) => s.sink)).toEqual([all]);
});

test("a stalled subscriber loses events beyond its bound, counted, and hears how many once drained", async () => {
  const hub = new TapHub();
  const slow = new RecordingSink();
  const sub = hub.subscribe(slow, parseSubscription("{}"));
  slow.stalled = true;
  const big = "x".repeat(64 * 1024);
  const sent = 100;
  for (let i = 0; i < sent; i++) {
    hub.publish([sub], { type: "error", code: "X", message: big });
    if (i % 10 === 9) hub.flush();
  }
  hub.flush();
  // Everything beyond the bound was dropped and counted, not queued.
  const delivered = () => slow.events().filter((e) => e.type === "error").length;
  expect(slow.buffered).toBeLessThanOrEqual(SUBSCRIBER_BUFFER_LIMIT_BYTES + 70 * 1024);
  expect(hub.droppedEvents).toBe(sent - delivered());
  expect(hub.droppedEvents).toBeGreaterThan(80);

  // Still behind: no notice yet.
  hub.drained(sub);
  hub.flush();
  expect(slow.events().some((e) => e.type === "dropped")).toBe(false);
  slow.stalled = false;
  slow.buffered = 0;
  hub.drained(sub);
  hub.flush();
  expect(slow.events().at(-1)).toEqual({ type: "dropped", count: hub.droppedEvents });
  hub.publish([sub], { type: "dropped", count: 0 });
  hub.flush();
  expect(slow.events().at(-1)).toEqual({ type: "dropped", count: 0 });
  expect(delivered()).toBe(sent - hub.droppedEvents);
});

test("events of one interval leave in one frame per subscriber, and the timer sends them unasked", async () => {
  const hub = new TapHub();
  const sink = new RecordingSink();
  const sub = hub.subscribe(sink, parseSubscription("{}"));
  for (let i = 0; i < 5; i++) hub.publish([sub], { type: "dropped", count: i });
  expect(sink.frames).toHaveLength(0);
  await Bun.sleep(TAP_FLUSH_INTERVAL_MS * 3);
  expect(sink.events().map((e) => e.count)).toEqual([0, 1, 2, 3, 4]);
  expect(sink.frames).toHaveLength(1);
});

test("a limit stops matching at N requests and closes the stream when the last of them ends", async () => {
  const hub = new TapHub();
  const sink = new RecordingSink();
  hub.subscribe(sink, parseSubscription('{"limit":2}'));
  const first: Parameters<TapHub["match"]>[2] = [];
  const second: Parameters<TapHub["match"]>[2] = [];
  const third: Parameters<TapHub["match"]>[2] = [];
  hub.match(request("GET", "/1"), "inbound", first);
  hub.match(request("GET", "/2"), "inbound", second);
  hub.match(request("GET", "/3"), "inbound", third);
  expect([first.length, second.length, third.length]).toEqual([1, 1, 0]);
  hub.finished(second);
  expect(sink.closed).toBeUndefined();
  expect(hub.listening).toBe(true);
  hub.publish(first, { type: "dropped", count: 7 });
  hub.finished(first);
  expect(sink.closed).toEqual([1000, "limit reached"]);
  // The last events went out before the close.
  expect(sink.events().at(-1)).toEqual({ type: "dropped", count: 7 });
  expect(hub.listening).toBe(false);
});
