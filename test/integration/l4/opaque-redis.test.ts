// Opaque splicing with a real redis-server behind the inbound listener: SET/GET and a multi-megabyte
// value round-trip byte-exact, and the transport metrics count the connection.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Subprocess, spawn } from "bun";
import net from "node:net";

import { type RunningProxy, freePort, metricValue, startProxy } from "../../support/proxy.ts";

let redis: Subprocess;
let redisPort: number;
let proxy: RunningProxy;

beforeAll(async () => {
  redisPort = await freePort();
  redis = spawn(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "inherit" });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(redisPort, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) break;
    await Bun.sleep(50);
  }
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${redisPort}`, MESHLET_OPAQUE_PORTS: `${redisPort}` });
});

afterAll(async () => {
  await proxy?.stop();
  redis?.kill();
});

/** Sends RESP commands on one connection and collects replies until `done(buffer)` says so. */
function resp(port: number, commands: Buffer[], done: (reply: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, "127.0.0.1", () => {
      for (const c of commands) socket.write(c);
    });
    const timer = setTimeout(() => (socket.destroy(), reject(new Error("redis reply timed out"))), 20_000);
    socket.on("data", (d) => {
      chunks.push(d as Buffer);
      const all = Buffer.concat(chunks);
      if (done(all)) {
        clearTimeout(timer);
        socket.end();
        resolve(all);
      }
    });
    socket.on("error", reject);
  });
}

function command(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === "string" ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

test("SET then GET through the opaque inbound", async () => {
  const reply = await resp(proxy.inboundPort, [command("SET", "greeting", "hello"), command("GET", "greeting")], (b) => b.toString().includes("hello\r\n"));
  expect(reply.toString()).toBe("+OK\r\n$5\r\nhello\r\n");
});

test("a 6 MiB value round-trips byte-exact", async () => {
  const value = Buffer.alloc(6 * 1024 * 1024);
  for (let i = 0; i < value.length; i += 4) value.writeUInt32LE((i * 2654435761) >>> 0, i);
  const header = `$${value.length}\r\n`;
  const reply = await resp(proxy.inboundPort, [command("SET", "big", value), command("GET", "big")], (b) => b.length >= 5 + header.length + value.length + 2);
  expect(reply.subarray(0, 5).toString()).toBe("+OK\r\n");
  expect(reply.subarray(5, 5 + header.length).toString()).toBe(header);
  expect(Buffer.compare(reply.subarray(5 + header.length, 5 + header.length + value.length), value)).toBe(0);
});

test("transport metrics count the spliced connections and bytes", async () => {
  const text = await proxy.metrics();
  const target = { direction: "inbound", target_port: String(redisPort) };
  expect(metricValue(text, "tcp_open_total", { ...target, peer: "src" })).toBeGreaterThanOrEqual(2);
  expect(metricValue(text, "tcp_open_total", { ...target, peer: "dst" })).toBeGreaterThanOrEqual(2);
  expect(metricValue(text, "tcp_read_bytes_total", { ...target, peer: "dst" })).toBeGreaterThan(6 * 1024 * 1024);
  expect(metricValue(text, "inbound_tcp_detect_http_results_total", { result: "opaque" })).toBeGreaterThanOrEqual(2);
});
