// Opaque (L4) mTLS between two real meshlets with certificates from `meshlet identity`: a real
// redis-server behind the server side (its port opaque there); the client side reaches it through an
// outbound listener target naming the meshed service. A 1 MiB random value and many small commands come
// back byte-exact, a relay between the proxies sees a TLS handshake and never RESP in clear, a peer
// presenting another identity gets the client closed and the failure counted, and a service without the
// annotation stays plaintext (spliced).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Subprocess, type TCPSocketListener, spawn } from "bun";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, freePort, metricValue, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";
import { identityEnv, type RecordingRelay, startRecordingRelay, writeEndpointSlice } from "./mesh-fixtures.ts";

const CLIENT_ID = "app.default.serviceaccount.identity.linkerd.cluster.local";
const SERVER_ID = "cache.default.serviceaccount.identity.linkerd.cluster.local";
const IMPOSTOR_ID = "other.default.serviceaccount.identity.linkerd.cluster.local";

const configDir = mkdtempSync(join(tmpdir(), "meshlet-opaque-mtls-"));
let redis: Subprocess;
let redisPort: number;
let serverSide: RunningProxy;
let clientSide: RunningProxy;
/** Between the client side and the server side's inbound listener. */
let meshRelay: RecordingRelay;
/** Between the client side and redis itself, for the service without the annotation. */
let plainRelay: RecordingRelay;
/** A TLS server with a certificate from the same CA but for IMPOSTOR_ID, named as SERVER_ID by its slice. */
let impostor: TCPSocketListener<undefined>;
let impostorPlaintext = 0;
/** The client side's outbound listeners: meshed service, impostor, plaintext service. */
let meshedPort: number;
let impostorPort: number;
let plainPort: number;

beforeAll(async () => {
  const ca = await makeCa();
  const clientFiles = await issue(ca, CLIENT_ID, join(tempDir(), "app"));
  const serverFiles = await issue(ca, SERVER_ID, join(tempDir(), "cache"));
  const impostorFiles = await issue(ca, IMPOSTOR_ID, join(tempDir(), "other"));

  redisPort = await freePort();
  redis = spawn(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "inherit" });
  for (let i = 0; i < 100 && !(await reachable(redisPort)); i++) await Bun.sleep(50);

  serverSide = await startProxy({ ...identityEnv(serverFiles), MESHLET_INBOUND_FORWARD: `127.0.0.1:${redisPort}`, MESHLET_OPAQUE_PORTS: String(redisPort) });
  meshRelay = startRecordingRelay(serverSide.inboundPort);
  plainRelay = startRecordingRelay(redisPort);
  impostor = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: readFileSync(impostorFiles.cert, "utf8"), key: readFileSync(impostorFiles.key, "utf8"), ca: readFileSync(impostorFiles.anchors, "utf8"), requestCert: true },
    socket: {
      data(_socket, data) {
        impostorPlaintext += data.length;
      },
    },
  });
  writeEndpointSlice(configDir, "cache", meshRelay.port, SERVER_ID);
  writeEndpointSlice(configDir, "impostor", impostor.port, SERVER_ID);
  writeEndpointSlice(configDir, "plaincache", plainRelay.port);
  clientSide = await startProxy({
    ...identityEnv(clientFiles),
    MESHLET_CONFIG_DIR: configDir,
    // Both ways to the hand-off: the impostor's and the plain service's endpoint ports are opaque here
    // (handed off or spliced at accept), the meshed service's is not (RESP is detected as not HTTP first).
    MESHLET_OPAQUE_PORTS: `${impostor.port},${plainRelay.port}`,
    MESHLET_OUTBOUND_UPSTREAMS: [
      "127.0.0.1:0=cache.default.svc.cluster.local:6379",
      "127.0.0.1:0=impostor.default.svc.cluster.local:6379",
      "127.0.0.1:0=plaincache.default.svc.cluster.local:6379",
    ].join(","),
  });
  [, meshedPort, impostorPort, plainPort] = clientSide.outboundPorts as [number, number, number, number];
}, 60_000);

afterAll(async () => {
  await clientSide?.stop();
  await serverSide?.stop();
  meshRelay?.stop();
  plainRelay?.stop();
  impostor?.stop(true);
  redis?.kill();
  rmSync(configDir, { recursive: true, force: true });
});

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
    s.on("error", () => resolve(false));
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

