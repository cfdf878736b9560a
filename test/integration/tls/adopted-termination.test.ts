// mTLS terminated on sockets the native front door accepted (src/tls/adopted-tls-server.ts), in a
// front-door process of its own: a verified client gets its identity back and a 16 MiB echo byte-exact
// through Bun's TLS socket with backpressure both ways, and that socket has the listener's address; a
// stranger's certificate and a missing one are refused and reported, and never see a plaintext byte; a
// client that stalls inside the handshake is cut off at the handshake timeout.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket } from "bun";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MeshCredentialsPem } from "../../../src/tls/mesh-tls-options.ts";
import { meshClientTlsOptions } from "../../../src/tls/mesh-tls-options.ts";
import { type MeshCerts, makeMeshCerts } from "../../support/mesh-certs.ts";
import { HANDSHAKE_TIMEOUT_MS, type TlsTerminationDoor, startTlsTerminationDoor } from "../../support/tls-termination-door.ts";

const SERVER_ID = "api.default.serviceaccount.identity.linkerd.cluster.local";
const CLIENT_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const BOUND_MS = 20_000;

let certs: MeshCerts;
let door: TlsTerminationDoor;
beforeAll(async () => {
  certs = makeMeshCerts();
  const server = certs.issue(SERVER_ID);
  const dir = join(certs.dir, "server");
  mkdirSync(dir);
  writeFileSync(join(dir, "tls.crt"), server.certificateChainPem);
  writeFileSync(join(dir, "tls.key"), server.privateKeyPem);
  writeFileSync(join(dir, "ca.crt"), server.trustAnchorsPem);
  door = await startTlsTerminationDoor(dir);
});
afterAll(async () => {
  await door?.stop();
  certs?.cleanup();
});

/** Connects with `creds`, sends `payload` once greeted, and collects everything until the close. */
function exchange(creds: MeshCredentialsPem, payload: Uint8Array): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let sent = 0;
    let greeted = false;
    const finish = () => {
      clearTimeout(bound);
      resolve(Buffer.concat(chunks));
    };
    const bound = setTimeout(finish, BOUND_MS);
    // Reading stays paused until everything is sent (the door keeps reading and queues its echo): the
    // echo fills every buffer towards us first, so the door's writes to the adopted socket come back
    // short and wait for drain — the backpressure path — before we read a byte of it.
    // Bun calls drain after the handshake too, before any greeting: nothing is sent until the greeting.
    // write() says 0 when the socket's buffer is full and -1 once it is closed (a refused client): stop on both.
    const pump = (socket: Socket<undefined>) => {
      if (!greeted) return;
      while (sent < payload.length) {
        const n = socket.write(payload.subarray(sent, Math.min(payload.length, sent + 65536)));
        if (n <= 0) return;
        sent += n;
      }
      socket.resume();
    };
    Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port: door.port,
      tls: meshClientTlsOptions(creds, SERVER_ID),
      socket: {
        data(socket, data) {
          chunks.push(Buffer.from(data));
          if (!greeted && Buffer.concat(chunks).includes("\n")) {
            greeted = true;
            socket.pause();
            pump(socket);
          }
          if (greeted && Buffer.concat(chunks).length >= `identity ${CLIENT_ID}\n`.length + payload.length) socket.end();
        },
        drain: pump,
        close: finish,
        error: finish,
      },
    }).catch(finish);
  });
}

test("a verified client gets its identity, then a 16 MiB echo byte for byte, backpressure both ways", async () => {
  const payload = randomBytes(16 * 1024 * 1024);
  const received = await exchange(certs.issue(CLIENT_ID), payload);
  const greeting = `identity ${CLIENT_ID}\n`;
  expect(received.subarray(0, greeting.length).toString()).toBe(greeting);
  expect(received.length).toBe(greeting.length + payload.length);
  expect(received.subarray(greeting.length).equals(payload)).toBe(true);
  // The adopted TLS socket reports the connection's own local address: the door's listener.
  expect(await door.nextSession()).toEqual({ kind: "session", identity: CLIENT_ID, localAddress: "127.0.0.1", localPort: door.port });
});

