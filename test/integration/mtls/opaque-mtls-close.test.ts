// How opaque connections between two meshlets end: an app that answers and closes (HTTP/1.0-style
// "Connection: close", a one-shot protocol) must see the client's FIN, never a reset, and the client must
// get the whole answer and then a clean EOF — also when many such connections end at once. A reset from
// either side still passes on as a reset.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type TCPSocketListener } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";
import { identityEnv, writeEndpointSlice } from "./mesh-fixtures.ts";

const CLIENT_ID = "app.default.serviceaccount.identity.linkerd.cluster.local";
const SERVER_ID = "svc.default.serviceaccount.identity.linkerd.cluster.local";
const ANSWER = Buffer.from("answer: ".padEnd(4096, "x") + "\n");
const STREAM_CHUNK = Buffer.alloc(16 * 1024, "s");

interface AppConn {
  answered: boolean;
  streamTimer: ReturnType<typeof setInterval> | undefined;
}

/** What the app saw of each connection once it had answered. */
interface AppTally {
  cleanEnds: number;
  resets: number;
  /** Connections of "STREAM" requests that closed (however). */
  streamsClosed: number;
}

const configDir = mkdtempSync(join(tmpdir(), "meshlet-opaque-close-"));
const tally: AppTally = { cleanEnds: 0, resets: 0, streamsClosed: 0 };
let app: TCPSocketListener<AppConn>;
let serverSide: RunningProxy;
let clientSide: RunningProxy;
/** The client side's outbound listener naming the meshed service. */
let meshedPort: number;

beforeAll(async () => {
  const ca = await makeCa();
  const clientFiles = await issue(ca, CLIENT_ID, join(tempDir(), "app"));
  const serverFiles = await issue(ca, SERVER_ID, join(tempDir(), "svc"));
  // The app: reads one line and answers; after "GET /" it half-closes and waits for the client's FIN
  // (clean) or a reset, after "HOLD" it keeps the connection open, after "STREAM" it sends 16 KiB
  // every 10 ms until the connection closes.
  app = Bun.listen<AppConn>({
    hostname: "127.0.0.1",
    port: 0,
    allowHalfOpen: true,
    socket: {
      open(socket) {
        socket.data = { answered: false, streamTimer: undefined };
      },
      data(socket, chunk) {
        if (socket.data.answered || !chunk.includes(10)) return;
        socket.data.answered = true;
        if (chunk.includes("STREAM")) {
          socket.data.streamTimer = setInterval(() => socket.write(STREAM_CHUNK), 10);
          return;
        }
        socket.write(ANSWER);
        if (!chunk.includes("HOLD")) socket.shutdown();
      },
      end(socket) {
        socket.end();
      },
      // Bun reports the FIN that follows our own shutdown() as a close without error, a reset with one.
      close(socket, err) {
        if (socket.data.streamTimer !== undefined) {
          clearInterval(socket.data.streamTimer);
          tally.streamsClosed++;
          return;
        }
        if (!socket.data.answered) return;
        if (err === undefined) tally.cleanEnds++;
        else tally.resets++;
      },
    },
  });
  serverSide = await startProxy({ ...identityEnv(serverFiles), MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}`, MESHLET_OPAQUE_PORTS: String(app.port) });
  writeEndpointSlice(configDir, "svc", serverSide.inboundPort, SERVER_ID);
  clientSide = await startProxy({
    ...identityEnv(clientFiles),
    MESHLET_CONFIG_DIR: configDir,
    MESHLET_OPAQUE_PORTS: String(serverSide.inboundPort),
    MESHLET_OUTBOUND_UPSTREAMS: "127.0.0.1:0=svc.default.svc.cluster.local:7000",
  });
  meshedPort = clientSide.outboundPorts[1] as number;
}, 60_000);

afterAll(async () => {
  await clientSide?.stop();
  await serverSide?.stop();
  app?.stop(true);
  rmSync(configDir, { recursive: true, force: true });
});

/** One request line; reads to EOF. The outcome: the bytes, and whether it ended by EOF or by an error. */
function oneShot(port: number): Promise<{ bytes: number; error: string | undefined }> {
  return new Promise((resolve) => {
    let bytes = 0;
    let error: string | undefined;
    const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () => socket.write("GET /\n"));
    const timer = setTimeout(() => socket.destroy(new Error("no end within 20 s")), 20_000);
    socket.on("data", (d: Buffer) => (bytes += d.length));
    socket.on("end", () => socket.end());
    socket.on("error", (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ bytes, error });
    });
  });
}

test("an app that answers and closes sees every client's FIN, never a reset, and every client reads the whole answer to EOF", async () => {
  const before = { ...tally };
  const connections = 120;
  const concurrency = 20;
  const outcomes: { bytes: number; error: string | undefined }[] = [];
  for (let i = 0; i < connections; i += concurrency) {
    outcomes.push(...(await Promise.all(Array.from({ length: concurrency }, () => oneShot(meshedPort)))));
  }
  expect(outcomes.filter((o) => o.error !== undefined)).toEqual([]);
  expect(outcomes.every((o) => o.bytes === ANSWER.length)).toBe(true);
  // The app's last callbacks may trail the clients' by a moment.
  for (let i = 0; i < 100 && tally.cleanEnds - before.cleanEnds < connections; i++) await Bun.sleep(20);
  expect(tally.resets - before.resets).toBe(0);
  expect(tally.cleanEnds - before.cleanEnds).toBe(connections);
}, 60_000);

test("a client that resets its connection gets the app's connection reset too", async () => {
  const resetsBefore = tally.resets;
  const appConnections = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (tally.resets > resetsBefore) (clearInterval(poll), resolve());
    }, 10);
    setTimeout(() => (clearInterval(poll), resolve()), 10_000);
  });
  // The app answers and keeps the connection open; this client waits for the answer's first bytes, then resets.
  await new Promise<void>((resolve) => {
    const socket = net.connect({ port: meshedPort, host: "127.0.0.1" }, () => socket.write("HOLD\n"));
    socket.once("data", () => {
      socket.resetAndDestroy();
      resolve();
    });
    socket.on("error", () => resolve());
  });
  await appConnections;
  expect(tally.resets).toBeGreaterThan(resetsBefore);
}, 30_000);

test("an app still sending after the client closed cleanly is closed, not left open", async () => {
  const closedBefore = tally.streamsClosed;
  await new Promise<void>((resolve) => {
    const socket = net.connect({ port: meshedPort, host: "127.0.0.1" }, () => socket.write("STREAM\n"));
    socket.once("data", () => socket.end()); // a clean close while the app streams
    socket.on("close", () => resolve());
    socket.on("error", () => {});
  });
  for (let i = 0; i < 150 && tally.streamsClosed === closedBefore; i++) await Bun.sleep(20);
  expect(tally.streamsClosed).toBe(closedBefore + 1);
}, 30_000);
