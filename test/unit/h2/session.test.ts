// The HTTP/2 session state machine, a client session paired with a server session in memory: the
// handshake, many concurrent streams byte-exact, flow control with a stalled stream beside live ones,
// trailers, 1xx, CONTINUATION, RST_STREAM, GOAWAY, MAX_CONCURRENT_STREAMS, PING and the SETTINGS timer.
import { describe, expect, test } from "bun:test";

import { H2_ERROR, H2Error } from "../../../src/h2/errors.ts";
import type { H2Session } from "../../../src/h2/session.ts";
import { prng } from "../../support/prng.ts";
import { body, FakeTimers, GET, POST, SessionPair } from "./session-pair.ts";

/** A server that answers each request with 200, echoes its body as it arrives and ends with trailers. */
function echoServer(getServer: () => H2Session) {
  return {
    onHeaders(id: number, _h: string[], kind: string, endStream: boolean) {
      if (kind !== "request") return;
      getServer().respond(id, [":status", "200", "content-type", "application/grpc"]);
      if (endStream) getServer().sendTrailers(id, ["grpc-status", "0"]);
    },
    onData(id: number, data: Uint8Array, endStream: boolean) {
      const s = getServer();
      if (data.length > 0) s.sendData(id, Buffer.from(data));
      s.consume(id, data.length);
      if (endStream) s.sendTrailers(id, ["grpc-status", "0", "grpc-message", `echoed ${id}`]);
    },
  };
}

describe("handshake", () => {
  test("preface, SETTINGS both ways and their ACKs; the ACK timer is disarmed", () => {
    const timers = new FakeTimers();
    const pair = new SessionPair({ client: { timers }, server: { timers, settings: { maxConcurrentStreams: 7 } } });
    expect(timers.armed).toBe(2);
    pair.pump();
    expect(pair.c.settings).toBe(1);
    expect(pair.s.settings).toBe(1);
    expect(pair.client.peer.maxConcurrentStreams).toBe(7);
    expect(pair.server.peer.enablePush).toBe(false);
    expect(timers.armed).toBe(0);
    timers.advance(60_000);
    expect(pair.c.errors).toEqual([]);
    expect(pair.s.errors).toEqual([]);
  });

  test("no SETTINGS ACK within the timeout → GOAWAY SETTINGS_TIMEOUT", () => {
    const timers = new FakeTimers();
    const pair = new SessionPair({ client: { timers, settingsAckTimeoutMs: 5000 }, server: { timers } });
    pair.dropServerOutput(); // the server's SETTINGS and ACK never arrive
    timers.advance(4999);
    expect(pair.c.errors).toEqual([]);
    timers.advance(1);
    expect(pair.c.errors.map((e) => e.code)).toEqual([H2_ERROR.SETTINGS_TIMEOUT]);
    expect(pair.client.isDead).toBe(true);
  });
});

describe("writes", () => {
  test("batch() and handler calls made during receive() leave in one write, in order", () => {
    let server!: H2Session;
    const pair = new SessionPair({
      server: {
        handler: {
          onHeaders: (id) => {
            server.respond(id, [":status", "200"]);
            server.sendData(id, Buffer.from("a"));
            server.sendTrailers(id, ["grpc-status", "0"]);
          },
        },
      },
    });
    server = pair.server;
    pair.pump();
    const [up, down] = [pair.writesToServer, pair.writesToClient];
    pair.client.batch(() => {
      pair.client.request(GET, true);
      pair.client.request(GET, true);
    });
    expect(pair.writesToServer - up).toBe(1);
    pair.pump();
    // The server read both requests in one receive(): its six frames of answers left in one write.
    expect(pair.writesToClient - down).toBe(1);
    expect(pair.c.heads.map((h) => [h.id, h.kind])).toEqual([
      [1, "response"],
      [1, "trailers"],
      [3, "response"],
      [3, "trailers"],
    ]);
    expect(body(pair.c, 1).toString()).toBe("a");
  });

  test("pull mode: one onOutput signal until takeOutput(), nothing through write, every frame in order", () => {
    let signals = 0;
    let server!: H2Session;
    const pair = new SessionPair({
      server: {
        onOutput: () => signals++,
        handler: {
          onHeaders: (id) => {
            server.respond(id, [":status", "200"]);
            server.sendData(id, Buffer.from("ok"), true);
          },
        },
      },
    });
    server = pair.server;
    expect(signals).toBe(1); // its SETTINGS, made in the constructor
    pair.client.request(GET, true);
    pair.client.request(GET, true);
    pair.pump();
    expect(signals).toBe(1); // SETTINGS ACK and two responses since: still the one signal
    expect(pair.writesToClient).toBe(0);
    const out = server.takeOutput()!;
    expect(server.takeOutput()).toBeNull();
    pair.client.receive(out);
    pair.pump();
    expect(pair.c.heads.map((h) => [h.id, h.kind, h.headers[1]])).toEqual([
      [1, "response", "200"],
      [3, "response", "200"],
    ]);
    expect(body(pair.c, 1).toString()).toBe("ok");
    expect(body(pair.c, 3).toString()).toBe("ok");
    server.ping();
    expect(signals).toBe(2);
    expect(pair.writesToClient).toBe(0);
  });
});

