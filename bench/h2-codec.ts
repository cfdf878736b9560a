// Micro-benchmark of the HTTP/2 codec in src/h2/ (a unit figure, not a proxy comparison: no sockets,
// one core, no baseline): HPACK encode+decode of gRPC-like heads, frame parsing of a gRPC-like frame
// stream and of bulk DATA, and unary gRPC-like exchanges through a client and a server session in memory.
import { FrameReader } from "../src/h2/frames-reader.ts";
import { dataFrame, headersFrame } from "../src/h2/frames-writer.ts";
import { HpackDecoder } from "../src/h2/hpack-decoder.ts";
import { HpackEncoder } from "../src/h2/hpack-encoder.ts";
import { H2Session } from "../src/h2/session.ts";
import { appendResults, benchArgs, median } from "./support.ts";

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const USAGE = `Usage: node_modules/.bin/bun bench/h2-codec.ts [--record]

Unit throughput of the h2 codec (src/h2/), medians of ROUNDS=${ROUNDS} rounds, on one core, no sockets
(per second of wall time; CLOCK=cpu: per second of the process's CPU time, for A/B runs on a busy machine):
HPACK encode+decode of gRPC-like request/response/trailer heads (warm tables, a fresh x-request-id per
request), frame parsing (gRPC-like mix; 16 KiB DATA), and unary exchanges through paired sessions.
--record appends the table to bench/RESULTS.md. This is not a proxy comparison (see bench:http for those).
`;
const { record } = benchArgs("h2-codec", USAGE);

function requestHead(i: number): string[] {
  return [
    ":method", "POST", ":scheme", "http", ":path", "/helloworld.Greeter/SayHello", ":authority", "greeter.default.svc.cluster.local:50051",
    "content-type", "application/grpc", "te", "trailers", "grpc-timeout", "998m", "grpc-accept-encoding", "identity,deflate,gzip",
    "user-agent", "grpc-go/1.60.1", "x-request-id", `7f3c2a9e-${(i * 2654435761) >>> 0}`, "authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.abc",
  ];
}
const RESPONSE_HEAD = [":status", "200", "content-type", "application/grpc", "grpc-accept-encoding", "identity,deflate,gzip"];
const TRAILERS = ["grpc-status", "0", "grpc-message", ""];

/** Milliseconds of the clock the rates are per: wall time, or with CLOCK=cpu the process's CPU time (all threads, GC included) — steadier on a shared machine, for A/B runs. */
const clockMs =
  process.env.CLOCK === "cpu"
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      }
    : () => performance.now();

/** Runs `fn` for about `ms` and returns operations per second (fn returns the ops it did). */
function rate(fn: () => number, ms = 1000): number {
  fn(); // warm up
  let ops = 0;
  const start = clockMs();
  while (clockMs() - start < ms) ops += fn();
  return (ops * 1000) / (clockMs() - start);
}

function hpackRound(): number {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  let i = 0;
  return rate(() => {
    for (let k = 0; k < 1000; k++, i++) {
      const out: string[] = [];
      dec.decode(enc.encode(requestHead(i)), out);
      dec.decode(enc.encode(RESPONSE_HEAD), out);
      dec.decode(enc.encode(TRAILERS), out);
    }
    return 1000;
  });
}

/** A gRPC-like stream of frames: per call, request HEADERS + 1 DATA (120 B) + response HEADERS + DATA + trailers. */
function grpcFrames(calls: number): { bytes: Buffer; frames: number } {
  const enc = new HpackEncoder();
  const parts: Buffer[] = [];
  for (let c = 0; c < calls; c++) {
    const id = 2 * c + 1;
    parts.push(headersFrame(id, enc.encode(requestHead(c))), dataFrame(id, Buffer.alloc(120, 7), { endStream: true }));
    parts.push(headersFrame(id, enc.encode(RESPONSE_HEAD)), dataFrame(id, Buffer.alloc(120, 8)), headersFrame(id, enc.encode(TRAILERS), { endStream: true }));
  }
  return { bytes: Buffer.concat(parts), frames: calls * 5 };
}

