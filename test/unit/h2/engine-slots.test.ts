// The HTTP/2 engine's filter state slots: a client connection reuses a finished stream's slot set for a
// later stream (reset first, as an HTTP/1 connection reuses its one set), concurrent streams each have
// their own, and every request still runs the whole chain with clean state.
import { afterAll, beforeAll, expect, test } from "bun:test";
import http2 from "node:http2";
import type { TCPSocketListener } from "bun";

import { createH2Server, type H2Server } from "../../../src/h2/server.ts";
import { CONTINUE, FilterChain, type FilterState, type HttpFilter, staticChain } from "../../../src/http/filter.ts";

class ProbeState implements FilterState {
  path: string | undefined = undefined;
  resets = 0;
  reset(): void {
    this.path = undefined;
    this.resets++;
  }
}

const states: ProbeState[] = [];
const dirtyAtHead: string[] = [];
const probe: HttpFilter<ProbeState> = {
  name: "probe",
  newState: () => {
    const s = new ProbeState();
    states.push(s);
    return s;
  },
  onRequestHead(ctx, state) {
    if (state.path !== undefined) dirtyAtHead.push(state.path); // a reused slot must come back reset
    state.path = ctx.path;
    return CONTINUE;
  },
  onResponseHead(ctx, state) {
    expect(state.path).toBe(ctx.path);
    return false;
  },
};

let origin: http2.Http2Server;
let engine: H2Server;
let listener: TCPSocketListener<unknown>;

beforeAll(async () => {
  origin = http2.createServer();
  origin.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.respond({ ":status": 200 });
    stream.end(String(headers[":path"]));
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", () => resolve()));
  const port = (origin.address() as { port: number }).port;
  engine = createH2Server({
    direction: "inbound",
    forwardTo: { host: "127.0.0.1", port },
    connectTimeoutMs: 5000,
    clientIdleTimeoutMs: 60_000,
    upstreamIdleTimeoutMs: 60_000,
    maxConnectionsPerUpstream: 4,
    maxQueuedRequestsPerUpstream: 100,
    poolQueueTimeoutMs: 5000,
    chain: staticChain(new FilterChain([probe])),
  });
  listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: engine.socketHandlers as never });
});

afterAll(() => {
  engine.close();
  listener.stop(true);
  origin.close();
});

function get(session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":path": path }, { endStream: true });
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString()));
    req.on("error", reject);
  });
}

test("sequential streams on one connection reuse one reset slot set; concurrent ones get their own", async () => {
  const session = http2.connect(`http://127.0.0.1:${listener.port}`);
  try {
    for (let i = 0; i < 20; i++) expect(await get(session, `/seq/${i}`)).toBe(`/seq/${i}`);
    // The stream closes just after its response reaches the client: at most a second set was made meanwhile.
    expect(states.length).toBeLessThanOrEqual(2);
    const concurrent = await Promise.all(Array.from({ length: 10 }, (_, i) => get(session, `/par/${i}`)));
    expect(concurrent).toEqual(Array.from({ length: 10 }, (_, i) => `/par/${i}`));
    expect(states.length).toBeGreaterThanOrEqual(10);
    expect(states.length).toBeLessThanOrEqual(12);
    for (let i = 0; i < 20; i++) expect(await get(session, `/again/${i}`)).toBe(`/again/${i}`);
    expect(states.length).toBeLessThanOrEqual(12);
    expect(dirtyAtHead).toEqual([]);
    expect(states.reduce((n, s) => n + s.resets, 0)).toBeGreaterThan(30);
  } finally {
    session.close();
  }
});
