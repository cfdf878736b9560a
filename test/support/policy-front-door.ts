// A bare native front door in its own process for the L4 policy tests: inbound listeners on loopback
// with fixed targets, HTTP handed to a one-line responder (standing in for the request pipeline), and
// a JSON-lines channel on stdin/stdout to push tables with native.setInboundPolicy and read counters.
// Run as a script it is that process; imported, startPolicyFrontDoor() spawns and drives it.
import { type Subprocess, spawn } from "bun";

import type { InboundPolicyCounters, NativeInboundPolicy } from "../../src/native/binding.ts";
import { jsonLineReader } from "./json-lines.ts";

export interface PolicyFrontDoorOptions {
  /** One inbound listener per target ("127.0.0.1:6379"), bound on `bindHost` port 0. */
  readonly targets: readonly string[];
  readonly bindHost?: string;
  readonly opaquePorts?: readonly number[];
  readonly detectTimeoutMs?: number;
  /** Give handed-off HTTP connections back to be spliced (FrontDoor.forwardAsTcp) instead of answering. */
  readonly forwardHttp?: boolean;
}

export interface PolicyFrontDoor {
  /** Listener ports, in the order of `targets`. */
  readonly ports: readonly number[];
  /** Pushes a table; resolves with the binding's return code and its error text. */
  push(table: NativeInboundPolicy | unknown): Promise<{ rc: number; error: string }>;
  stats(): Promise<{ counters: InboundPolicyCounters[]; handoffs: number; open: number }>;
  /** The policy lines (src/l4/policy-close-log.ts) for the connections closed since the last call: JSON lines. */
  logs(): Promise<Array<Record<string, unknown>>>;
  /** The counters of one entry id (zeros if it has none yet). */
  counters(id: number): Promise<InboundPolicyCounters>;
  /** Resolves once the front door owns `count` connections (closes it saw are fully processed). */
  waitForOpen(count: number): Promise<void>;
  stop(): Promise<void>;
}

export const HANDOFF_RESPONSE = "HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nhandoff";

const REPLY_TIMEOUT_MS = 10_000;

export async function startPolicyFrontDoor(options: PolicyFrontDoorOptions): Promise<PolicyFrontDoor> {
  const proc: Subprocess<"pipe", "pipe", "inherit"> = spawn([process.execPath, import.meta.path, JSON.stringify(options)], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const next = jsonLineReader(proc.stdout, "the policy front door", REPLY_TIMEOUT_MS);
  const request = async <T>(command: object): Promise<T> => {
    proc.stdin.write(JSON.stringify(command) + "\n");
    proc.stdin.flush();
    return (await next()) as T;
  };
  const ready = (await next()) as { ports: number[] };
  const stats = () => request<{ counters: InboundPolicyCounters[]; handoffs: number; open: number }>({ op: "stats" });
  return {
    ports: ready.ports,
    push: (table) => request({ op: "push", table }),
    logs: () => request({ op: "logs" }),
    stats,
    counters: async (id) => (await stats()).counters.find((c) => c.id === id) ?? { id, allow: 0, deny: 0, terminate: 0 },
    waitForOpen: async (count) => {
      for (let i = 0; i < 500; i++) {
        if ((await stats()).open === count) return;
        await Bun.sleep(10);
      }
      throw new Error(`the front door did not get to ${count} open connections`);
    },
    stop: async () => {
      proc.stdin.end();
      const timer = setTimeout(() => proc.kill("SIGKILL"), REPLY_TIMEOUT_MS);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

async function serve(options: PolicyFrontDoorOptions): Promise<void> {
  const { createInterface } = await import("node:readline");
  const { FrontDoor } = await import("../../src/l4/front-door.ts");
  const { Protocol, native } = await import("../../src/native/binding.ts");
  const { createLogger } = await import("../../src/log/logger.ts");
  const { logPolicyClose } = await import("../../src/l4/policy-close-log.ts");
  const { RateLimitedLog } = await import("../../src/log/rate-limited-log.ts");
  const { NO_TCP_LIVENESS } = await import("../../src/l4/tcp-liveness.ts");
  const logLines: Array<Record<string, unknown>> = [];
  const policyLogger = new RateLimitedLog(createLogger("info", "json", (line) => logLines.push(JSON.parse(line) as Record<string, unknown>)));
  const frontDoor = FrontDoor.start(createLogger("warn", "json"), NO_TCP_LIVENESS);
  frontDoor.setOpaquePorts(new Set(options.opaquePorts ?? []));
  let handoffs = 0;
  const respond = (fd: number) => {
    let request = "";
    (Bun.connect as unknown as (o: object) => Promise<unknown>)({
      fd,
      socket: {
        data(socket: { end(data: string): void }, chunk: Uint8Array) {
          request += new TextDecoder().decode(chunk);
          if (request.includes("\r\n\r\n")) socket.end(HANDOFF_RESPONSE);
        },
      },
    });
  };
  const ports: number[] = [];
  for (const target of options.targets) {
    const colon = target.lastIndexOf(":");
    const listener = await frontDoor.listen({
      name: `inbound ${target}`,
      direction: "inbound",
      bind: { host: options.bindHost ?? "127.0.0.1", port: 0 },
      target: { host: target.slice(0, colon), port: Number(target.slice(colon + 1)) },
      detectTimeoutMs: options.detectTimeoutMs ?? 10_000,
      connectTimeoutMs: 1_000,
      idleTimeoutMs: 0,
      pipeBytes: 64 * 1024,
      handlers: {
        [Protocol.Http1]: (conn) => {
          handoffs++;
          if (options.forwardHttp) frontDoor.forwardAsTcp(conn);
          else respond(conn.fd);
        },
      },
    });
    ports.push(listener.port);
  }
  const reply = (value: object) => process.stdout.write(JSON.stringify(value) + "\n");
  reply({ ports });
  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line) as { op: string; table?: unknown };
    if (command.op === "push") {
      const rc = native.setInboundPolicy(command.table as NativeInboundPolicy);
      reply({ rc, error: native.inboundPolicyError() });
    } else if (command.op === "logs") {
      for (const record of native.closedConnections().records) logPolicyClose(policyLogger, record);
      reply(logLines.splice(0));
    } else if (command.op === "stats") {
      reply({ counters: native.inboundPolicyStats(), handoffs, open: native.openConnections() });
    }
  }
  frontDoor.stop();
  process.exit(0);
}

if (import.meta.main) await serve(JSON.parse(process.argv[2]!) as PolicyFrontDoorOptions);