function parseRound(input: { bytes: Buffer; frames: number }, chunkBytes: number): { framesPerS: number; mbPerS: number } {
  const sink = { frame: () => {}, streamError: () => {} };
  const framesPerS = rate(() => {
    const reader = new FrameReader();
    for (let at = 0; at < input.bytes.length; at += chunkBytes) reader.push(input.bytes.subarray(at, at + chunkBytes), sink);
    return input.frames;
  });
  return { framesPerS, mbPerS: (framesPerS * (input.bytes.length / input.frames)) / 1e6 };
}

function sessionRound(): number {
  const up: Uint8Array[] = [];
  const down: Uint8Array[] = [];
  let server!: H2Session;
  const client = new H2Session({ role: "client", write: (b) => up.push(b), settingsAckTimeoutMs: 0, handler: { onData: (id, d) => client.consume(id, d.length) } });
  server = new H2Session({
    role: "server",
    write: (b) => down.push(b),
    settingsAckTimeoutMs: 0,
    handler: {
      onData: (id, d) => server.consume(id, d.length),
      onEnd: (id) => {
        server.respond(id, RESPONSE_HEAD);
        server.sendData(id, Buffer.alloc(120, 8));
        server.sendTrailers(id, TRAILERS);
      },
    },
  });
  const pump = () => {
    while (up.length + down.length > 0) {
      for (const b of up.splice(0)) server.receive(b);
      for (const b of down.splice(0)) client.receive(b);
    }
  };
  pump();
  const body = Buffer.alloc(120, 7);
  let i = 0;
  return rate(() => {
    for (let k = 0; k < 50; k++, i++) {
      const id = client.request(requestHead(i));
      client.sendData(id, body, true);
    }
    pump();
    return 50;
  });
}

const rows: Record<string, number[]> = {
  hpack: [],
  grpcFramesPerS: [],
  grpcMbPerS: [],
  bulkMbPerS: [],
  exchanges: [],
};
const grpc = grpcFrames(2000);
const bulk = { bytes: Buffer.concat(Array.from({ length: 512 }, (_, i) => dataFrame(1 + 2 * (i % 8), Buffer.alloc(16_384, i)))), frames: 512 };
for (let r = 0; r < ROUNDS; r++) {
  rows.hpack!.push(hpackRound());
  const g = parseRound(grpc, 65_536);
  rows.grpcFramesPerS!.push(g.framesPerS);
  rows.grpcMbPerS!.push(g.mbPerS);
  rows.bulkMbPerS!.push(parseRound(bulk, 65_536).mbPerS);
  rows.exchanges!.push(sessionRound());
  process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const table = [
  "| measurement (one core, in memory) | median of rounds |",
  "|---|---|",
  `| HPACK encode+decode, gRPC-like request + response + trailers heads (warm tables), calls/s | ${fmt(median(rows.hpack!))} |`,
  `| frame parse, gRPC-like mix (HEADERS/DATA 120 B/trailers) in 64 KiB chunks, frames/s | ${fmt(median(rows.grpcFramesPerS!))} (${fmt(median(rows.grpcMbPerS!))} MB/s) |`,
  `| frame parse, 16 KiB DATA frames in 64 KiB chunks, MB/s | ${fmt(median(rows.bulkMbPerS!))} |`,
  `| unary gRPC-like exchanges through client + server sessions (both codecs, HPACK, flow control), exchanges/s | ${fmt(median(rows.exchanges!))} |`,
].join("\n");
console.log(table);
if (record) {
  appendResults(
    "HTTP/2 codec unit throughput (bench/h2-codec.ts)",
    `node_modules/.bin/bun bench/h2-codec.ts --record  # ROUNDS=${ROUNDS}`,
    table,
    "A unit figure for the codec alone — no sockets, no proxy, no baseline — to size the HTTP/2 engine's budget: " +
      "it is NOT a comparison with HAProxy or nginx (that is `npm run bench:h2`, once the engine exists). " +
      "The machine is shared with other sessions; medians of the rounds.",
  );
}
process.exit(0);
