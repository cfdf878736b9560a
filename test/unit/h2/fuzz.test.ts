// Seeded mutation fuzzing of the h2 codec (a PRNG seed per test, so any failure names an iteration that
// replays): mutated frame streams into server and client sessions, mutated header blocks into the HPACK
// decoder. Nothing may throw out of receive(), every failure must be a typed H2Error with an RFC code
// (never the INTERNAL_ERROR that wraps an unexpected exception), and what a session holds stays bounded.
import { expect, test } from "bun:test";

import { H2_ERROR, H2Error } from "../../../src/h2/errors.ts";
import { FRAME_HEADER_BYTES } from "../../../src/h2/frame-types.ts";
import { FrameReader } from "../../../src/h2/frames-reader.ts";
import { HpackDecoder } from "../../../src/h2/hpack-decoder.ts";
import { HpackEncoder } from "../../../src/h2/hpack-encoder.ts";
import { H2Session } from "../../../src/h2/session.ts";
import { prng } from "../../support/prng.ts";
import { FakeTimers, GET, POST } from "./session-pair.ts";

const INTERESTING = [0x00, 0x01, 0x04, 0x05, 0x08, 0x09, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xbe, 0xff];

function mutate(seed: Buffer, next: () => number): Buffer {
  let bytes = Buffer.from(seed);
  const edits = 1 + (next() % 4);
  for (let e = 0; e < edits; e++) {
    const at = next() % Math.max(1, bytes.length);
    switch (next() % 6) {
      case 0:
        bytes[at] = INTERESTING[next() % INTERESTING.length]!;
        break;
      case 1:
        bytes[at] = next() & 0xff;
        break;
      case 2:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + (next() % 8)))]);
        break;
      case 3:
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + 1 + (next() % 32)), bytes.subarray(at)]);
        break;
      case 4: // flip one bit
        bytes[at]! ^= 1 << (next() % 8);
        break;
      default: // insert random bytes
        bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(Array.from({ length: 1 + (next() % 9) }, () => next() & 0xff)), bytes.subarray(at)]);
    }
  }
  return bytes;
}

/** What a real client and server say to each other in a busy exchange (the mutation seeds). */
function capture(): { toServer: Buffer; toClient: Buffer } {
  const upAll: Buffer[] = [];
  const downAll: Buffer[] = [];
  const client = new H2Session({ role: "client", write: (b) => upAll.push(Buffer.from(b)), timers: new FakeTimers() });
  const server = new H2Session({
    role: "server",
    write: (b) => downAll.push(Buffer.from(b)),
    timers: new FakeTimers(),
    handler: {
      onHeaders: (id, _h, kind) => {
        if (kind !== "request") return;
        server.respond(id, [":status", "200", "content-type", "application/grpc", "x-id", String(id)]);
        server.sendData(id, Buffer.alloc(300, id));
        server.sendTrailers(id, ["grpc-status", "0", "grpc-message", "ok"]);
      },
    },
  });
  const x = client.request(POST);
  client.sendData(x, Buffer.from("hello world"));
  client.sendTrailers(x, ["x-sum", "1"]);
  client.request([...GET, "authorization", "Bearer x", "x-big", "q".repeat(17_000)], true);
  client.ping();
  const y = client.request(POST);
  client.sendData(y, Buffer.alloc(2000, 1), true);
  client.reset(client.request(GET), H2_ERROR.CANCEL);
  for (const b of upAll) server.receive(b);
  return { toServer: Buffer.concat(upAll), toClient: Buffer.concat(downAll) };
}

interface Outcome {
  /** Connection errors (at most one). */
  errors: H2Error[];
  /** Codes of the streams the session reset itself (stream errors). */
  resetCodes: number[];
}

