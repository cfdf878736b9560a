// Footprint of one meshlet process (issue 15): VmRSS after start with an empty config dir, with 1,000
// idle keep-alive HTTP client connections (each made one request; also read at 1 and 2,000 for the cost
// of one connection) and with 1,000 spliced opaque connections held open; exec -> /ready (median of
// STARTS); and the no-growth check: RSS and open fds after the first 100,000 requests (wrk -t1 -c50) vs
// after 1,000,000 plus 10,000 open/close cycles.
import { type Socket, spawn, spawnSync } from "bun";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { appendResults, background, port, progress, waitForPort, workDir, benchArgs, median } from "./support.ts";

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 1000);
const STARTS = Number(process.env.STARTS ?? 7);
const FIRST_REQUESTS = 100_000;
const TOTAL_REQUESTS = Number(process.env.TOTAL_REQUESTS ?? 1_000_000);
const CYCLES = Number(process.env.CYCLES ?? 10_000);
const SETTLE_MS = 1500;
const BUN_FLAGS = (process.env.BUN_FLAGS ?? "").split(" ").filter(Boolean);
/** Allocator and engine tuning that meshlet inherits from the bench's environment (named in the record). */
const TUNING_ENV = Object.entries(process.env).filter(([k]) => k.startsWith("MIMALLOC_") || k.startsWith("BUN_JSC_")).map(([k, v]) => `${k}=${v}`);

const USAGE = `Usage: bash bench/footprint.sh [--record]     (npm run bench:footprint [-- --record])

meshlet's footprint, one process at a time, empty config dir, inbound to a local nginx (HTTP) or a Bun TCP
echo on an opaque port: VmRSS (split into anonymous and file-backed pages) after start; with CONNECTIONS=${CONNECTIONS} idle keep-alive HTTP connections
(one request each; also read at 1 and 2 × CONNECTIONS, for the cost of one more connection); with CONNECTIONS spliced opaque connections held open; exec -> /ready (median of
STARTS=${STARTS}); RSS and fd count after the first ${FIRST_REQUESTS} requests (wrk -t1 -c50) vs after
TOTAL_REQUESTS=${TOTAL_REQUESTS} plus CYCLES=${CYCLES} connection open/close cycles. BUN_FLAGS (e.g. --smol) go
to the meshlet process, and so does the environment: MIMALLOC_* and BUN_JSC_* variables set for the bench
reach meshlet (they are read when the process starts) and are named in the recorded command. bench/footprint.sh installs wrk and nginx-light with apt-get when missing.

Options:
  --record     append the result table to bench/RESULTS.md (default: only print it)
  -h, --help   show this help
`;

const args = benchArgs("bench/footprint.ts", USAGE);

const MB = (kb: number) => (kb / 1024).toFixed(1);
const statusKb = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
const rssKb = (pid: number) => statusKb(pid, "VmRSS");
/** VmRSS split: private anonymous memory (JS heap, malloc, stacks) vs file-backed pages (mostly the Bun executable's). */
const rssSplitKb = (pid: number) => ({ anon: statusKb(pid, "RssAnon"), file: statusKb(pid, "RssFile") });
const split = (kb: { anon: number; file: number }) => `anon ${MB(kb.anon)} + file ${MB(kb.file)}`;
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
/**
 * The lowest VmRSS over 3 s of readings every 250 ms, for the no-growth check: one reading lands anywhere
 * in the collector's cycle (runs of the same build differed by up to 9 MB); a leak raises the floor.
 */
async function restingRssKb(pid: number): Promise<number> {
  let lowest = rssKb(pid);
  for (let i = 0; i < 12; i++) {
    await Bun.sleep(250);
    lowest = Math.min(lowest, rssKb(pid));
  }
  return lowest;
}
const settle = () => Bun.sleep(SETTLE_MS);
/** Waits (up to 15 s: MESHLET_HTTP_POOL_IDLE_TIMEOUT is 3 s) for the fd count to fall to `idle`; returns the last count. */
async function fdsBackTo(pid: number, idle: number): Promise<number> {
  for (let waited = 0; waited < 15_000 && fds(pid) > idle; waited += 250) await Bun.sleep(250);
  return fds(pid);
}

