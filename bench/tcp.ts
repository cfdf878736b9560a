// Opaque TCP benchmark: iperf3 bulk throughput and redis-benchmark GET/SET (-P 1 and -P 16), each
// direct, through meshlet (opaque port, native splice) and through HAProxy 2.6 (mode tcp,
// option splice-auto, nbthread 1), in one run: BENCH_ROUNDS rounds in rotating order, medians kept.
// Prints ratios; appends them to bench/RESULTS.md only with --record.
import { spawnSync } from "bun";

import { appendResults, background, port, progress, ratio, startMeshlet, waitForPort, writeConfig, benchArgs, median } from "./support.ts";

const IPERF_SECONDS = Number(process.env.BENCH_IPERF_SECONDS ?? 5);
const REDIS_REQUESTS = Number(process.env.BENCH_REDIS_REQUESTS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const USAGE = `Usage: bash bench/tcp.sh [--record]     (npm run bench:tcp [-- --record])

Opaque TCP through meshlet vs direct vs HAProxy: iperf3 bulk (BENCH_IPERF_SECONDS=${IPERF_SECONDS}) and
redis-benchmark SET/GET at -P 1 and -P 16 (BENCH_REDIS_REQUESTS=${REDIS_REQUESTS}), BENCH_ROUNDS=${ROUNDS} rotating
rounds, medians kept. bench/tcp.sh installs iperf3, haproxy and redis with apt-get when missing.

Options:
  --record     append the result table to bench/RESULTS.md (default: only print it)
  -h, --help   show this help
`;

const args = benchArgs("bench/tcp.ts", USAGE);

const iperfPort = port();
const redisPort = port();
const meshlet = { iperf: port(), redis: port() };
const haproxy = { iperf: port(), redis: port() };

background(["iperf3", "-s", "-p", String(iperfPort)]);
background(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
await waitForPort(iperfPort);
await waitForPort(redisPort);

await startMeshlet([[meshlet.iperf, iperfPort], [meshlet.redis, redisPort]], { MESHLET_OPAQUE_PORTS: `${iperfPort},${redisPort}` });

const haproxyConfig = writeConfig(
  "haproxy-tcp.cfg",
  `global
  nbthread 1
  maxconn 4000
defaults
  mode tcp
  option splice-auto
  timeout connect 1s
  timeout client 1m
  timeout server 1m
listen iperf
  bind 127.0.0.1:${haproxy.iperf}
  server s 127.0.0.1:${iperfPort}
listen redis
  bind 127.0.0.1:${haproxy.redis}
  server s 127.0.0.1:${redisPort}
`,
);
background(["haproxy", "-f", haproxyConfig, "-db"]);
await waitForPort(haproxy.iperf);

async function iperfGbps(target: number): Promise<number> {
  // The iperf3 server runs one test at a time and may still be closing the previous one: retry.
  for (let attempt = 1; ; attempt++) {
    const run = spawnSync(["iperf3", "-c", "127.0.0.1", "-p", String(target), "-t", String(IPERF_SECONDS), "-J"]);
    const result = JSON.parse(run.stdout.toString() || "{}");
    if (result.end?.sum_received) return result.end.sum_received.bits_per_second / 1e9;
    if (attempt === 3) throw new Error(`iperf3 via port ${target} failed: ${result.error ?? run.stderr.toString()}`);
    await Bun.sleep(1000);
  }
}

function redisOps(target: number, pipeline: number, op: "set" | "get"): number {
  const run = spawnSync(["redis-benchmark", "-h", "127.0.0.1", "-p", String(target), "-t", op, "-n", String(REDIS_REQUESTS), "-c", "50", "-P", String(pipeline), "--csv"]);
  for (const line of run.stdout.toString().split("\n")) {
    const cells = line.split(",").map((c) => c.replaceAll('"', ""));
    if (cells[0] === op.toUpperCase()) return Number(cells[1]);
  }
  throw new Error(`redis-benchmark via port ${target} printed no ${op} result: ${run.stderr.toString()}`);
}

const targets = { direct: { iperf: iperfPort, redis: redisPort }, haproxy, meshlet };
type Target = keyof typeof targets;
const NAMES = Object.keys(targets) as Target[];

/** Runs `measure` ROUNDS times per target, rotating the order each round, and keeps the median. */
async function medianOf(benchmark: string, measure: (t: Target) => Promise<number> | number): Promise<Record<Target, number>> {
  const samples: Record<Target, number[]> = { direct: [], haproxy: [], meshlet: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < NAMES.length; i++) {
      const name = NAMES[(i + round) % NAMES.length]!;
      progress(`${benchmark}: round ${round + 1}/${ROUNDS}, ${name}`);
      samples[name].push(await measure(name));
    }
  }
    return { direct: median(samples.direct), haproxy: median(samples.haproxy), meshlet: median(samples.meshlet) };
}

const rows: string[] = [];
const bulk = await medianOf("iperf3 bulk", (t) => iperfGbps(targets[t].iperf));
rows.push(`| iperf3 bulk, Gbit/s (${IPERF_SECONDS} s) | ${bulk.direct.toFixed(2)} | ${bulk.haproxy.toFixed(2)} | ${bulk.meshlet.toFixed(2)} | ${ratio(bulk.meshlet, bulk.haproxy)} | ${ratio(bulk.meshlet, bulk.direct)} |`);

for (const pipeline of [1, 16]) {
  for (const op of ["set", "get"] as const) {
    const r = await medianOf(`redis-benchmark ${op.toUpperCase()} -P ${pipeline}`, (t) => redisOps(targets[t].redis, pipeline, op));
    rows.push(`| redis-benchmark ${op.toUpperCase()} -P ${pipeline} -c 50, ops/s | ${r.direct.toFixed(0)} | ${r.haproxy.toFixed(0)} | ${r.meshlet.toFixed(0)} | ${ratio(r.meshlet, r.haproxy)} | ${ratio(r.meshlet, r.direct)} |`);
  }
}

const table = ["| benchmark | direct | HAProxy 2.6 (tcp, splice-auto, nbthread 1) | meshlet (opaque) | meshlet / HAProxy | meshlet / direct |", "|---|---|---|---|---|---|", ...rows].join("\n");
console.log(table);
if (args.record) {
  appendResults("Opaque TCP (bench/tcp.ts)", `npm run bench:tcp -- --record  # BENCH_ROUNDS=${ROUNDS} BENCH_IPERF_SECONDS=${IPERF_SECONDS} BENCH_REDIS_REQUESTS=${REDIS_REQUESTS}`, table);
  progress("recorded in bench/RESULTS.md");
} else {
  progress("not recorded (run with --record to append it to bench/RESULTS.md)");
}
process.exit(0);
