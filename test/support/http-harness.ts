// Test harness for the HTTP/1 engine: an in-process proxy on Bun.listen (127.0.0.1, port 0) with its
// own metrics registry, scripted raw upstreams that count accepts, and a raw client that collects
// bytes until a predicate or close — every wait bounded in time.
import type { Socket, TCPSocketListener } from "bun";
import { Registry } from "prom-client";
import { HttpMetrics } from "../../src/metrics/http.ts";
import { parseConfig } from "../../src/config/env.ts";
import { createHttp1Server, type Http1Server, type Http1ServerOptions } from "../../src/http/server.ts";
import { http1Settings } from "../../src/stack/http1.ts";
import type { ConnState } from "../../src/http/server-connection.ts";

export interface TestProxy {
  readonly port: number;
  readonly server: Http1Server;
  readonly registry: Registry;
  stop(): void;
}

/** The engine with the MESHLET_* defaults (src/config/env.ts) for what `options` leaves out. */
export function startProxy(options: Partial<Http1ServerOptions> = {}): TestProxy {
  const registry = new Registry();
  const settings = http1Settings(parseConfig({}), options.direction ?? "inbound");
  const server = createHttp1Server({ ...settings, metrics: new HttpMetrics(registry), ...options });
  const listener: TCPSocketListener<ConnState> = Bun.listen<ConnState>({
    hostname: "127.0.0.1",
    port: 0,
    // Clients may half-close after their request and still expect the response (RFC 9112 §9.6).
    allowHalfOpen: true,
    socket: server.socketHandlers,
  });
  return {
    port: listener.port,
    server,
    registry,
    stop() {
      listener.stop(true);
      server.close();
    },
  };
}

// === Scripted raw upstreams ===

export interface RawConn {
  readonly socket: Socket<RawConn>;
  /** Everything received so far on this connection. */
  received: Buffer;
  /** Free slot for the script. */
  state: Record<string, unknown>;
}

export interface RawUpstream {
  readonly port: number;
  /** TCP connections accepted so far. */
  accepts(): number;
  /** Connections closed so far. */
  closes(): number;
  stop(): void;
}

/**
 * A raw TCP upstream; `onData(conn, chunk)` is the script (conn.received already includes chunk).
 * Half-open is allowed so a script can answer after the proxy's FIN.
 */
export function rawUpstream(onData: (conn: RawConn, chunk: Buffer) => void, onOpen?: (conn: RawConn) => void): RawUpstream {
  let accepts = 0;
  let closes = 0;
  const listener = Bun.listen<RawConn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        accepts++;
        socket.data = { socket, received: Buffer.alloc(0), state: {} };
        onOpen?.(socket.data);
      },
      data(socket, chunk) {
        const conn = socket.data;
        conn.received = Buffer.concat([conn.received, chunk]);
        onData(conn, chunk);
      },
      close() {
        closes++;
      },
      error() {},
    },
  });
  return {
    port: listener.port,
    accepts: () => accepts,
    closes: () => closes,
    stop: () => listener.stop(true),
  };
}

/** Count of complete request heads in `buf` (for scripts that answer each request without a body). */
export function countHeads(buf: Buffer): number {
  let n = 0;
  let i = 0;
  for (;;) {
    const j = buf.indexOf("\r\n\r\n", i);
    if (j < 0) return n;
    n++;
    i = j + 4;
  }
}

/** An upstream that answers each body-less request with `body` (Content-Length framing, keep-alive). */
export function okUpstream(body = "ok"): RawUpstream {
  return rawUpstream((conn) => {
    const answered = (conn.state.answered as number | undefined) ?? 0;
    const heads = countHeads(conn.received);
    for (let i = answered; i < heads; i++) {
      conn.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    conn.state.answered = heads;
  });
}

// === Raw client ===

export interface RawResult {
  readonly data: Buffer;
  readonly text: string;
  /** The proxy closed the connection. */
  readonly closed: boolean;
}

/**
 * Connects to `port`, writes `payload` (or each element of an array, awaiting `gapMs` ticks between),
 * and collects until `until(data)` is true or the connection closes, failing after `timeoutMs`.
 */
export function rawRequest(
  port: number,
  payload: string | Uint8Array | Array<string | Uint8Array>,
  opts: { until?: (data: Buffer) => boolean; timeoutMs?: number } = {},
): Promise<RawResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean, socket?: Socket<undefined>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket?.end();
      resolve({ data, text: data.toString("latin1"), closed });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      reject(new Error(`no complete answer within ${timeoutMs}ms; got ${JSON.stringify(data.toString("latin1").slice(0, 300))}`));
    }, timeoutMs);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        async open(socket) {
          const parts = Array.isArray(payload) ? payload : [payload];
          for (const [i, part] of parts.entries()) {
            if (i > 0) await Bun.sleep(5);
            socket.write(part);
          }
        },
        data(socket, chunk) {
          data = Buffer.concat([data, chunk]);
          if (opts.until?.(data)) finish(false, socket);
        },
        close() {
          finish(true);
        },
        error() {
          finish(true);
        },
      },
    }).catch(reject);
  });
}

/** True when `data` holds `n` complete Content-Length responses (heads + bodies). */
export function hasResponses(n: number): (data: Buffer) => boolean {
  return (data) => splitResponses(data).length >= n;
}

export interface ParsedResponse {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: string;
}

/** Splits a byte stream of Content-Length (or bodiless) responses; stops at the first incomplete one. */
export function splitResponses(data: Buffer): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let pos = 0;
  for (;;) {
    const end = data.indexOf("\r\n\r\n", pos);
    if (end < 0) return out;
    const lines = data.toString("latin1", pos, end).split("\r\n");
    const status = Number(lines[0]!.split(" ")[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const c = line.indexOf(":");
      headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
    }
    const len = status < 200 || status === 204 || status === 304 ? 0 : Number(headers.get("content-length") ?? 0);
    if (data.length < end + 4 + len) return out;
    out.push({ status, headers, body: data.toString("latin1", end + 4, end + 4 + len) });
    pos = end + 4 + len;
  }
}

/** Polls `cond` every few ms until true, failing after `timeoutMs` (for events, never for timings). */
export async function eventually(cond: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  for (let waited = 0; !cond(); waited += 10) {
    if (waited >= timeoutMs) throw new Error(`${what} not reached within ${timeoutMs}ms`);
    await Bun.sleep(10);
  }
}

/** Runs curl asynchronously (never spawnSync: the proxy lives in this process). */
export async function curl(args: string[], timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["curl", "-sS", "--max-time", String(Math.ceil(timeoutMs / 1000)), ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

// === A port whose connects hang (for connect timeouts) ===

const BLACKHOLE_PY = `
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]
held = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(("127.0.0.1", port))
    except BlockingIOError: pass
    held.append(c)
time.sleep(0.2)
print(port, flush=True)
sys.stdin.read()
`;

/**
 * A loopback port whose accept queue is full, so new SYNs are dropped and connects hang until they
 * time out (python3 holds it: Bun.listen cannot set a backlog). Stop it with the returned function.
 */
export async function blackholePort(): Promise<{ port: number; stop: () => void }> {
  const proc = Bun.spawn(["python3", "-c", BLACKHOLE_PY], { stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("blackhole helper exited");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { port: Number(text.trim()), stop: () => proc.kill() };
}

/** A port with nothing listening (connects are refused). */
export function closedPort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}
