// Authorization policy at size (issue 9): with 200 Servers and 1,000 AuthorizationPolicies loaded,
// (1) how long a reload of the set takes to apply (load + checks + compile + native table push, the
// path a hot reload runs, measured in-process, median of RELOADS), and (2) the HTTP cost of an
// allowing policy: two meshlet processes inbound to the same nginx, one with the set and one without,
// wrk -t1 -c50 in BENCH_ROUNDS rotating rounds, the proxy's CPU µs per request (utime+stime from /proc).
import { spawnSync } from "bun";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { resourceKinds } from "../src/app/resource-kinds.ts";
import { compileL4Table } from "../src/authz/l4-table.ts";
import { inboundPolicyOf, policySettingsOf } from "../src/authz/generation-policy.ts";
import { parseConfig } from "../src/config/env.ts";
import { native } from "../src/native/binding.ts";
import { type ConfigSnapshot, loadConfigDir } from "../src/resources/config-dir.ts";
import { monotonicClock } from "../src/rt/clock.ts";
import { appendResults, background, port, progress, ratio, waitForPort, workDir, benchArgs, median } from "./support.ts";

const SERVERS = 200;
const POLICIES_PER_SERVER = 5;
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RELOADS = 7;

const USAGE = `Usage: bash bench/policy.sh [--record]     (npm run bench:policy [-- --record])

Authorization policy at size: ${SERVERS} Servers and ${SERVERS * POLICIES_PER_SERVER} AuthorizationPolicies. Measures the
time a reload of the set takes to apply (median of ${RELOADS}) and, with wrk -t1 -c50 for DURATION_S=${DURATION_S} s in
BENCH_ROUNDS=${ROUNDS} rotating rounds, meshlet's CPU µs per request with that (allowing) set in force vs
without policy. bench/policy.sh installs wrk and nginx-light with apt-get when missing.

Options:
  --record     append the result table to bench/RESULTS.md (default: only print it)
  -h, --help   show this help
`;

const args = benchArgs("bench/policy.ts", USAGE);

const originPort = port();

/**
 * The policy set, one file per Server (its NetworkAuthentication and AuthorizationPolicies beside it):
 * Server 0 selects the app's port and admits loopback; the others select other ports.
 */
function policyFiles(): string[] {
  const files: string[] = [];
  for (let s = 0; s < SERVERS; s++) {
    const docs: string[] = [];
    const serverPort = s === 0 ? originPort : 40000 + s;
    docs.push(`apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: srv-${s}, namespace: default }
spec:
  podSelector: {}
  port: ${serverPort}
  proxyProtocol: HTTP/1`);
    docs.push(`apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: { name: net-${s}, namespace: default }
spec:
  networks: [{ cidr: ${s === 0 ? "127.0.0.0/8" : `10.${s % 250}.0.0/16`}, except: [${s === 0 ? "127.0.0.99/32" : `10.${s % 250}.1.0/24`}] }]`);
    for (let p = 0; p < POLICIES_PER_SERVER; p++) {
      // The app's admitting policy comes last, so a request is checked against every other one first.
      const network = s === 0 && p === POLICIES_PER_SERVER - 1 ? "net-0" : `net-${(s + p + 1) % SERVERS || 1}`;
      docs.push(`apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: authz-${s}-${p}, namespace: default }
spec:
  targetRef: { group: policy.linkerd.io, kind: Server, name: srv-${s} }
  requiredAuthenticationRefs:
  - { group: policy.linkerd.io, kind: NetworkAuthentication, name: ${network} }`);
    }
    files.push(docs.join("\n---\n") + "\n");
  }
  return files;
}

const policyDir = join(workDir, "policy");
mkdirSync(policyDir);
policyFiles().forEach((text, i) => writeFileSync(join(policyDir, `server-${i}.yaml`), text));
const emptyDir = join(workDir, "empty");
mkdirSync(emptyDir);

// === (1) load and reload time, in-process, the path a hot reload runs: read, parse, decode, checks,
// compile, native push. Cold: every file parsed (start-up). Reload: one Server's file changed, as when
// an operator edits one resource (unchanged files are not parsed again). ===
progress(`load: ${SERVERS} Servers, ${SERVERS * POLICIES_PER_SERVER} AuthorizationPolicies, ${RELOADS} reloads`);
const config = parseConfig({ MESHLET_CONFIG_DIR: policyDir });
const kinds = resourceKinds(config, monotonicClock);
const settings = policySettingsOf(config);
let previous: ConfigSnapshot | undefined;
let pushes = 0;
const applyOnce = (): number => {
  const t0 = performance.now();
  const result = loadConfigDir(policyDir, { kinds, previous });
  if (!result.ok) throw new Error(`the policy set did not load: ${result.problems.filter((p) => p.severity === "error").slice(0, 3).map((p) => p.message).join("; ")}`);
  const rc = native.setInboundPolicy(compileL4Table(inboundPolicyOf(result.snapshot, settings), ++pushes));
  if (rc !== 0) throw new Error(`setInboundPolicy returned ${rc}`);
  previous = result.snapshot;
  return performance.now() - t0;
};
const coldMs = applyOnce();
const reloadMs: number[] = [];
const editedFile = join(policyDir, "server-7.yaml");
const original = readFileSync(editedFile, "utf8");
for (let i = 0; i < RELOADS; i++) {
  // A real edit: the Server moves to a port no other Server uses, so its policy entry changes.
  writeFileSync(editedFile, original.replace(/port: \d+/, `port: ${50000 + i}`));
  reloadMs.push(applyOnce());
}
writeFileSync(editedFile, original);