test("a client certificate from another trust anchor is refused and reported, and sees no plaintext", async () => {
  const received = await exchange(certs.issue(CLIENT_ID, { anchor: "other" }), Buffer.from("secret\n"));
  expect(received.length).toBe(0);
  const refusal = await door.nextRefusal();
  expect(refusal).toEqual({ kind: "refusal", code: "MESHLET_TLS_PEER_UNVERIFIED", detail: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" });
});

/** openssl s_client with `flags`, stdin one line; its stdout and stderr once it exits. */
async function sClient(flags: string[]): Promise<{ out: string; err: string }> {
  const proc = Bun.spawn(["openssl", "s_client", "-connect", `127.0.0.1:${door.port}`, "-servername", SERVER_ID, "-CAfile", join(certs.dir, "mesh-ca.crt"), "-quiet", ...flags], {
    stdin: new TextEncoder().encode("secret\n"),
    stdout: "pipe",
    stderr: "pipe",
  });
  const bound = setTimeout(() => proc.kill(), BOUND_MS);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(bound);
  return { out, err };
}

test("a client without a certificate, or speaking TLS 1.2, is refused by the handshake", async () => {
  const noCertificate = await sClient(["-tls1_3"]);
  expect(noCertificate.out).not.toContain("identity");
  expect(noCertificate.err).toContain("certificate required");
  expect((await door.nextRefusal()).code).toBe("MESHLET_TLS_NO_PEER_IDENTITY");

  const client = certs.issue(CLIENT_ID);
  writeFileSync(join(certs.dir, "client-leaf.crt"), client.leafPem);
  writeFileSync(join(certs.dir, "client.key"), client.privateKeyPem);
  const tls12 = await sClient(["-tls1_2", "-cert", join(certs.dir, "client-leaf.crt"), "-cert_chain", join(certs.dir, "mesh-issuer.crt"), "-key", join(certs.dir, "client.key")]);
  expect(tls12.out).not.toContain("identity");
  expect(tls12.err).toContain("protocol version");
  expect((await door.nextRefusal()).code).toBe("MESHLET_TLS_HANDSHAKE_FAILED");
});

/** A real mesh ClientHello: the first bytes a Bun TLS client sends, caught by a plain TCP listener. */
async function captureClientHello(creds: MeshCredentialsPem): Promise<Buffer> {
  const { promise, resolve } = Promise.withResolvers<Buffer>();
  const catcher = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, data) {
        resolve(Buffer.from(data));
        socket.terminate();
      },
    },
  });
  Bun.connect<undefined>({ hostname: "127.0.0.1", port: catcher.port, tls: meshClientTlsOptions(creds, SERVER_ID), socket: { data() {}, error() {} } }).catch(() => {});
  try {
    return await promise;
  } finally {
    catcher.stop(true);
  }
}

test("a client that sends its ClientHello and then stalls is refused at the handshake timeout and closed", async () => {
  const hello = await captureClientHello(certs.issue(CLIENT_ID));
  const closed = await new Promise<boolean>((resolve) => {
    const bound = setTimeout(() => resolve(false), HANDSHAKE_TIMEOUT_MS + BOUND_MS);
    Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port: door.port,
      socket: {
        open: (socket) => void socket.write(hello), // and nothing more: the handshake never completes
        data() {},
        close: () => (clearTimeout(bound), resolve(true)),
        error: () => (clearTimeout(bound), resolve(true)),
      },
    }).catch(() => resolve(false));
  });
  expect(closed).toBe(true);
  const refusal = await door.nextRefusal();
  expect(refusal).toEqual({ kind: "refusal", code: "MESHLET_TLS_HANDSHAKE_TIMEOUT", detail: `no complete handshake within ${HANDSHAKE_TIMEOUT_MS} ms` });
});
