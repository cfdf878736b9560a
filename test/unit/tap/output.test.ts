// What `meshlet tap` and `meshlet top` print for a known event sequence: viz-tap-like lines (text,
// wide, json) and the per-path top table with counts, latencies and success rates.
import { expect, test } from "bun:test";
import type { TapEvent } from "../../../src/tap/events.ts";
import { TapLineFormatter } from "../../../src/tap/tap-lines.ts";
import { TopTable, formatLatency } from "../../../src/tap/top-table.ts";

const req = (id: number, path: string, method = "GET"): TapEvent => ({
  type: "request",
  id,
  tsMs: 1_700_000_000_000,
  direction: "inbound",
  tls: "disabled",
  source: "10.0.0.9:51234",
  destination: "127.0.0.1:8080",
  method,
  authority: "web:8080",
  path,
  route: "GET /books/{id}",
  headers: [["User-Agent", "curl/8.5.0"], ["Authorization", "<redacted>"]],
});
const rsp = (id: number, status: number, ms: number): TapEvent => ({ type: "response", id, sinceRequestMs: ms, status, headers: [["Content-Length", "5"]] });
const end = (id: number, status: number | undefined, ms: number, extra: Partial<Extract<TapEvent, { type: "end" }>> = {}): TapEvent => ({
  type: "end",
  id,
  sinceRequestMs: ms,
  ...(status !== undefined ? { status } : {}),
  requestBytes: 0,
  responseBytes: 120,
  ...extra,
});

test("text lines: req, rsp and end carry the request's addresses; µs latencies; unknown ids still print", () => {
  const f = new TapLineFormatter("text");
  expect(f.format(req(1, "/books/1"))).toBe("req id=1 proxy=in  src=10.0.0.9:51234 dst=127.0.0.1:8080 tls=disabled :method=GET :authority=web:8080 :path=/books/1");
  expect(f.format(rsp(1, 200, 1.2345))).toBe("rsp id=1 proxy=in  src=10.0.0.9:51234 dst=127.0.0.1:8080 tls=disabled :status=200 latency=1235µs");
  expect(f.format(end(1, 200, 1.5))).toBe("end id=1 proxy=in  src=10.0.0.9:51234 dst=127.0.0.1:8080 tls=disabled duration=1500µs response-length=120B");
  expect(f.format(end(1, 502, 3, { error: "PXY_ERR_HTTP_CONNECT_REFUSED" }))).toBe("end id=1 error=PXY_ERR_HTTP_CONNECT_REFUSED duration=3000µs response-length=120B");
  expect(f.format({ type: "dropped", count: 7 })).toStartWith("dropped count=7 ");
});

test("wide lines add the route and the headers (quoted when they hold spaces); json is one event per line", () => {
  const wide = new TapLineFormatter("wide");
  expect(wide.format(req(2, "/books/2"))).toEndWith(':path=/books/2 route="GET /books/{id}" user-agent=curl/8.5.0 authorization=<redacted>');
  expect(wide.format(rsp(2, 200, 1))).toEndWith(":status=200 latency=1000µs content-length=5");
  const json = new TapLineFormatter("json");
  expect(JSON.parse(json.format(req(3, "/x")))).toEqual(req(3, "/x") as unknown as Record<string, unknown>);
});

test("top aggregates completed requests by source host, destination, method and path", () => {
  const top = new TopTable();
  const events: TapEvent[] = [
    req(1, "/books"), end(1, 200, 2),
    req(2, "/books"), end(2, 200, 0.5),
    req(3, "/books"), end(3, 503, 9),
    req(4, "/authors", "POST"), end(4, undefined, 30, { error: "PXY_ERR_HTTP_CLIENT_CLOSED" }),
    req(5, "/pending"), // no end yet: not counted
    end(99, 200, 1), // end of a request never seen: ignored
  ];
  for (const e of events) top.add(e);
  expect(top.render()).toBe(
    [
      "Source    Destination     Method  Path      Count  Best   Worst  Last   Success Rate",
      "10.0.0.9  127.0.0.1:8080  GET     /books    3      500µs  9.0ms  9.0ms  66.67%",
      "10.0.0.9  127.0.0.1:8080  POST    /authors  1      30ms   30ms   30ms   0.00%",
      "",
    ].join("\n"),
  );
  expect(new TopTable().render()).toContain("(no requests yet)");
});

test("latencies read like viz top: µs, ms, s", () => {
  expect([formatLatency(0.042), formatLatency(2.25), formatLatency(42.4), formatLatency(1500)]).toEqual(["42µs", "2.3ms", "42ms", "1.50s"]);
});