describe("streams", () => {
  test("200 concurrent streams with bodies up to 128 KiB, echoed byte-exact with trailers, over 1000-byte chunks", () => {
    let server!: H2Session;
    const pair = new SessionPair({
      server: { settings: { maxConcurrentStreams: 250 }, handler: echoServer(() => server) },
      client: { handler: { onData: (id, d) => pair.client.consume(id, d.length) } },
    });
    server = pair.server;
    pair.pump();
    const next = prng(0x2002);
    const sent = new Map<number, Buffer>();
    for (let i = 0; i < 200; i++) {
      const payload = Buffer.alloc(next() % (128 * 1024));
      for (let j = 0; j < payload.length; j += 97) payload[j] = next() & 0xff;
      const id = pair.client.request(POST);
      pair.client.sendData(id, payload, true);
      sent.set(id, payload);
    }
    pair.pump(1000);
    for (const [id, payload] of sent) {
      expect(body(pair.s, id).equals(payload)).toBe(true);
      expect(body(pair.c, id).equals(payload)).toBe(true);
      const heads = pair.c.heads.filter((h) => h.id === id);
      expect(heads.map((h) => h.kind)).toEqual(["response", "trailers"]);
      expect(heads[1]!.headers).toEqual(["grpc-status", "0", "grpc-message", `echoed ${id}`]);
    }
    expect(pair.client.openStreams).toBe(0);
    expect(pair.server.openStreams).toBe(0);
    expect(pair.c.resets).toEqual([]);
    expect(pair.s.errors).toEqual([]);
  });

  test("a stalled reader holds only its own stream window; the live streams finish; consuming resumes it", () => {
    const sizes = [1 << 20, 1 << 20, 1 << 20];
    const stalled = new Set<number>();
    const pair = new SessionPair({
      client: { handler: { onData: (id, d) => !stalled.has(id) && pair.client.consume(id, d.length) } },
      server: {
        handler: {
          onHeaders: (id) => {
            pair.server.respond(id, [":status", "200"]);
            pair.server.sendData(id, Buffer.alloc(sizes[(id - 1) / 2]!, id), true);
          },
        },
      },
    });
    pair.pump();
    const ids = [pair.client.request(GET, true), pair.client.request(GET, true), pair.client.request(GET, true)];
    stalled.add(ids[1]!);
    pair.pump(4096);
    expect(body(pair.c, ids[0]!).length).toBe(sizes[0]!);
    expect(body(pair.c, ids[2]!).length).toBe(sizes[2]!);
    // The stalled stream received exactly its window and the server keeps the rest queued.
    expect(body(pair.c, ids[1]!).length).toBe(65_535);
    expect(pair.client.unconsumedBytes(ids[1]!)).toBe(65_535);
    expect(pair.server.queuedBytes(ids[1]!)).toBe((1 << 20) - 65_535);
    expect(pair.c.ended).toEqual([ids[0]!, ids[2]!]);
    // The reader catches up: the rest flows.
    stalled.clear();
    pair.client.consume(ids[1]!, 65_535);
    pair.pump(4096);
    expect(body(pair.c, ids[1]!).equals(Buffer.alloc(1 << 20, ids[1]!))).toBe(true);
    expect(pair.c.ended).toContain(ids[1]!);
  });

  test("a stream's owner comes back with its events; setOwner() swaps it; owners() lists the open streams", () => {
    const seen: Array<[string, number, unknown]> = [];
    const pair = new SessionPair({
      client: {
        handler: {
          onHeaders: (id, _h, _k, _e, _n, owner) => seen.push(["client head", id, owner]),
          onData: (id, _d, _e, owner) => seen.push(["client data", id, owner]),
          onReset: (id, _c, _b, owner) => seen.push(["client reset", id, owner]),
          onClose: (id, owner) => seen.push(["client close", id, owner]),
        },
      },
      server: {
        handler: {
          onHeaders: (id, _h, kind, _e, _n, owner) => {
            seen.push([`server ${kind}`, id, owner]);
            if (kind === "request") pair.server.setOwner(id, `exchange ${id}`);
          },
          onData: (id, d, _e, owner) => {
            seen.push(["server data", id, owner]);
            pair.server.consume(id, d.length);
          },
          onClose: (id, owner) => seen.push(["server close", id, owner]),
        },
      },
    });
    pair.pump();
    const a = pair.client.request(POST, false, null, "owner A");
    const b = pair.client.request(GET, true, null, "owner B");
    pair.client.sendData(a, Buffer.from("x"));
    pair.pump();
    expect(pair.client.owners()).toEqual(["owner A", "owner B"]);
    expect(pair.server.owners()).toEqual([`exchange ${a}`, `exchange ${b}`]);
    pair.server.respond(b, [":status", "200"], true);
    expect(pair.client.setOwner(a, undefined)).toBe("owner A"); // let go: later events carry no owner
    expect(pair.client.setOwner(99, "x")).toBeUndefined();
    pair.server.respond(a, [":status", "200"]);
    pair.server.reset(a, H2_ERROR.CANCEL);
    pair.pump();
    expect(seen).toEqual([
      ["server request", a, undefined],
      ["server request", b, undefined],
      ["server data", a, `exchange ${a}`],
      ["server close", b, `exchange ${b}`],
      ["server close", a, `exchange ${a}`],
      ["client head", b, "owner B"],
      ["client close", b, "owner B"],
      ["client head", a, undefined],
      ["client reset", a, undefined],
      ["client close", a, undefined],
    ]);
    expect(pair.client.owners()).toEqual([]);
    expect(pair.server.owners()).toEqual([]);
  });

  test("trailers after a request body reach the server as trailers", () => {
    const pair = new SessionPair();
    pair.pump();
    const id = pair.client.request(POST);
    pair.client.sendData(id, Buffer.from("payload"));
    pair.client.sendTrailers(id, ["x-checksum", "abc"]);
    pair.pump();
    expect(pair.s.heads.map((h) => [h.kind, h.endStream])).toEqual([
      ["request", false],
      ["trailers", true],
    ]);
    expect(body(pair.s, id).toString()).toBe("payload");
    expect(pair.s.ended).toEqual([id]);
  });

  test("trailers queued behind DATA that waits for window leave after it", () => {
    const pair = new SessionPair({ server: { handler: { onData: (id, d) => pair.server.consume(id, d.length) } } });
    pair.pump();
    const id = pair.client.request(POST);
    pair.client.sendData(id, Buffer.alloc(200_000, 7));
    pair.client.sendTrailers(id, ["grpc-status", "0"]);
    expect(pair.client.queuedBytes(id)).toBe(200_000 - 65_535);
    pair.pump();
    expect(body(pair.s, id).length).toBe(200_000);
    expect(pair.s.heads.at(-1)).toEqual({ id, headers: ["grpc-status", "0"], kind: "trailers", endStream: true });
  });

  test("1xx informational heads come before the final response", () => {
    const pair = new SessionPair({
      server: {
        handler: {
          onHeaders: (id) => {
            pair.server.respond(id, [":status", "103", "link", "</a.css>; rel=preload"]);
            pair.server.respond(id, [":status", "204"], true);
          },
        },
      },
    });
    pair.pump();
    pair.client.request(GET, true);
    pair.pump();
    expect(pair.c.heads.map((h) => h.kind)).toEqual(["informational", "response"]);
  });

  test("a header block larger than a frame goes out as HEADERS + CONTINUATION and arrives whole", () => {
    const pair = new SessionPair();
    pair.pump();
    const big = "v".repeat(50_000);
    pair.client.request([...GET, "x-big", big], true);
    pair.pump(777);
    expect(pair.s.heads[0]!.headers.at(-1)).toBe(big);
  });

  test("RST_STREAM from the client: the server drops that stream's queue, the other stream completes", () => {
    const pair = new SessionPair({
      client: { handler: { onData: (id, d) => pair.client.consume(id, d.length) } },
      server: {
        handler: {
          onHeaders: (id) => {
            pair.server.respond(id, [":status", "200"]);
            pair.server.sendData(id, Buffer.alloc(300_000, 1), true);
          },
        },
      },
    });
    pair.pump();
    const a = pair.client.request(GET, true);
    const b = pair.client.request(GET, true);
    pair.client.reset(a, H2_ERROR.CANCEL);
    pair.pump();
    expect(pair.s.resets).toEqual([{ id: a, code: H2_ERROR.CANCEL, byPeer: true }]);
    expect(pair.server.queuedBytes(a)).toBe(0);
    expect(body(pair.c, b).length).toBe(300_000);
    expect(pair.c.errors).toEqual([]);
    expect(pair.s.errors).toEqual([]);
  });

  test("GOAWAY: streams up to last-stream-id finish, later ones are refused (retryable), no new stream opens", () => {
    const pair = new SessionPair({
      client: { handler: { onData: (id, d) => pair.client.consume(id, d.length) } },
      server: { handler: { onHeaders: () => {} } },
    });
    pair.pump();
    const a = pair.client.request(GET, true);
    pair.pump();
    const b = pair.client.request(GET, true); // in flight when the server says GOAWAY
    pair.server.goaway(H2_ERROR.NO_ERROR, "draining");
    pair.pump();
    expect(pair.c.goaways).toEqual([{ lastStreamId: a, code: H2_ERROR.NO_ERROR, debug: "draining" }]);
    expect(pair.c.resets).toEqual([{ id: b, code: H2_ERROR.REFUSED_STREAM, byPeer: true }]);
    expect(pair.s.heads.map((h) => h.id)).toEqual([a]); // b was ignored by the server
    expect(pair.client.availableStreams).toBe(0);
    expect(() => pair.client.request(GET)).toThrow(H2Error);
    pair.server.respond(a, [":status", "200"], true);
    pair.pump();
    expect(pair.c.ended).toEqual([a]);
  });

  test("graceful GOAWAY: 2^31-1 and a PING first; a stream in flight meanwhile is still served; the final GOAWAY names it", () => {
    const pair = new SessionPair({
      client: { handler: { onData: (id, d) => pair.client.consume(id, d.length) } },
      server: { handler: { onHeaders: () => {} } },
    });
    pair.pump();
    const a = pair.client.request(GET, true);
    pair.pump();
    const b = pair.client.request(GET, true); // in flight when the server starts shutting down
    pair.server.goawayGracefully();
    expect(pair.s.goawaysSent).toEqual([]); // the final GOAWAY waits for the PING's round trip
    pair.pump();
    expect(pair.c.goaways.map((g) => g.lastStreamId)).toEqual([2 ** 31 - 1, b]);
    expect(pair.s.goawaysSent).toEqual([b]);
    expect(pair.s.heads.map((h) => h.id)).toEqual([a, b]); // b was taken, not refused
    expect(pair.c.resets).toEqual([]);
    expect(pair.c.pingAcks).toEqual([]); // the shutdown PING is the session's own, not reported
    expect(pair.client.availableStreams).toBe(0);
  });

  test("graceful GOAWAY: a peer that never acknowledges the PING gets the final GOAWAY after the timeout", () => {
    const timers = new FakeTimers();
    const pair = new SessionPair({ server: { timers, handler: { onHeaders: () => {} } }, client: { timers } });
    pair.pump();
    const a = pair.client.request(GET, true);
    pair.pump();
    pair.server.goawayGracefully();
    pair.dropServerOutput(); // the client never sees the PING
    timers.advance(999);
    expect(pair.c.goaways).toEqual([]);
    timers.advance(1);
    pair.pump();
    expect(pair.c.goaways.map((g) => g.lastStreamId)).toEqual([a]);
  });

  test("MAX_CONCURRENT_STREAMS: the client opens no more than allowed; a client that ignores it is refused", () => {
    const pair = new SessionPair({ server: { settings: { maxConcurrentStreams: 2 } } });
    // Before the server's SETTINGS arrive the client may not know the limit: three streams go out.
    const ids = [pair.client.request(GET, true), pair.client.request(GET, true), pair.client.request(GET, true)];
    pair.pump();
    expect(pair.c.resets).toEqual([{ id: ids[2]!, code: H2_ERROR.REFUSED_STREAM, byPeer: true }]);
    expect(pair.s.heads.map((h) => h.id)).toEqual([ids[0]!, ids[1]!]);
    // Now it knows: two are open, none more may open until one closes.
    expect(pair.client.availableStreams).toBe(0);
    let err: unknown;
    try {
      pair.client.request(GET);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(H2Error);
    expect((err as H2Error).code).toBe(H2_ERROR.REFUSED_STREAM);
    pair.server.respond(ids[0]!, [":status", "200"], true);
    pair.pump();
    expect(pair.client.availableStreams).toBe(1);
  });

  test("never-indexed names cross each block kind both ways, including trailers queued behind DATA", () => {
    const pair = new SessionPair();
    pair.pump();
    const id = pair.client.request([...POST, "x-api-key", "k", "x-plain", "p"], false, ["x-api-key"]);
    pair.client.sendData(id, Buffer.alloc(100_000)); // more than the window: the trailers wait behind it
    pair.client.sendTrailers(id, ["x-sig", "s"], ["x-sig"]);
    pair.pump();
    const request = pair.s.heads.filter((h) => h.id === id);
    expect(request.map((h) => [h.kind, h.neverIndexed])).toEqual([["request", ["x-api-key"]]]);
    pair.server.consume(id, 100_000);
    pair.pump();
    expect(pair.s.heads.filter((h) => h.id === id).map((h) => [h.kind, h.neverIndexed])).toEqual([
      ["request", ["x-api-key"]],
      ["trailers", ["x-sig"]],
    ]);
    pair.server.respond(id, [":status", "200", "x-token", "t"], false, ["x-token"]);
    pair.server.sendTrailers(id, ["grpc-status", "0"]);
    pair.pump();
    expect(pair.c.heads.map((h) => [h.kind, h.neverIndexed])).toEqual([
      ["response", ["x-token"]],
      ["trailers", undefined],
    ]);
  });

  test("PING is answered and matched", () => {
    const pair = new SessionPair();
    pair.pump();
    const p = pair.client.ping(Buffer.from("8 bytes!"));
    pair.server.ping();
    pair.pump();
    expect(pair.c.pingAcks).toEqual([p.toString("hex")]);
    expect(pair.s.pingAcks.length).toBe(1);
  });

  test("a HEAD response may declare a content-length without a body; a mismatch elsewhere resets the stream", () => {
    const pair = new SessionPair({
      server: { handler: { onHeaders: (id, h) => pair.server.respond(id, [":status", "200", "content-length", "10"], h[1] === "HEAD") } },
    });
    pair.pump();
    const head = pair.client.request([":method", "HEAD", ":scheme", "http", ":path", "/", ":authority", "a"], true);
    const get = pair.client.request(GET, true);
    pair.pump();
    expect(pair.c.ended).toEqual([head]);
    pair.server.sendData(get, Buffer.from("short"), true);
    pair.pump();
    expect(pair.c.resets).toEqual([{ id: get, code: H2_ERROR.PROTOCOL_ERROR, byPeer: false }]);
    // The server had already closed its side and the request's: the RST finds a closed stream, ignored.
    expect(pair.s.resets).toEqual([]);
    expect(pair.s.errors).toEqual([]);
    expect(pair.client.openStreams).toBe(0);
  });
});
