// Private network namespaces for transparent-mode tests (root only): uniquely named per run, joined by
// veth pairs created directly inside them (no interface ever appears in the host namespace), and
// always removed with every process started in them.
import { type Subprocess, spawn, spawnSync } from "bun";

export const canUseNetns = process.getuid?.() === 0 && spawnSync(["which", "ip"]).exitCode === 0;

/** Runs a command to completion; throws with its stderr if it fails. */
export function sh(cmd: readonly string[], stdin?: string): string {
  const r = spawnSync([...cmd], { stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited with ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

export class Netns {
  readonly exec: readonly string[];
  private readonly processes: Subprocess[] = [];

  private constructor(readonly name: string) {
    this.exec = ["ip", "netns", "exec", name];
  }

  /** A fresh namespace with loopback up; `tag` says what it is for (kept short: the name is unique anyway). */
  static create(tag: string): Netns {
    const ns = new Netns(`meshlet-${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    sh(["ip", "netns", "add", ns.name]);
    ns.run(["ip", "link", "set", "lo", "up"]);
    return ns;
  }

  /** Runs a command in the namespace to completion, returning its stdout. */
  run(cmd: readonly string[], stdin?: string): string {
    return sh([...this.exec, ...cmd], stdin);
  }

  /** Runs a command in the namespace and collects its output and exit code (bounded by curl's own timeouts). */
  async output(cmd: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const proc = spawn([...this.exec, ...cmd], { stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    return { code: await proc.exited, stdout, stderr };
  }

  /** Starts a long-running process in the namespace; it is killed by remove(). */
  start(cmd: readonly string[]): Subprocess {
    const proc = spawn([...this.exec, ...cmd], { stdout: "pipe", stderr: "inherit" });
    this.processes.push(proc);
    return proc;
  }

  /** Kills what start() started, then deletes the namespace (its veth ends go with it). Never throws. */
  async remove(): Promise<void> {
    for (const proc of this.processes) proc.kill("SIGKILL");
    await Promise.all(this.processes.map((p) => p.exited));
    spawnSync(["ip", "netns", "del", this.name]);
  }
}

/** A veth pair between two namespaces, `a` and `b` getting addresses in one /24. */
export function link(a: Netns, aAddress: string, b: Netns, bAddress: string): void {
  sh(["ip", "link", "add", "veth0", "netns", a.name, "type", "veth", "peer", "name", "veth0", "netns", b.name]);
  for (const [ns, address] of [[a, aAddress], [b, bAddress]] as const) {
    ns.run(["ip", "addr", "add", `${address}/24`, "dev", "veth0"]);
    ns.run(["ip", "link", "set", "veth0", "up"]);
  }
}

/** Waits until a line appears on a started process's stdout (its "ready" signal), within `timeoutMs`. */
export async function waitForLine(proc: Subprocess, timeoutMs = 10_000): Promise<string> {
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  const deadline = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`process ended or timed out before printing a line (got ${JSON.stringify(text)})`);
      text += new TextDecoder().decode(value);
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
  return text.slice(0, text.indexOf("\n"));
}
