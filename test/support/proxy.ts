// Test DSL for a real meshlet process: `await startProxy({ MESHLET_...: ... })` spawns `meshlet proxy`
// on loopback with port-0 listeners, waits for its "meshlet ready" log line and reports the bound ports.
import { type Subprocess, spawn } from "bun";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
export const BUN = process.execPath;
export const CLI = join(ROOT, "src", "cli.ts");

export interface RunningProxy {
  readonly inboundPort: number;
  readonly outboundPorts: readonly number[];
  readonly adminPort: number;
  readonly pid: number;
  /** Every log line so far (JSON objects). */
  readonly logs: Record<string, unknown>[];
  metrics(): Promise<string>;
  /** Resolves with the first log line matching, polling the output (bounded). */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  openFds(): number;
  stop(): Promise<number>;
  readonly process: Subprocess;
}

/** `wrap` prefixes the command, e.g. ["ip", "netns", "exec", "ns1"] to run it elsewhere. */
export async function startProxy(env: Record<string, string> = {}, wrap: readonly string[] = []): Promise<RunningProxy> {
  const proc = spawn([...wrap, BUN, CLI, "proxy"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      MESHLET_INBOUND_LISTEN: "127.0.0.1:0",
      MESHLET_OUTBOUND_LISTEN: "127.0.0.1:0",
      MESHLET_ADMIN_LISTEN: "127.0.0.1:0",
      MESHLET_TAP_LISTEN: "127.0.0.1:0",
      MESHLET_LOG_FORMAT: "json",
      ...env,
    },
    stdout: "inherit",
    stderr: "pipe",
  });
  const logs: Record<string, unknown>[] = [];
  const reader = (async () => {
    let pending = "";
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      pending += new TextDecoder().decode(chunk);
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        try {
          logs.push(JSON.parse(line));
        } catch {
          logs.push({ message: line });
        }
      }
    }
  })();
  void reader;

  const waitForLog = async (match: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000) => {
    for (let waited = 0; waited < timeoutMs; waited += 20) {
      const found = logs.find(match);
      if (found) return found;
      if (proc.exitCode !== null) throw new Error(`meshlet exited with ${proc.exitCode}: ${JSON.stringify(logs)}`);
      await Bun.sleep(20);
    }
    throw new Error(`no matching log line within ${timeoutMs} ms: ${JSON.stringify(logs)}`);
  };

  const ready = await waitForLog((l) => l.message === "meshlet ready");
  const adminPort = portOf(ready.admin);
  return {
    inboundPort: portOf(ready.inbound),
    outboundPorts: String(ready.outbound).split(",").map(portOf),
    adminPort,
    pid: proc.pid,
    logs,
    process: proc,
    waitForLog,
    metrics: async () => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text(),
    openFds: () => Array.from(new Bun.Glob("*").scanSync({ cwd: `/proc/${proc.pid}/fd`, onlyFiles: false })).length,
    stop: async () => {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** The port of a bound address in the ready line: "127.0.0.1:4143", "[::1]:4143" (or a bare port). */
function portOf(address: unknown): number {
  const text = String(address);
  return Number(text.slice(text.lastIndexOf(":") + 1));
}

/** The value of one Prometheus sample whose labels include all of `labels`, summed over matches. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/** A port that was free a moment ago (for servers that cannot bind port 0, like redis-server). */
export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}
