// PlaintextSocket: Bun's socket contract for the HTTP engines over a node stream (a real Duplex stands
// in for the TLSSocket): open, the detection bytes, then data and end in order; write takes every byte
// until the stream is full, then nothing until one drain; an engine's pause holds across start.
import { describe, expect, test } from "bun:test";
import type { SocketHandler } from "bun";
import { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { PlaintextSocket } from "../../../src/tls/plaintext-socket.ts";

/** A Duplex whose writes complete only when `release()` is called; reads are pushed by the test. */
function heldStream() {
  const held: Array<() => void> = [];
  const written: string[] = [];
  const stream = new Duplex({
    writableHighWaterMark: 8,
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk.toString());
      held.push(() => done());
    },
  });
  return { stream, written, release: () => held.splice(0).forEach((done) => done()) };
}

const LOCAL = { localAddress: "127.0.0.1", localPort: 4143 };
const CLIENT = { host: "127.0.0.1", port: 50000 };

describe("PlaintextSocket", () => {
  test("open, then the detection bytes, then the stream's data and end, in order", async () => {
    const { stream } = heldStream();
    const events: string[] = [];
    const handlers: SocketHandler<string> = {
      open: (s) => void events.push(`open ${s.data} ${s.localPort}`),
      data: (_s, d) => void events.push(`data ${d.toString()}`),
      end: () => void events.push("end"),
      close: () => void events.push("close"),
    };
    stream.pause();
    new PlaintextSocket(stream as unknown as TLSSocket, handlers, "pending", LOCAL, CLIENT).start(Buffer.from("GET /"), false);
    stream.push(Buffer.from(" HTTP/1.1"));
    stream.push(null);
    await new Promise((r) => stream.once("end", r));
    stream.destroy();
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(["open pending 4143", "data GET /", "data  HTTP/1.1", "end", "close"]);
  });

  test("write takes whole chunks (copied) until the stream is full, then nothing until one drain", async () => {
    const { stream, written, release } = heldStream();
    let drains = 0;
    const socket = new PlaintextSocket(stream as unknown as TLSSocket, { drain: () => void drains++ }, undefined, LOCAL, CLIENT);
    socket.start(Buffer.alloc(0), false);
    const buffer = Buffer.from("0123456789abcdef");
    expect(socket.write(buffer, 0, 10)).toBe(10); // over the 8-byte mark: taken, and the stream is now full
    buffer.fill("x"); // the engine reuses its buffer: what was written is a copy
    expect(socket.write("more")).toBe(0);
    expect(drains).toBe(0);
    release();
    await new Promise((r) => setImmediate(r));
    expect(drains).toBe(1);
    expect(socket.write("more")).toBe(4);
    expect(written).toEqual(["0123456789", "more"]);
  });

  test("an engine that pauses in open stays paused; resume lets data flow", async () => {
    const { stream } = heldStream();
    const seen: string[] = [];
    const handlers: SocketHandler<undefined> = {
      open: (s) => s.pause(),
      data: (_s, d) => void seen.push(d.toString()),
    };
    stream.pause();
    const plaintext = new PlaintextSocket(stream as unknown as TLSSocket, handlers, undefined, LOCAL, CLIENT);
    plaintext.start(Buffer.alloc(0), false);
    stream.push(Buffer.from("later"));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([]);
    plaintext.resume();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(["later"]);
  });

  test("a handler that throws reaches `error` and closes only this connection", async () => {
    const { stream } = heldStream();
    const errors: string[] = [];
    const handlers: SocketHandler<undefined> = {
      data: () => {
        throw new Error("engine bug");
      },
      error: (_s, err) => void errors.push(err.message),
    };
    new PlaintextSocket(stream as unknown as TLSSocket, handlers, undefined, LOCAL, CLIENT).start(Buffer.from("x"), false);
    expect(errors).toEqual(["engine bug"]);
    expect(stream.destroyed).toBe(true);
  });
});
