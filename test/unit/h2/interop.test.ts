// Interoperability over real loopback sockets: Bun's own node:http2 client against our server session,
// and our client session against a node:http2 server — requests with and without bodies (one larger
// than every flow-control window), request and response trailers, byte-exact. The socket glue is the
// thinnest possible: socket bytes into receive(), the session's writes onto the socket.
import { afterEach, expect, test } from "bun:test";
import http2 from "node:http2";
import net from "node:net";

import { H2Session } from "../../../src/h2/session.ts";
import { prng } from "../../support/prng.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function randomBody(bytes: number, seed: number): Buffer {
  const next = prng(seed);
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32LE(next(), Math.min(i, bytes - 4));
  return b;
}

function listen(server: net.Server | http2.Http2Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

/** Our server session behind a net server: echoes each request body, then trailers naming what it saw. */
async function startOurServer(): Promise<number> {
  const server = net.createServer((socket) => {
    const seen = new Map<number, { path: string; bytes: number; trailer: string }>();
    const session: H2Session = new H2Session({
      role: "server",
      write: (b) => socket.write(b),
      handler: {
        onHeaders(id, headers, kind) {
          const get = (n: string) => headers[headers.indexOf(n) + 1] ?? "";
          if (kind === "request") {
            seen.set(id, { path: get(":path"), bytes: 0, trailer: "" });
            session.respond(id, [":status", "200", "content-type", "application/octet-stream", "x-path", get(":path")]);
          } else {
            seen.get(id)!.trailer = get("x-request-trailer");
          }
        },
        onData(id, data) {
          seen.get(id)!.bytes += data.length;
          session.sendData(id, Buffer.from(data));
          session.consume(id, data.length);
        },
        onEnd(id) {
          const s = seen.get(id)!;
          session.sendTrailers(id, ["grpc-status", "0", "x-echoed-bytes", String(s.bytes), "x-saw-trailer", s.trailer || "none"]);
        },
        onError: () => socket.end(),
      },
    });
    socket.on("data", (d: Buffer) => session.receive(d));
    socket.on("close", () => session.close());
    socket.on("error", () => session.close());
  });
  cleanups.push(() => server.close());
  return listen(server);
}

interface NodeResponse {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

function nodeRequest(client: http2.ClientHttp2Session, path: string, body: Buffer | null, trailer?: string): Promise<NodeResponse> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ":method": body ? "POST" : "GET", ":path": path }, { endStream: body === null, waitForTrailers: trailer !== undefined });
    if (trailer !== undefined) req.on("wantTrailers", () => req.sendTrailers({ "x-request-trailer": trailer }));
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => (headers = h));
    req.on("trailers", (t) => (trailers = t));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve({ headers, body: Buffer.concat(chunks), trailers }));
    req.on("error", reject);
    if (body) req.end(body);
  });
}

test("node:http2 client → our server session: GET, POSTs up to 1 MiB echoed byte-exact, trailers both ways", async () => {
  const port = await startOurServer();
  const client = http2.connect(`http://127.0.0.1:${port}`);
  cleanups.push(() => client.close());
  const small = randomBody(10_000, 1);
  const large = randomBody(1 << 20, 2);
  const [get, post, big, withTrailer] = await Promise.all([
    nodeRequest(client, "/get", null),
    nodeRequest(client, "/pkg.Echo/Small", small),
    nodeRequest(client, "/pkg.Echo/Large", large),
    nodeRequest(client, "/pkg.Echo/Trailer", Buffer.from("with trailer"), "sent-by-node"),
  ]);
  expect(Number(get.headers[":status"])).toBe(200);
  expect(get.headers["x-path"]).toBe("/get");
  expect(get.body.length).toBe(0);
  expect(get.trailers["x-echoed-bytes"]).toBe("0");
  expect(post.body.equals(small)).toBe(true);
  expect(post.trailers["grpc-status"]).toBe("0");
  expect(big.body.equals(large)).toBe(true);
  expect(big.trailers["x-echoed-bytes"]).toBe(String(1 << 20));
  expect(withTrailer.body.toString()).toBe("with trailer");
  expect(withTrailer.trailers["x-saw-trailer"]).toBe("sent-by-node");
}, 30_000);

