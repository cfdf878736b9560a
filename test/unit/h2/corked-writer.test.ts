// The corked writer over a real loopback socket: what a callback wrote (and what a pull-mode session
// holds) leaves in one socket write after the callback, byte-exact and in order; consecutive slab views
// go out as one view of the slab (no copy), others as one joined copy; nothing to write, no write.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";

import { CorkedWriter } from "../../../src/h2/corked-writer.ts";
import { WriteQueue } from "../../../src/http/write-queue.ts";

let listener: TCPSocketListener<undefined>;
let client: Socket<undefined>;
let received: Buffer[] = [];
let receivedBytes = 0;
/** Every buffer handed to the client socket's write, in order (the socket still writes it). */
const writes: Uint8Array[] = [];

beforeAll(async () => {
  listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_s, data) {
        received.push(Buffer.from(data));
        receivedBytes += data.length;
      },
    },
  });
  client = await Bun.connect({ hostname: "127.0.0.1", port: listener.port, socket: { data() {} } });
  const write = client.write.bind(client);
  (client as { write: typeof client.write }).write = ((data: Uint8Array, offset?: number, length?: number) => {
    writes.push(data);
    return write(data, offset, length);
  }) as typeof client.write;
});

afterAll(() => {
  client.end();
  listener.stop(true);
});

/** Waits (bounded) until the server side has read `bytes` bytes, and returns them joined. */
async function readBytes(bytes: number): Promise<Buffer> {
  for (let i = 0; i < 500 && receivedBytes < bytes; i++) await Bun.sleep(2);
  const out = Buffer.concat(received);
  received = [];
  receivedBytes = 0;
  return out;
}

describe("CorkedWriter", () => {
  test("consecutive views of one slab leave as one view of it after the callback, not before", async () => {
    writes.length = 0;
    const slab = new Uint8Array(64).map((_, i) => i);
    const out = new CorkedWriter(new WriteQueue(), () => client);
    out.write(slab.subarray(0, 10));
    out.write(slab.subarray(10, 25));
    out.write(slab.subarray(25, 40));
    expect(writes.length).toBe(0);
    await Promise.resolve(); // the microtask after the callback
    expect(writes.length).toBe(1);
    expect(writes[0]!.buffer).toBe(slab.buffer);
    expect(writes[0]!.byteOffset).toBe(0);
    expect(writes[0]!.length).toBe(40);
    expect([...(await readBytes(40))]).toEqual([...slab.subarray(0, 40)]);
  });

  test("chunks from different buffers leave joined in one write, in order", async () => {
    writes.length = 0;
    const out = new CorkedWriter(new WriteQueue(), () => client);
    out.write(Buffer.from("head "));
    out.write(Buffer.from("body "));
    out.write(Buffer.from("tail"));
    out.flush();
    expect(writes.length).toBe(1);
    expect((await readBytes(14)).toString()).toBe("head body tail");
  });

  test("pull mode: the session's bytes are taken at the flush, after what was written, once", async () => {
    writes.length = 0;
    const held = [Buffer.from("frames-1"), Buffer.from("frames-2")];
    let takes = 0;
    const out = new CorkedWriter(new WriteQueue(), () => client, () => {
      takes++;
      return held.shift() ?? null;
    });
    out.write(Buffer.from("first "));
    out.schedule();
    out.schedule();
    await Promise.resolve();
    expect(takes).toBe(1);
    expect(writes.length).toBe(1);
    expect((await readBytes(14)).toString()).toBe("first frames-1");
    out.schedule();
    await Promise.resolve();
    expect((await readBytes(8)).toString()).toBe("frames-2");
    out.flush(); // nothing written, nothing held: no socket write
    expect(writes.length).toBe(2);
  });

  test("no socket (closed): the bytes are dropped, nothing is written", () => {
    writes.length = 0;
    const out = new CorkedWriter(new WriteQueue(), () => null, () => Buffer.from("late"));
    out.write(Buffer.from("x"));
    out.flush();
    expect(writes.length).toBe(0);
  });
});