// --- the backends: nginx (HTTP) and a TCP echo on a port meshlet treats as opaque ---
const nginxPort = port();
const nginxDir = join(workDir, "nginx");
mkdirSync(nginxDir);
writeFileSync(
  join(nginxDir, "nginx.conf"),
  `worker_processes 1; daemon off; pid ${nginxDir}/nginx.pid; error_log ${nginxDir}/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000; client_body_temp_path ${nginxDir}/b; proxy_temp_path ${nginxDir}/p;
  fastcgi_temp_path ${nginxDir}/f; uwsgi_temp_path ${nginxDir}/u; scgi_temp_path ${nginxDir}/s;
  server { listen 127.0.0.1:${nginxPort}; location / { default_type text/plain; return 200 "hello from nginx\\n"; } } }
`,
);
const nginx = background(["nginx", "-c", join(nginxDir, "nginx.conf"), "-p", nginxDir]);
const echoPort = port();
Bun.listen({ hostname: "127.0.0.1", port: echoPort, socket: { data: (s, d) => void s.write(d) } });
await waitForPort(nginxPort);

const emptyDir = join(workDir, "empty");
mkdirSync(emptyDir);
const bun = join(import.meta.dir, "..", "node_modules", ".bin", "bun");
const cli = join(import.meta.dir, "..", "src", "cli.ts");

interface Meshlet { readonly pid: number; readonly inbound: number; readonly startMs: number; stop(): Promise<void> }

/** Starts meshlet inbound to `forward` and resolves once /ready answers 200 (polled every 2 ms). */
async function startMeshlet(forward: number): Promise<Meshlet> {
  const inbound = port();
  const admin = port();
  const t0 = performance.now();
  const proc = spawn([bun, ...BUN_FLAGS, cli, "proxy"], {
    stdout: "ignore",
    stderr: Bun.file(join(workDir, `meshlet-${inbound}.log`)),
    env: {
      ...process.env,
      MESHLET_INBOUND_LISTEN: `127.0.0.1:${inbound}`,
      MESHLET_INBOUND_FORWARD: `127.0.0.1:${forward}`,
      MESHLET_OUTBOUND_LISTEN: `127.0.0.1:${port()}`,
      MESHLET_ADMIN_LISTEN: `127.0.0.1:${admin}`,
      MESHLET_OPAQUE_PORTS: String(echoPort),
      MESHLET_CONFIG_DIR: emptyDir,
      MESHLET_LOG_LEVEL: "warn",
    },
  });
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${admin}/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (proc.exitCode !== null) throw new Error(`meshlet exited with ${proc.exitCode}; see ${workDir}/meshlet-${inbound}.log`);
    if (performance.now() - t0 > 10_000) throw new Error("meshlet not ready after 10 s");
    await Bun.sleep(2);
  }
  const startMs = performance.now() - t0;
  return { pid: proc.pid, inbound, startMs, stop: async () => void (proc.kill("SIGKILL"), await proc.exited) };
}

/** Opens `n` connections to `target`; each sends `hello` and waits for a reply that satisfies `done`. */
async function holdConnections(target: number, n: number, hello: string, done: (reply: string) => boolean): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const BATCH = 100;
  for (let i = 0; i < n; i += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, n - i) }, () =>
        new Promise<void>((resolve, reject) => {
          let reply = "";
          Bun.connect({
            hostname: "127.0.0.1",
            port: target,
            socket: {
              open: (s) => void (sockets.push(s), s.write(hello)),
              data: (_s, d) => {
                reply += d.toString();
                if (done(reply)) resolve();
              },
              close: () => reject(new Error("a held connection closed")),
              error: (_s, e) => reject(e),
            },
          }).catch(reject);
        }),
      ),
    );
  }
  return sockets;
}

const HTTP_REQUEST = "GET / HTTP/1.1\r\nHost: app\r\n\r\n";
const rows: string[] = [];
const verdict = (ok: boolean) => (ok ? "met" : "**not met**");