/** Feeds `input` in random pieces to a fresh session whose handler consumes at random; checks the bounds. */
function feed(role: "server" | "client", input: Buffer, next: () => number, iteration: number): Outcome {
  const errors: H2Error[] = [];
  const resetCodes: number[] = [];
  let session!: H2Session;
  session = new H2Session({
    role,
    write: () => {},
    timers: new FakeTimers(),
    handler: {
      onData: (id, d) => next() % 3 !== 0 && session.consume(id, d.length),
      onHeaders: (id, _h, kind, end) => {
        if (role === "server" && kind === "request" && next() % 2 === 0) session.respond(id, [":status", "200"], end);
      },
      onError: (e) => errors.push(e),
      onReset: (_id, code, byPeer) => !byPeer && errors.length === 0 && resetCodes.push(code),
    },
  });
  if (role === "client") {
    session.request(POST);
    session.request(GET, true);
  }
  let at = 0;
  while (at < input.length) {
    const n = 1 + (next() % 2048);
    try {
      session.receive(input.subarray(at, at + n));
    } catch (err) {
      throw new Error(`iteration ${iteration}: receive() threw ${err}`);
    }
    at += n;
    const bound = session.local.maxFrameBytes + FRAME_HEADER_BYTES + session.local.maxHeaderListBytes + session.local.maxFrameBytes;
    if (session.bufferedBytes > bound) throw new Error(`iteration ${iteration}: ${session.bufferedBytes} bytes buffered (bound ${bound})`);
    if (session.openStreams > session.local.maxConcurrentStreams + 2) throw new Error(`iteration ${iteration}: ${session.openStreams} open streams`);
    if (session.receiveWindow(0) < 0) throw new Error(`iteration ${iteration}: negative connection receive window`);
  }
  for (const e of errors) {
    if (!(e instanceof H2Error) || e.scope !== "connection" || e.code === H2_ERROR.INTERNAL_ERROR) {
      throw new Error(`iteration ${iteration}: untyped failure ${e?.stack ?? e}`);
    }
  }
  expect(errors.length).toBeLessThanOrEqual(1);
  return { errors, resetCodes };
}

const SESSION_ITERATIONS = 3000;

test(`server session: ${SESSION_ITERATIONS} mutated client conversations never throw, fail only with typed errors, stay bounded`, () => {
  const { toServer } = capture();
  const next = prng(0x42a1);
  const codes = new Set<number>();
  const streamCodes = new Set<number>();
  let clean = 0;
  // The unmutated conversation is clean.
  expect(feed("server", toServer, next, -1)).toEqual({ errors: [], resetCodes: [] });
  for (let i = 0; i < SESSION_ITERATIONS; i++) {
    const { errors, resetCodes } = feed("server", mutate(toServer, next), next, i);
    if (errors.length === 0) clean++;
    for (const e of errors) codes.add(e.code);
    for (const c of resetCodes) streamCodes.add(c);
  }
  // The mutations reach distinct connection and stream checks, and some mutants still parse cleanly.
  expect(codes.size).toBeGreaterThanOrEqual(3);
  expect(streamCodes.size).toBeGreaterThanOrEqual(1);
  expect(clean).toBeGreaterThan(0);
});

test(`client session: ${SESSION_ITERATIONS} mutated server conversations never throw and fail only with typed errors`, () => {
  const { toClient } = capture();
  const next = prng(0x42a2);
  const codes = new Set<number>();
  for (let i = 0; i < SESSION_ITERATIONS; i++) {
    for (const e of feed("client", mutate(toClient, next), next, i).errors) codes.add(e.code);
  }
  expect(codes.size).toBeGreaterThanOrEqual(3);
});

test("frame reader: 20000 random byte strings either parse or raise an H2Error", () => {
  const next = prng(0x42a3);
  for (let i = 0; i < 20_000; i++) {
    const bytes = Buffer.from(Array.from({ length: next() % 64 }, () => next() & 0xff));
    const reader = new FrameReader();
    try {
      reader.push(bytes, { frame: () => {}, streamError: (e) => expect(e).toBeInstanceOf(H2Error) });
    } catch (err) {
      if (!(err instanceof H2Error)) throw new Error(`iteration ${i}: ${err}`);
    }
  }
});

test("HPACK decoder: 20000 mutated header blocks decode or raise COMPRESSION_ERROR; the table stays within its bound", () => {
  const next = prng(0x42a4);
  const e = new HpackEncoder();
  const seeds = [
    e.encode([...POST, "grpc-timeout", "1S", "user-agent", "grpc-go/1.60"]),
    e.encode([":status", "200", "content-type", "application/grpc", "grpc-status", "0", "set-cookie", "a=b"]),
    Buffer.from("3fe11f8286844188f1e3cliente5f23a6ba0ab90f4ff", "hex"),
  ];
  let ok = 0;
  for (let i = 0; i < 20_000; i++) {
    const d = new HpackDecoder(4096, 8192);
    const block = mutate(seeds[i % seeds.length]!, next);
    try {
      d.decode(block, []);
      ok++;
    } catch (err) {
      if (!(err instanceof H2Error) || err.code !== H2_ERROR.COMPRESSION_ERROR) throw new Error(`iteration ${i}: ${err}`);
    }
    expect(d.tableBytes).toBeLessThanOrEqual(4096);
  }
  expect(ok).toBeGreaterThan(0);
});