/** Sends RESP commands on one connection and reads until `expectedBytes` arrived, or the connection closed. */
function exchange(port: number, commands: Buffer, expectedBytes: number): Promise<{ reply: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const socket = net.connect(port, "127.0.0.1", () => socket.write(commands));
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no reply within 20 s (${received} bytes)`))), 20_000);
    const done = (closed: boolean) => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), closed });
    };
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (received >= expectedBytes) {
        socket.end();
        done(false);
      }
    });
    socket.on("close", () => done(true));
    socket.on("error", () => {}); // a reset is reported through close
  });
}

test("a 1 MiB random value SET and GET through opaque mTLS comes back byte-exact", async () => {
  const value = randomBytes(1024 * 1024);
  const header = `$${value.length}\r\n`;
  const expected = Buffer.concat([Buffer.from("+OK\r\n"), Buffer.from(header), value, Buffer.from("\r\n")]);
  const { reply } = await exchange(meshedPort, Buffer.concat([command("SET", "big", value), command("GET", "big")]), expected.length);
  expect(reply.length).toBe(expected.length);
  expect(Buffer.compare(reply, expected)).toBe(0);
});

test("many small commands on one connection are answered in order", async () => {
  const n = 500;
  const commands: Buffer[] = [];
  const replies: string[] = [];
  for (let i = 0; i < n; i++) {
    commands.push(command("SET", `k${i}`, `v${i}`), command("GET", `k${i}`), command("INCR", "counter"));
    replies.push("+OK\r\n", `$${String(`v${i}`).length}\r\nv${i}\r\n`, `:${i + 1}\r\n`);
  }
  await exchange(meshedPort, command("DEL", "counter"), 4);
  const expected = replies.join("");
  const { reply } = await exchange(meshedPort, Buffer.concat(commands), expected.length);
  expect(reply.toString()).toBe(expected);
});

test("redis-cli through the client side's listener", async () => {
  const proc = spawn(["redis-cli", "-h", "127.0.0.1", "-p", String(meshedPort), "ECHO", "over-mtls"], { stdout: "pipe", stderr: "pipe" });
  const [code, out] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
  expect({ code, out: out.trim() }).toEqual({ code: 0, out: "over-mtls" });
});

test("the wire between the proxies carries TLS only; both sides label the peer identity", async () => {
  const wire = meshRelay.sent();
  expect(wire.length).toBeGreaterThan(1024 * 1024);
  expect([wire[0], wire[1]]).toEqual([0x16, 0x03]);
  expect(wire.includes(Buffer.from("*3\r\n$3\r\nSET"))).toBe(false);
  expect(wire.includes(Buffer.from("over-mtls"))).toBe(false);

  const client = await clientSide.metrics();
  const dst = { direction: "outbound", peer: "dst", target_port: String(meshRelay.port), tls: "true", server_id: SERVER_ID };
  expect(metricValue(client, "tcp_open_total", dst)).toBeGreaterThanOrEqual(4);
  expect(metricValue(client, "tcp_write_bytes_total", dst)).toBeGreaterThan(1024 * 1024);
  expect(metricValue(client, "tcp_read_bytes_total", dst)).toBeGreaterThan(1024 * 1024);
  // Nothing to the meshed endpoint was spliced in plaintext.
  expect(metricValue(client, "tcp_open_total", { direction: "outbound", peer: "dst", target_port: String(meshRelay.port), tls: "disabled" })).toBe(0);
  const server = await serverSide.metrics();
  expect(metricValue(server, "inbound_tcp_detect_http_results_total", { result: "mesh_tls" })).toBeGreaterThanOrEqual(4);
  expect(metricValue(server, "inbound_tcp_authz_allow_total", { tls: "true", client_id: CLIENT_ID })).toBeGreaterThanOrEqual(4);
});

test("a peer presenting another identity: the client connection is closed, nothing is sent, the failure is counted", async () => {
  const { reply, closed } = await exchange(impostorPort, command("PING"), 1);
  expect({ closed, reply: reply.toString() }).toEqual({ closed: true, reply: "" });
  expect(impostorPlaintext).toBe(0);
  const text = await clientSide.metrics();
  expect(metricValue(text, "meshlet_outbound_mtls_failures_total", { reason: "MESHLET_TLS_IDENTITY_MISMATCH" })).toBe(1);
  await clientSide.waitForLog((l) => l.message === "outbound mTLS origination failed; client connection closed" && l.reason === "MESHLET_TLS_IDENTITY_MISMATCH");
});

test("a service without the identity annotation stays plaintext, spliced natively", async () => {
  const { reply } = await exchange(plainPort, command("ECHO", "in-clear"), "$8\r\nin-clear\r\n".length);
  expect(reply.toString()).toBe("$8\r\nin-clear\r\n");
  expect(plainRelay.sent().toString()).toContain("in-clear");
  const text = await clientSide.metrics();
  expect(metricValue(text, "tcp_open_total", { direction: "outbound", peer: "dst", target_port: String(plainRelay.port), tls: "disabled" })).toBe(1);
  expect(metricValue(text, "tcp_open_total", { direction: "outbound", peer: "dst", target_port: String(plainRelay.port), tls: "true" })).toBe(0);
});

test("the server's close reaches the client after its last bytes (QUIT)", async () => {
  const { reply, closed } = await exchange(meshedPort, Buffer.concat([command("SET", "q", "1"), command("QUIT")]), Number.MAX_SAFE_INTEGER);
  expect({ closed, reply: reply.toString() }).toEqual({ closed: true, reply: "+OK\r\n+OK\r\n" });
});
