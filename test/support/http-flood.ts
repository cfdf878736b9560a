// Sends many small HTTP/1.1 requests fast: a few keep-alive connections, each writing its requests in
// pipelined batches and waiting for the batch's responses (counted by status line) before the next.
import net from "node:net";

export interface FloodOptions {
  readonly port: number;
  /** Total requests, numbered 0..total-1 across all connections. */
  readonly total: number;
  readonly connections: number;
  /** Requests written at once on a connection before waiting for their responses. */
  readonly batch: number;
  /** The request bytes for request number i (a whole request, ending with its blank line). */
  readonly request: (i: number) => string;
  /** The whole flood fails (with its progress) if it takes longer than this. */
  readonly timeoutMs: number;
}

export interface FloodResult {
  readonly responses: number;
  /** Responses per status code. */
  readonly statuses: ReadonlyMap<number, number>;
}

const STATUS_LINE = "HTTP/1.1 ";

/** Runs the flood; responses must have bodies without "HTTP/1.1 " in them (they are counted by it). */
export async function flood(opts: FloodOptions): Promise<FloodResult> {
  let next = 0;
  let responses = 0;
  const statuses = new Map<number, number>();
  const sockets: net.Socket[] = [];
  const worker = () =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect(opts.port, "127.0.0.1");
      sockets.push(socket);
      let pending = 0;
      let carry = "";
      const sendBatch = () => {
        if (next >= opts.total) {
          socket.end();
          resolve();
          return;
        }
        let text = "";
        for (let n = 0; n < opts.batch && next < opts.total; n++) {
          text += opts.request(next++);
          pending++;
        }
        socket.write(text, "latin1");
      };
      socket.on("connect", sendBatch);
      socket.on("data", (chunk: Buffer) => {
        const text = carry + chunk.toString("latin1");
        let at = text.indexOf(STATUS_LINE);
        let scannedTo = 0;
        // A status line is counted once its code is complete; a partial one waits in `carry`.
        while (at >= 0 && at + STATUS_LINE.length + 3 <= text.length) {
          const code = Number(text.slice(at + STATUS_LINE.length, at + STATUS_LINE.length + 3));
          statuses.set(code, (statuses.get(code) ?? 0) + 1);
          responses++;
          pending--;
          scannedTo = at + STATUS_LINE.length + 3;
          at = text.indexOf(STATUS_LINE, scannedTo);
        }
        carry = at >= 0 ? text.slice(at) : text.slice(Math.max(scannedTo, text.length - STATUS_LINE.length));
        if (pending === 0) sendBatch();
      });
      socket.on("error", reject);
      socket.on("close", () => {
        if (pending > 0) reject(new Error(`connection closed with ${pending} responses outstanding`));
      });
    });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`flood not done within ${opts.timeoutMs} ms: ${responses} of ${opts.total} responses`)), opts.timeoutMs);
  });
  try {
    await Promise.race([Promise.all(Array.from({ length: opts.connections }, worker)), timeout]);
  } finally {
    clearTimeout(timer);
    for (const s of sockets) s.destroy();
  }
  return { responses, statuses };
}
