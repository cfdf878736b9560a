// handOverToEngine on real Bun sockets over 127.0.0.1 (plain TCP stands in for the TLS socket: the
// hand-over only uses Bun's socket API): the engine's handlers see its state, `open`, the detection
// bytes, then the socket's own data, in that order, and an end seen during detection is replayed; a
// handler that throws closes only its connection, through the engine's `error` handler.
import { afterEach, expect, test } from "bun:test";
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import { handOverToEngine } from "../../../src/tls/engine-handover.ts";

const BOUND_MS = 10_000;
let listener: TCPSocketListener<undefined> | undefined;
afterEach(() => listener?.stop(true));

/** A server that "detects" on its first chunk, acknowledges it with "ok", then hands the socket to `engine`. */
function detectingServer(engine: SocketHandler<string>, clientEnded = false): number {
  listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    allowHalfOpen: true,
    socket: {
      data(socket, first) {
        socket.write("ok");
        handOverToEngine(socket, engine, "engine state", Buffer.from(first), clientEnded);
      },
    },
  });
  return listener.port;
}

/** Sends `first`; once acknowledged, `rest` (if any); resolves with what came back, and whether the server closed. */
function client(port: number, first: string, rest?: string): Promise<{ received: string; closed: boolean }> {
  return new Promise((done) => {
    let received = "";
    const resolve = (_: string, closed = true) => done({ received, closed });
    const bound = setTimeout(() => resolve(received, false), BOUND_MS);
    Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      allowHalfOpen: true,
      socket: {
        open: (socket) => void socket.write(first),
        data(socket, d) {
          const acknowledged = received === "" && d.toString().startsWith("ok");
          received += d.toString();
          if (acknowledged && rest !== undefined) socket.write(rest);
        },
        close: () => (clearTimeout(bound), resolve(received)),
        error: () => (clearTimeout(bound), resolve(received)),
      },
    });
  });
}

test("the engine sees its state, open, the detection bytes, then the socket's own data, in order", async () => {
  const events: string[] = [];
  const port = detectingServer({
    open: (s) => void events.push(`open ${s.data}`),
    data(s, d) {
      events.push(`data ${d.toString()}`);
      if (events.length === 3) {
        s.write("bye"); // the engine answers through the same socket
        s.end();
      }
    },
  });
  const { received } = await client(port, "GET /", " HTTP/1.1");
  expect(events).toEqual(["open engine state", "data GET /", "data  HTTP/1.1"]);
  expect(received).toBe("okbye");
});

test("a client that already ended during detection gets `end` replayed after the detection bytes", async () => {
  const events: string[] = [];
  const port = detectingServer(
    {
      open: () => void events.push("open"),
      data: (_s, d) => void events.push(`data ${d.toString()}`),
      end(s) {
        events.push("end");
        s.end();
      },
    },
    true,
  );
  expect((await client(port, "GET / HTTP/1.1")).closed).toBe(true);
  expect(events).toEqual(["open", "data GET / HTTP/1.1", "end"]);
});

test("a handler that throws during the hand-over closes only that connection, through the engine's error handler", async () => {
  const errors: string[] = [];
  const port = detectingServer({
    open() {},
    data() {
      throw new Error("engine bug");
    },
    error: (_s: Socket<string>, err: Error) => void errors.push(err.message),
  });
  expect((await client(port, "boom")).closed).toBe(true);
  expect(errors).toEqual(["engine bug"]);
});
