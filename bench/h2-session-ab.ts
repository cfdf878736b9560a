// In-process A/B of the HTTP/2 codec between two checkouts, for a shared machine where alternating
// proxy runs cannot resolve a few percent: both versions' H2Session and CorkedWriter (wired as the
// engine wires them, pull mode where the session has it) run in one process, alternating slices.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import { median } from "./support.ts";

const USAGE = `Usage: node_modules/.bin/bun bench/h2-session-ab.ts DIR_A DIR_B

DIR_A, DIR_B: two meshlet checkouts (their src/h2/ is imported; e.g. \`git worktree add\` or
\`git archive REV | tar -x -C DIR\`). A client and a server session of each version are paired in memory,
each with a corked writer over an in-memory write queue; one iteration is 10 GETs answered 200 with an
nginx-like head and a 17-byte body. SLICES=${process.env.SLICES ?? 30} alternating slices of 100 ms of
process CPU time per version (after 5 warm-up pairs); prints GETs per CPU second (medians) and the
median of the paired ratios B ÷ A (run it as A/A once to see the noise floor).
`;

const CONCURRENT_GETS = 10;
const SLICE_MS = 100;
const REQUEST_HEAD = [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "127.0.0.1:20010", "accept", "*/*", "accept-encoding", "gzip, deflate", "user-agent", "h2load nghttp2/1.52.0"];
const RESPONSE_BODY = Buffer.from("hello from nginx\n");
const DATE = new Date().toUTCString();
const RESPONSE_HEAD = [":status", "200", "server", "nginx/1.22.1", "date", DATE, "content-type", "text/plain", "content-length", String(RESPONSE_BODY.length)];

const dirs = process.argv.slice(2);
if (dirs.length !== 2 || dirs.includes("-h") || dirs.includes("--help")) {
  process.stdout.write(USAGE);
  process.exit(dirs.length === 2 ? 0 : 64);
}

/** CPU milliseconds of this process (all threads): steadier than wall time on a shared machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** One version's paired sessions; returns a function that runs one iteration and says how many GETs it did. */
async function pairOf(dir: string): Promise<{ pull: boolean; iterate: () => number }> {
  // The two versions are different module files: each keeps its own JIT state.
  const { H2Session } = await import(resolve(dir, "src/h2/session.ts"));
  const { CorkedWriter } = await import(resolve(dir, "src/h2/corked-writer.ts"));
  const pull = typeof H2Session.prototype.takeOutput === "function";
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const socket = {};
  const queueInto = (into: Uint8Array[]) => ({
    write: (_socket: unknown, b: Uint8Array, start: number, end: number) => (into.push(start === 0 && end === b.length ? b : b.subarray(start, end)), true),
  });
  // Each checkout's own classes, imported by path: typed by neither checkout's declarations here.
  let client: any;
  let server: any;
  const clientOut = new CorkedWriter(queueInto(toServer), () => socket, pull ? () => client.takeOutput() : undefined);
  const serverOut = new CorkedWriter(queueInto(toClient), () => socket, pull ? () => server.takeOutput() : undefined);
  client = new H2Session({
    role: "client",
    write: (b: Uint8Array) => clientOut.write(b),
    onOutput: pull ? () => clientOut.schedule() : undefined,
    settingsAckTimeoutMs: 0,
    handler: { onData: (id: number, d: Uint8Array) => client.consume(id, d.length) },
  });
  server = new H2Session({
    role: "server",
    write: (b: Uint8Array) => serverOut.write(b),
    onOutput: pull ? () => serverOut.schedule() : undefined,
    settingsAckTimeoutMs: 0,
    handler: {
      onEnd: (id: number) => {
        server.respond(id, RESPONSE_HEAD);
        server.sendData(id, RESPONSE_BODY, true);
      },
    },
  });
  // Each receive() stands for one socket callback: the corked writers flush after it, as their microtask would.
  const flush = () => {
    clientOut.flush();
    serverOut.flush();
  };
  const pump = () => {
    flush();
    while (toServer.length + toClient.length > 0) {
      for (const b of toServer.splice(0)) {
        server.receive(b);
        flush();
      }
      for (const b of toClient.splice(0)) {
        client.receive(b);
        flush();
      }
    }
  };
  pump();
  return {
    pull,
    iterate: () => {
      for (let k = 0; k < CONCURRENT_GETS; k++) client.request(REQUEST_HEAD, true);
      pump();
      return CONCURRENT_GETS;
    },
  };
}

/** GETs per CPU second over one slice. */
function slice(iterate: () => number): number {
  let gets = 0;
  const start = cpuMs();
  while (cpuMs() - start < SLICE_MS) for (let j = 0; j < 10; j++) gets += iterate();
  return (gets * 1000) / (cpuMs() - start);
}

/** Lets the microtasks the corked writers scheduled run (their flushes find nothing left). */
const yieldTurn = () => new Promise((r) => setTimeout(r, 0));

const a = await pairOf(dirs[0]!);
const b = await pairOf(dirs[1]!);
for (let i = 0; i < 5; i++) {
  slice(a.iterate);
  slice(b.iterate);
  await yieldTurn();
}
const slices = Number(process.env.SLICES ?? 30);
const ra: number[] = [];
const rb: number[] = [];
for (let i = 0; i < slices; i++) {
  // Alternate which version goes first, so neither always runs right after the other.
  if (i % 2 === 1) {
    ra.push(slice(a.iterate));
    rb.push(slice(b.iterate));
  } else {
    rb.push(slice(b.iterate));
    ra.push(slice(a.iterate));
  }
  await yieldTurn();
}
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(
  `A (${dirs[0]}${a.pull ? ", pull mode" : ""}): ${fmt(median(ra))} GETs per CPU s\n` +
    `B (${dirs[1]}${b.pull ? ", pull mode" : ""}): ${fmt(median(rb))} GETs per CPU s\n` +
    `B ÷ A, median of ${slices} paired slices: ${median(ra.map((x, i) => rb[i]! / x)).toFixed(3)} (load average ${load})`,
);
