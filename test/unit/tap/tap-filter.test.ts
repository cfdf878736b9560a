// The tap filter's events through the phases, on a real hub: queued events are pooled objects, so a test
// that runs many requests before one flush proves that no event is reused before it was encoded, and a
// retried attempt's response is never shown (only the attempt the client got).
import { expect, test } from "bun:test";
import { unpackMultiple } from "msgpackr/unpack";
import { FilterChain, type HttpFilter } from "../../../src/http/filter.ts";
import { TapHub, type TapSink } from "../../../src/tap/hub.ts";
import { parseSubscription } from "../../../src/tap/subscription.ts";
import { tapFilter } from "../../../src/tap/tap-filter.ts";
import { FakeExchange } from "../../support/fake-exchange.ts";

class DecodingSink implements TapSink {
  readonly events: Record<string, unknown>[] = [];
  sendBinary(data: Uint8Array): number {
    this.events.push(...(unpackMultiple(data) as Record<string, unknown>[]));
    return data.length;
  }
  getBufferedAmount(): number {
    return 0;
  }
  close(): void {}
}

function tapped(responsesMayBeRetried: boolean, extra: HttpFilter[] = []) {
  const hub = new TapHub();
  const sink = new DecodingSink();
  hub.subscribe(sink, parseSubscription("{}"));
  const chain = new FilterChain([tapFilter({ direction: "inbound", hub, responsesMayBeRetried }), ...extra]);
  return { hub, sink, chain };
}

test("many requests before one flush: every request's three events carry its own fields, batch after batch", () => {
  const { hub, sink, chain } = tapped(false);
  const perBatch = 200;
  for (let batch = 0; batch < 3; batch++) {
    for (let i = 0; i < perBatch; i++) {
      const x = new FakeExchange(chain, "inbound", "GET", `/b${batch}/${i}`, "web:8080");
      x.requestHead();
      x.responseHead(200 + (i % 5), 20, { "grpc-status": String(i % 3) });
      x.timing = { ...x.timing, endMs: 30 };
      x.complete();
    }
    hub.flush(); // the pooled events come back and serve the next batch
  }
  expect(sink.events).toHaveLength(3 * 3 * perBatch);
  const byId = new Map<unknown, Record<string, unknown>[]>();
  for (const e of sink.events) byId.set(e.id, [...(byId.get(e.id) ?? []), e]);
  let k = 0;
  for (const [, events] of byId) {
    const batch = Math.floor(k / perBatch);
    const i = k % perBatch;
    expect(events.map((e) => e.type)).toEqual(["request", "response", "end"]);
    expect(events[0]).toMatchObject({ path: `/b${batch}/${i}`, method: "GET", authority: "web:8080" });
    expect(events[1]).toMatchObject({ status: 200 + (i % 5) });
    expect(events[2]).toMatchObject({ status: 200 + (i % 5), grpcStatus: i % 3 });
    k++;
  }
});

/** Asks for a retry of every 500. */
const retryOn500: HttpFilter<undefined> = { name: "retry-500", onResponseHead: (_ctx, _s, res) => res.status === 500 };

test("a retried attempt's response is not shown; the response the client got is, once", () => {
  const { hub, sink, chain } = tapped(true, [retryOn500]);
  const x = new FakeExchange(chain, "inbound", "GET", "/flaky", "web:8080");
  x.requestHead();
  expect(x.responseHead(500, 10)).toBe(true);
  expect(x.responseHead(200, 25)).toBe(false);
  x.timing = { ...x.timing, endMs: 40 };
  x.complete();
  hub.flush();
  expect(sink.events.map((e) => [e.type, e.status])).toEqual([
    ["request", undefined],
    ["response", 200],
    ["end", 200],
  ]);
});

test("a retried attempt that ends in a proxy error: the client's status, not the discarded attempt's", () => {
  const { hub, sink, chain } = tapped(true, [retryOn500]);
  const x = new FakeExchange(chain, "inbound", "GET", "/down", "web:8080");
  x.requestHead();
  expect(x.responseHead(500, 10)).toBe(true);
  x.timing = { ...x.timing, endMs: 40 };
  x.complete(undefined, 502);
  hub.flush();
  expect(sink.events.map((e) => [e.type, e.status])).toEqual([
    ["request", undefined],
    ["response", 502],
    ["end", 502],
  ]);
});
