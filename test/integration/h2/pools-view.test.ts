// /pools.json with HTTP/2 upstream pools: after five requests and with one stream held open at the app,
// the inbound direction's `http2` pool shows one connection carrying every stream, the open stream, the
// app's MAX_CONCURRENT_STREAMS and nothing queued; the HTTP/1 pools beside it are unchanged.
import { afterAll, beforeAll, expect, test } from "bun:test";
import http2 from "node:http2";
import { type RunningProxy, startProxy } from "../../support/proxy.ts";

let app: http2.Http2Server;
let appPort: number;
let proxy: RunningProxy;
let releaseHeld: (() => void) | null = null;

beforeAll(async () => {
  app = http2.createServer({ settings: { maxConcurrentStreams: 7 } });
  app.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const answer = () => {
      stream.respond({ ":status": 200 });
      stream.end("ok\n");
    };
    if (headers[":path"] === "/held") releaseHeld = answer;
    else answer();
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", () => resolve()));
  appPort = (app.address() as { port: number }).port;
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${appPort}`, MESHLET_HTTP_POOL_IDLE_TIMEOUT: "10m" });
});

afterAll(async () => {
  await proxy.stop();
  app.close();
});

function get(session: http2.ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":path": path });
    let status = 0;
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", () => {});
    req.on("end", () => resolve(status));
    req.on("error", reject);
  });
}

async function pools(): Promise<any> {
  return (await fetch(`http://127.0.0.1:${proxy.adminPort}/pools.json`)).json();
}

test("/pools.json: the inbound HTTP/2 pool per endpoint — connections, open streams, the peer's MAX_CONCURRENT_STREAMS, queued", async () => {
  const session = http2.connect(`http://127.0.0.1:${proxy.inboundPort}`);
  try {
    for (let i = 0; i < 5; i++) expect(await get(session, `/r${i}`)).toBe(200);
    const held = get(session, "/held");
    for (let i = 0; i < 100 && releaseHeld === null; i++) await Bun.sleep(10);
    expect(releaseHeld).not.toBeNull();

    const during = await pools();
    expect(during.inbound.http2.endpoints).toEqual([
      {
        endpoint: `127.0.0.1:${appPort}`,
        connections: 1,
        connecting: 0,
        openStreams: 1,
        peerMaxConcurrentStreams: [7],
        queued: 0,
        opened: 1,
        dispatched: 6,
        reuseRatio: 1 - 1 / 6,
      },
    ]);
    expect(during.inbound.http2).toMatchObject({ opened: 1, dispatched: 6 });
    expect(during.inbound).toMatchObject({ opened: 0, dispatched: 0, endpoints: [] }); // HTTP/1 pool beside it

    releaseHeld!();
    expect(await held).toBe(200);
    const after = await pools();
    expect(after.inbound.http2.endpoints[0]).toMatchObject({ connections: 1, openStreams: 0, dispatched: 6 });
  } finally {
    session.close();
  }
});
