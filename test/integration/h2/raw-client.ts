// Test support: one client connection driven by this codec's own client session over a Bun socket, for
// what curl and node's nghttp2 will not send (over-large header lists, never-indexed fields on demand).
import type { HeaderBlockKind } from "../../../src/h2/header-validation.ts";
import { H2Session } from "../../../src/h2/session.ts";

export interface RawHead {
  id: number;
  kind: HeaderBlockKind;
  headers: string[];
  neverIndexed: readonly string[] | null;
}

export interface RawRequest {
  headers: string[];
  neverIndexed?: readonly string[];
}

/** Sends `requests` (no bodies) on one connection and returns every head received until all streams closed (≤ 10 s). */
export async function rawExchange(port: number, requests: readonly RawRequest[]): Promise<RawHead[]> {
  const heads: RawHead[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let session!: H2Session;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, bytes) => session.receive(bytes),
      close: () => done(),
      error: () => done(),
    },
  });
  session = new H2Session({
    role: "client",
    write: (bytes) => socket.write(bytes),
    handler: {
      onHeaders: (id, headers, kind, _end, neverIndexed) => heads.push({ id, kind, headers, neverIndexed }),
      onData: (id, data) => session.consume(id, data.length),
      onClose: () => {
        if (session.openStreams === 0) done();
      },
    },
  });
  for (const r of requests) session.request(r.headers, true, r.neverIndexed ?? null);
  const timer = setTimeout(done, 10_000);
  await finished;
  clearTimeout(timer);
  socket.end();
  return heads;
}

/** The value of `name` in a flat header list. */
export function headerValue(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}