/** A node:http2 server that echoes bodies and answers with trailers. */
async function startNodeServer(): Promise<number> {
  const server = http2.createServer();
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      stream.respond({ ":status": 200, "x-path": String(headers[":path"]), "x-method": String(headers[":method"]) }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "x-received": String(body.length), "x-req-trailer": reqTrailers.get(stream.id!) ?? "none" }));
      stream.end(body);
    });
    stream.on("trailers", (t: http2.IncomingHttpHeaders) => reqTrailers.set(stream.id!, String(t["x-request-trailer"])));
  });
  const reqTrailers = new Map<number, string>();
  cleanups.push(() => server.close());
  return listen(server);
}

interface OurResponse {
  heads: Array<{ kind: string; headers: string[] }>;
  body: Buffer[];
  ended: boolean;
}

test("our client session → node:http2 server: GET, POSTs up to 1 MiB, request trailers, response trailers, byte-exact", async () => {
  const port = await startNodeServer();
  const socket = net.connect(port, "127.0.0.1");
  cleanups.push(() => socket.destroy());
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const responses = new Map<number, OurResponse>();
  const done = new Map<number, () => void>();
  const session: H2Session = new H2Session({
    role: "client",
    write: (b) => socket.write(b),
    handler: {
      onHeaders: (id, headers, kind) => responses.get(id)!.heads.push({ kind, headers }),
      onData: (id, data) => {
        responses.get(id)!.body.push(Buffer.from(data));
        session.consume(id, data.length);
      },
      onEnd: (id) => {
        responses.get(id)!.ended = true;
        done.get(id)!();
      },
      onReset: (id) => done.get(id)?.(),
    },
  });
  socket.on("data", (d: Buffer) => session.receive(d));
  const send = (path: string, body: Buffer | null, trailer?: string) => {
    const id = session.request([":method", body ? "POST" : "GET", ":scheme", "http", ":path", path, ":authority", `127.0.0.1:${port}`], body === null);
    responses.set(id, { heads: [], body: [], ended: false });
    const finished = new Promise<OurResponse>((resolve) => done.set(id, () => resolve(responses.get(id)!)));
    if (body) {
      if (trailer !== undefined) {
        session.sendData(id, body);
        session.sendTrailers(id, ["x-request-trailer", trailer]);
      } else {
        session.sendData(id, body, true);
      }
    }
    return finished;
  };
  const small = randomBody(20_000, 3);
  const large = randomBody(1 << 20, 4);
  const [get, post, big, trailed] = await Promise.all([
    send("/get", null),
    send("/pkg.Echo/Small", small),
    send("/pkg.Echo/Large", large),
    send("/pkg.Echo/Trailer", Buffer.from("abc"), "from-us"),
  ]);
  const field = (headers: string[], name: string) => headers[headers.indexOf(name) + 1];
  for (const r of [get, post, big, trailed]) {
    expect(r.ended).toBe(true);
    expect(r.heads.map((h) => h.kind)).toEqual(["response", "trailers"]);
    expect(field(r.heads[0]!.headers, ":status")).toBe("200");
    expect(field(r.heads[1]!.headers, "grpc-status")).toBe("0");
  }
  expect(field(get.heads[0]!.headers, "x-method")).toBe("GET");
  expect(Buffer.concat(post.body).equals(small)).toBe(true);
  expect(Buffer.concat(big.body).equals(large)).toBe(true);
  expect(field(big.heads[1]!.headers, "x-received")).toBe(String(1 << 20));
  expect(Buffer.concat(trailed.body).toString()).toBe("abc");
  expect(field(trailed.heads[1]!.headers, "x-req-trailer")).toBe("from-us");
  session.goaway();
}, 30_000);
