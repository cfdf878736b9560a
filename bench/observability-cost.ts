// What tap and the access log cost per request, without the scheduling noise of a 2-core box: one
// process holds a keep-alive client, the HTTP/1 engine and its upstream, so the CPU it spends per request
// (process.cpuUsage ÷ requests) moves only with the work done. Modes alternate in rounds; the report is
// each mode's median and its difference to `plain` (the engine with an empty chain). The tap subscriber
// is a separate process, as `meshlet tap` is; the access log is written to /dev/null.
//   npm run bench:observability -- [--seconds 1] [--rounds 10] [--connections 50] [--subscriber count|cli]
import { openSync, readFileSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Socket } from "bun";
import { parseConfig } from "../src/config/env.ts";
import { http1Settings } from "../src/stack/http1.ts";
import { accessLogFilter } from "../src/access-log/access-log-filter.ts";
import { lineFormatFor } from "../src/access-log/access-log-format.ts";
import { AccessLogSink } from "../src/access-log/access-log-sink.ts";
import { FilterChain, type SomeHttpFilter, staticChain } from "../src/http/filter.ts";
import { createHttp1Server } from "../src/http/server.ts";
import { HttpMetrics } from "../src/metrics/http.ts";
import { Registry } from "../src/metrics/prom-client.ts";
import { TapHub } from "../src/tap/hub.ts";
import { startTapServer } from "../src/tap/server.ts";
import { tapFilter } from "../src/tap/tap-filter.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "1" },
    rounds: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    modes: { type: "string", default: "plain,access-log,tap,both" },
    subscriber: { type: "string", default: "count" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  process.stdout.write(
    "npm run bench:observability -- [--seconds S] [--rounds R] [--connections C] [--modes plain,access-log,tap,both] [--subscriber count|cli]\n" +
      "  --subscriber count: the tap subscriber counts the bytes it receives; cli: it is `meshlet tap` printing to /dev/null\n" +
      "  (its own CPU per tapped request is reported too).\n",
  );
  process.exit(0);
}
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = Number(args.connections);
const MODES = args.modes.split(",");

// --- the upstream: a fixed response per request head ---
const RESPONSE = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 17\r\nContent-Type: text/plain\r\n\r\nhello from bench\n");
const upstream = Bun.listen<{ tail: number }>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(s) {
      s.data = { tail: 0 };
    },
    data(s, data) {
      // Requests are GETs without bodies: one response per "\r\n\r\n" (the tail carries a split one).
      let n = 0;
      let matched = s.data.tail;
      for (let i = 0; i < data.length; i++) {
        const c = data[i]!;
        matched = c === (matched % 2 === 0 ? 13 : 10) ? matched + 1 : c === 13 ? 1 : 0;
        if (matched === 4) {
          n++;
          matched = 0;
        }
      }
      s.data.tail = matched;
      for (let i = 0; i < n; i++) s.write(RESPONSE);
    },
  },
});

// --- the features under test ---
const hub = new TapHub();
const tapServer = startTapServer({ listen: { host: "127.0.0.1", port: 0 }, hub });
// Where the proxy's stderr goes in bench/http.sh: /dev/null, written synchronously as Bun writes to a file.
const devNull = openSync("/dev/null", "w");
const sink = new AccessLogSink(lineFormatFor("json"), {
  write: (chunk, written) => {
    const ok = writeSync(devNull, chunk) === chunk.length;
    written();
    return ok;
  },
  once: () => undefined,
});
const accessLog = accessLogFilter({ sink });
const tap = tapFilter({ direction: "inbound", hub, responsesMayBeRetried: false });
const CHAINS: Record<string, SomeHttpFilter[]> = { plain: [], "access-log": [accessLog], tap: [tap], both: [tap, accessLog] };

function startProxy(filters: SomeHttpFilter[]): number {
  const server = createHttp1Server({
    direction: "inbound",
    ...http1Settings(parseConfig({}), "inbound"),
    forwardTo: { host: "127.0.0.1", port: upstream.port },
    chain: staticChain(new FilterChain(filters)),
    metrics: new HttpMetrics(new Registry()),
  });
  return Bun.listen({ hostname: "127.0.0.1", port: 0, allowHalfOpen: true, socket: server.socketHandlers }).port;
}
const ports = Object.fromEntries(MODES.map((m) => [m, startProxy(CHAINS[m]!)]));

