// Shared pieces of the benchmark drivers: spawning and stopping background servers, waiting for a
// port, a meshlet instance with extra outbound listeners, and appending results to RESULTS.md.
import { type Subprocess, spawn } from "bun";
import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { parseArgs } from "node:util";
import { cpus, release, tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const running: Subprocess[] = [];

export const workDir = mkdtempSync(join(tmpdir(), "meshlet-bench-"));

let logIndex = 0;

/** Starts a server in the background; its output goes to a log file in workDir (named on failure). */
export function background(cmd: string[], env: Record<string, string> = {}): Subprocess {
  const log = join(workDir, `${++logIndex}-${cmd[0]!.split("/").pop()}.log`);
  const proc = spawn(cmd, { stdout: Bun.file(log), stderr: Bun.file(log), env: { ...process.env, ...env } });
  proc.exited.then((code) => {
    if (code !== 0 && running.includes(proc)) console.error(`${cmd.join(" ")} exited with ${code}; see ${log}`);
  });
  running.push(proc);
  if (cmd[0]!.split("/").pop() === "nginx") nginxProcesses.add(proc);
  return proc;
}

/** Stops every background server now. nginx gets SIGTERM (its master then stops its workers; a SIGKILLed master leaves them running), the rest SIGKILL. */
export function stopAll(): void {
  for (const proc of running.splice(0)) proc.kill(nginxProcesses.has(proc) ? "SIGTERM" : "SIGKILL");
}
const nginxProcesses = new WeakSet<Subprocess>();
process.on("exit", stopAll);
process.on("SIGINT", () => process.exit(130));

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (open) return;
    await Bun.sleep(50);
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
}

// Below the ephemeral range (32768+), so a client connection cannot already hold the port.
let nextPort = 20000 + Math.floor(Math.random() * 10000);
/** The next port that nothing holds on 127.0.0.1 (checked by binding it for a moment). */
export function port(): number {
  for (let tries = 0; tries < 100; tries++) {
    const candidate = nextPort++;
    try {
      Bun.listen({ hostname: "127.0.0.1", port: candidate, socket: { data() {} } }).stop(true);
      return candidate;
    } catch {
      progress(`port ${candidate} is in use; trying the next`);
    }
  }
  throw new Error(`no free port below ${nextPort} after 100 tries`);
}

/** One line on stderr saying what the benchmark is doing now. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export function writeConfig(name: string, text: string): string {
  const path = join(workDir, name);
  writeFileSync(path, text);
  return path;
}

/** Starts meshlet with `MESHLET_OUTBOUND_UPSTREAMS` pairs listen=dest and the given opaque ports. */
export async function startMeshlet(upstreams: Array<[listen: number, dest: number]>, env: Record<string, string> = {}): Promise<void> {
  background([join(ROOT, "node_modules", ".bin", "bun"), join(ROOT, "src", "cli.ts"), "proxy"], {
    MESHLET_INBOUND_LISTEN: `127.0.0.1:${port()}`,
    MESHLET_OUTBOUND_LISTEN: `127.0.0.1:${port()}`,
    MESHLET_ADMIN_LISTEN: `127.0.0.1:${port()}`,
    MESHLET_OUTBOUND_UPSTREAMS: upstreams.map(([l, d]) => `127.0.0.1:${l}=127.0.0.1:${d}`).join(","),
    MESHLET_LOG_LEVEL: "warn",
    ...env,
  });
  for (const [listen] of upstreams) await waitForPort(listen);
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown cpu";
  return `${cpus().length} × ${cpu}, ${process.platform} ${release()}, Bun ${Bun.version}`;
}

export function appendResults(title: string, command: string, table: string, notes = ""): void {
  const date = new Date().toISOString().slice(0, 16).replace("T", " ");
  const section = `\n## ${title} — ${date} UTC\n\nMachine: ${machine()}\n\nCommand: \`${command}\`\n\n${table}\n${notes ? `\n${notes}\n` : ""}`;
  appendFileSync(join(ROOT, "bench", "RESULTS.md"), section);
}

export function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}×` : "n/a";
}

/**
 * The options every benchmark driver takes: `--record` (append to bench/RESULTS.md) and `--help`
 * (prints `usage`, exits 0); anything else exits 64 naming it.
 */
export function benchArgs(driver: string, usage: string): { readonly record: boolean } {
  let values;
  try {
    values = parseArgs({ options: { record: { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    process.stderr.write(`${driver}: ${(err as Error).message} (see --help)\n`);
    process.exit(64);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return { record: values.record === true };
}

/** The median of `xs` (the upper one for an even count). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