// === exec -> /ready, and RSS after start ===
progress(`exec -> /ready: ${STARTS} starts`);
const startTimes: number[] = [];
const idleRss: number[] = [];
const idleAnon: number[] = [];
const idleFile: number[] = [];
for (let i = 0; i < STARTS; i++) {
  const m = await startMeshlet(nginxPort);
  startTimes.push(m.startMs);
  await settle();
  idleRss.push(rssKb(m.pid));
  const kb = rssSplitKb(m.pid);
  idleAnon.push(kb.anon);
  idleFile.push(kb.file);
  await m.stop();
}
const readyMs = median(startTimes);
const idleKb = median(idleRss);
progress(`ready in median ${readyMs.toFixed(0)} ms; idle RSS ${MB(idleKb)} MB`);

// === 1,000 idle keep-alive HTTP connections ===
// Read after the first connection, after CONNECTIONS and after another CONNECTIONS: the first thousand
// also pays once for the request path (its code paged in, the JIT tiering it up), the second thousand
// only for the connections themselves.
progress(`${CONNECTIONS} keep-alive HTTP connections, one request each, held idle`);
{
  const m = await startMeshlet(nginxPort);
  const hello = (r: string) => r.includes("hello from nginx");
  const sockets = await holdConnections(m.inbound, 1, HTTP_REQUEST, hello);
  await settle();
  const oneKb = rssKb(m.pid);
  sockets.push(...(await holdConnections(m.inbound, CONNECTIONS - 1, HTTP_REQUEST, hello)));
  await settle();
  const kb = rssKb(m.pid);
  rows.push(`| RSS with ${CONNECTIONS} idle keep-alive HTTP connections (each made one request) | ${MB(kb)} MB (${split(rssSplitKb(m.pid))}) | ≤ 48 MB | ${verdict(kb <= 48 * 1024)} |`);
  progress(`RSS ${MB(kb)} MB with ${sockets.length} HTTP connections (fds ${fds(m.pid)})`);
  sockets.push(...(await holdConnections(m.inbound, CONNECTIONS, HTTP_REQUEST, hello)));
  await settle();
  const doubleKb = rssKb(m.pid);
  const perConnKb = (doubleKb - kb) / CONNECTIONS;
  rows.push(`| … the same process with 1 connection → ${CONNECTIONS} → ${2 * CONNECTIONS} | ${MB(oneKb)} → ${MB(kb)} → ${MB(doubleKb)} MB (the second ${CONNECTIONS}: ${perConnKb.toFixed(1)} KB a connection) | | |`);
  progress(`RSS ${MB(doubleKb)} MB with ${sockets.length} HTTP connections: ${perConnKb.toFixed(1)} KB for each of the second ${CONNECTIONS}`);
  for (const s of sockets) s.end();
  await m.stop();
}

// === 1,000 spliced opaque connections ===
progress(`${CONNECTIONS} spliced opaque connections to a TCP echo, held open`);
{
  const m = await startMeshlet(echoPort);
  const sockets = await holdConnections(m.inbound, CONNECTIONS, "ping\n", (r) => r.includes("ping"));
  await settle();
  const kb = rssKb(m.pid);
  rows.push(`| RSS with ${CONNECTIONS} spliced opaque connections (held open) | ${MB(kb)} MB (${split(rssSplitKb(m.pid))}) | ≤ 48 MB | ${verdict(kb <= 48 * 1024)} |`);
  progress(`RSS ${MB(kb)} MB with ${sockets.length} opaque connections (fds ${fds(m.pid)})`);
  for (const s of sockets) s.end();
  await m.stop();
}