// --- the tap subscriber, its own process like `meshlet tap` ---
const subscriberCommand =
  args.subscriber === "cli"
    ? ["bash", "-c", 'exec "$@" >/dev/null', "stdout-to-null", process.execPath, `${import.meta.dir}/../src/cli.ts`, "tap", "--tap", `127.0.0.1:${tapServer.port}`]
    : [
        process.execPath,
        "-e",
        `const ws = new WebSocket("ws://127.0.0.1:${tapServer.port}/tap"); ws.binaryType = "arraybuffer";
         let bytes = 0; ws.onopen = () => ws.send("{}"); ws.onmessage = (m) => { bytes += m.data.byteLength; };`,
      ];
const subscriber = Bun.spawn(subscriberCommand, { stdout: "ignore", stderr: "inherit" });
while (hub.subscriberCount === 0) await Bun.sleep(10);

/** utime + stime of a process, in µs. */
function processCpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

// --- the client: CONNECTIONS keep-alive connections, one request in flight on each ---
const REQUEST = Buffer.from("GET /api/items?page=2 HTTP/1.1\r\nHost: web.default.svc.cluster.local\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n");
let completed = 0;
let running = false;

async function openClients(port: number): Promise<Socket<{ got: number }>[]> {
  return Promise.all(
    Array.from({ length: CONNECTIONS }, () =>
      Bun.connect<{ got: number }>({
        hostname: "127.0.0.1",
        port,
        data: { got: 0 },
        socket: {
          data(s, data) {
            s.data.got += data.length;
            while (s.data.got >= RESPONSE_BYTES_SEEN) {
              s.data.got -= RESPONSE_BYTES_SEEN;
              completed++;
              if (running) s.write(REQUEST);
            }
          },
        },
      }),
    ),
  );
}

/** The response as the client sees it through the proxy (the engine may edit headers): measured once. */
let RESPONSE_BYTES_SEEN = Number.POSITIVE_INFINITY;
{
  const probe = await new Promise<number>((resolve) => {
    let text = "";
    Bun.connect({
      hostname: "127.0.0.1",
      port: ports[MODES[0]!]!,
      socket: {
        open(s) {
          s.write(REQUEST);
        },
        data(s, d) {
          text += d.toString("latin1");
          if (text.endsWith("hello from bench\n")) {
            resolve(text.length);
            s.end();
          }
        },
      },
    });
  });
  RESPONSE_BYTES_SEEN = probe;
}

async function runOnce(mode: string): Promise<{ usPerRequest: number; subscriberUsPerRequest: number; requests: number }> {
  const clients = await openClients(ports[mode]!);
  running = true;
  for (const c of clients) c.write(REQUEST);
  await Bun.sleep(300); // warm-up
  const c0 = completed;
  const cpu0 = process.cpuUsage();
  const subscriber0 = processCpuMicros(subscriber.pid);
  await Bun.sleep(SECONDS * 1000);
  const cpu = process.cpuUsage(cpu0);
  const subscriberMicros = processCpuMicros(subscriber.pid) - subscriber0;
  const requests = completed - c0;
  running = false;
  await Bun.sleep(50);
  for (const c of clients) c.end();
  await Bun.sleep(50);
  return { usPerRequest: (cpu.user + cpu.system) / requests, subscriberUsPerRequest: subscriberMicros / requests, requests };
}

const results: Record<string, number[]> = Object.fromEntries(MODES.map((m) => [m, []]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const mode of MODES) {
    const r = await runOnce(mode);
    results[mode]!.push(r.usPerRequest);
    const sub = mode === "tap" || mode === "both" ? `, tap subscriber ${r.subscriberUsPerRequest.toFixed(2)} µs/req` : "";
    process.stdout.write(`round ${round} ${mode.padEnd(10)} ${r.usPerRequest.toFixed(2)} µs/req (${r.requests} requests${sub})\n`);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
// Interference from other processes only ever adds CPU time: the minimum is the steadier figure.
const base = { median: median(results.plain ?? [Number.NaN]), min: Math.min(...(results.plain ?? [Number.NaN])) };
process.stdout.write(`\nCPU µs per request, client + engine + upstream in one process, ${ROUNDS} rounds of ${SECONDS} s\n`);
process.stdout.write("mode          min   over plain   median   over plain\n");
for (const mode of MODES) {
  const md = median(results[mode]!);
  const mn = Math.min(...results[mode]!);
  const f = (x: number) => x.toFixed(2).padStart(7);
  process.stdout.write(`${mode.padEnd(11)} ${f(mn)}  ${f(mn - base.min)} (${(mn / base.min).toFixed(2)}×) ${f(md)}  ${f(md - base.median)} (${(md / base.median).toFixed(2)}×)\n`);
}
subscriber.kill();
process.exit(0);