// === (2) HTTP cost of the allowing set ===
const nginxDir = join(workDir, "nginx");
mkdirSync(nginxDir);
writeFileSync(
  join(nginxDir, "nginx.conf"),
  `worker_processes 1; daemon off; pid ${nginxDir}/nginx.pid; error_log ${nginxDir}/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path ${nginxDir}/b; proxy_temp_path ${nginxDir}/p;
  fastcgi_temp_path ${nginxDir}/f; uwsgi_temp_path ${nginxDir}/u; scgi_temp_path ${nginxDir}/s;
  server { listen 127.0.0.1:${originPort}; location / { default_type text/plain; return 200 "hello from nginx\\n"; } } }
`,
);
background(["nginx", "-c", join(nginxDir, "nginx.conf"), "-p", nginxDir]);
await waitForPort(originPort);

const bun = join(import.meta.dir, "..", "node_modules", ".bin", "bun");
const cli = join(import.meta.dir, "..", "src", "cli.ts");
function meshlet(configDir: string): { port: number; pid: number } {
  const inbound = port();
  const proc = background([bun, cli, "proxy"], {
    MESHLET_INBOUND_LISTEN: `127.0.0.1:${inbound}`,
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${originPort}`,
    MESHLET_OUTBOUND_LISTEN: `127.0.0.1:${port()}`,
    MESHLET_ADMIN_LISTEN: `127.0.0.1:${port()}`,
    MESHLET_CONFIG_DIR: configDir,
    MESHLET_LOG_LEVEL: "warn",
  });
  return { port: inbound, pid: proc.pid };
}
const targets = { "without policy": meshlet(emptyDir), "with the policy set": meshlet(policyDir) };
for (const t of Object.values(targets)) await waitForPort(t.port);

/** utime+stime of `pid` in clock ticks (fields 14 and 15 of /proc/PID/stat). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}
const CLK_TCK = Number(spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

function wrk(targetPort: number, seconds: number): { requests: number; rps: number; non2xx: number } {
  const out = spawnSync(["wrk", "-t1", "-c50", `-d${seconds}s`, `http://127.0.0.1:${targetPort}/`]).stdout.toString();
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { requests, rps, non2xx };
}

const names = Object.keys(targets) as Array<keyof typeof targets>;
for (const name of names) {
  progress(`warm-up: ${name} (2 s)`);
  wrk(targets[name].port, 2);
}
const samples: Record<string, { cpuUs: number[]; rps: number[]; non2xx: number }> = {};
for (const name of names) samples[name] = { cpuUs: [], rps: [], non2xx: 0 };
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + round) % names.length]!;
    progress(`round ${round + 1}/${ROUNDS}: ${name}, -c50 for ${DURATION_S} s`);
    const { pid, port: p } = targets[name];
    const before = cpuTicks(pid);
    const r = wrk(p, DURATION_S);
    const ticks = cpuTicks(pid) - before;
    samples[name]!.cpuUs.push((ticks * 1e6) / CLK_TCK / Math.max(1, r.requests));
    samples[name]!.rps.push(r.rps);
    samples[name]!.non2xx += r.non2xx;
  }
}

const base = samples["without policy"]!;
const withPolicy = samples["with the policy set"]!;
const row = (name: string, s: { cpuUs: number[]; rps: number[]; non2xx: number }) =>
  `| ${name} | ${median(s.rps).toFixed(0)} | ${median(s.cpuUs).toFixed(2)} | ${ratio(median(s.cpuUs), median(base.cpuUs))} | ${s.non2xx} |`;
const table = [
  `${SERVERS} Servers + ${SERVERS * POLICIES_PER_SERVER} AuthorizationPolicies + ${SERVERS} NetworkAuthentications in ${SERVERS} files (read, parse, decode, checks, compile, native push): first load ${coldMs.toFixed(1)} ms; reload after one file changed: median ${median(reloadMs).toFixed(1)} ms of ${RELOADS} (min ${Math.min(...reloadMs).toFixed(1)}, max ${Math.max(...reloadMs).toFixed(1)}).`,
  "",
  "| meshlet inbound, wrk -t1 -c50 | req/s | proxy CPU µs/req | CPU/req ÷ without policy | non-2xx |",
  "|---|---:|---:|---:|---:|",
  row("without policy", base),
  row("with the policy set (allowing)", withPolicy),
].join("\n");
process.stdout.write(`\n${table}\n`);
if (args.record) {
  appendResults("Authorization policy at size", `DURATION_S=${DURATION_S} BENCH_ROUNDS=${ROUNDS} bash bench/policy.sh --record`, table,
    `Medians of ${ROUNDS} rotating rounds; the allowing policy is the last of five AuthorizationPolicies on the app's Server, so every request is checked against the others first.`);
  progress("recorded in bench/RESULTS.md");
}
process.exit(0);