// === no growth: 100k vs 1M requests, plus open/close cycles ===
function wrk(target: number, seconds: number): number {
  const out = spawnSync(["wrk", "-t1", "-c50", `-d${seconds}s`, `http://127.0.0.1:${target}/`]).stdout.toString();
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  if (non2xx > 0) throw new Error(`wrk saw ${non2xx} non-2xx responses`);
  return Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
}
/** Runs wrk in slices until `served` reaches `goal` requests; returns the new total. */
function wrkUntil(target: number, served: number, goal: number): number {
  while (served < goal) {
    const rate = 30_000; // a guess for the slice length only; the count is what wrk reports
    served += wrk(target, Math.max(1, Math.min(10, Math.ceil((goal - served) / rate))));
  }
  return served;
}
/** `n` connections opened and closed, 50 at a time: connect, one request with Connection: close, wait for the close. */
async function openCloseCycles(target: number, n: number): Promise<void> {
  let left = n;
  const worker = async () => {
    while (left-- > 0) {
      await new Promise<void>((resolve, reject) => {
        Bun.connect({
          hostname: "127.0.0.1",
          port: target,
          socket: { open: (s) => void s.write("GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"), data() {}, close: () => resolve(), error: (_s, e) => reject(e) },
        }).catch(reject);
      });
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
}

{
  const m = await startMeshlet(nginxPort);
  await settle();
  const idleFds = fds(m.pid);
  progress(`no growth: wrk -t1 -c50 to ${FIRST_REQUESTS} requests`);
  let served = wrkUntil(m.inbound, 0, FIRST_REQUESTS);
  // Both RSS readings are taken once the upstream pool has idled out, so they compare like with like.
  await fdsBackTo(m.pid, idleFds);
  await settle();
  const firstKb = await restingRssKb(m.pid);
  const firstServed = served;
  progress(`after ${served} requests: RSS ${MB(firstKb)} MB; on to ${TOTAL_REQUESTS}`);
  served = wrkUntil(m.inbound, served, TOTAL_REQUESTS);
  progress(`after ${served} requests; ${CYCLES} connection open/close cycles`);
  await openCloseCycles(m.inbound, CYCLES);
  const lastFds = await fdsBackTo(m.pid, idleFds);
  await settle();
  const lastKb = await restingRssKb(m.pid);
  const growthMb = (lastKb - firstKb) / 1024;
  rows.push(`| RSS after ${firstServed.toLocaleString("en")} requests → after ${served.toLocaleString("en")} + ${CYCLES.toLocaleString("en")} open/close cycles | ${MB(firstKb)} → ${MB(lastKb)} MB (${growthMb >= 0 ? "+" : ""}${growthMb.toFixed(1)} MB) | grows ≤ 5 MB | ${verdict(growthMb <= 5)} |`);
  rows.push(`| open fds idle → after the run (upstream pool idled out) | ${idleFds} → ${lastFds} | back to idle | ${verdict(lastFds <= idleFds)} |`);
  await m.stop();
}

rows.unshift(
  `| RSS after start, empty config dir (median of ${STARTS}) | ${MB(idleKb)} MB (${split({ anon: median(idleAnon), file: median(idleFile) })}) | ≤ 40 MB | ${verdict(idleKb <= 40 * 1024)} |`,
  `| exec → /ready (median of ${STARTS}; min ${Math.min(...startTimes).toFixed(0)}, max ${Math.max(...startTimes).toFixed(0)}) | ${readyMs.toFixed(1)} ms | ≤ 150 ms | ${verdict(readyMs <= 150)} |`,
);
const table = ["| meshlet, one process" + (BUN_FLAGS.length ? ` (bun ${BUN_FLAGS.join(" ")})` : "") + " | measured | target | |", "|---|---:|---:|---|", ...rows].join("\n");
process.stdout.write(`\n${table}\n`);
if (args.record) {
  const envPrefix = [...TUNING_ENV, ...(BUN_FLAGS.length ? [`BUN_FLAGS="${BUN_FLAGS.join(" ")}"`] : [])].map((e) => `${e} `).join("");
  appendResults("Footprint", `${envPrefix}bash bench/footprint.sh --record`, table,
    "VmRSS from /proc/PID/status, read 1.5 s after each step settles (for the no-growth check: the lowest of 12 readings over the next 3 s at each end), split into RssAnon (private: JS heap, malloc, stacks) and RssFile (file-backed: mostly the Bun executable's code and data pages, shared by every bun process on the host); HTTP inbound to a local nginx, opaque inbound to a Bun TCP echo on a port in MESHLET_OPAQUE_PORTS; exec → /ready is the spawn of `bun src/cli.ts proxy` to the first 200 from /ready, polled every 2 ms.");
  progress("recorded in bench/RESULTS.md");
}
// SIGTERM, not the SIGKILL stopAll() sends at exit: a killed nginx master leaves its worker running.
nginx.kill("SIGTERM");
await nginx.exited;
process.exit(0);
