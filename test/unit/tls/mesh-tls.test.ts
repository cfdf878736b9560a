// mTLS between meshed proxies with Bun's TLS sockets on 127.0.0.1: the options from mesh-tls-options.ts
// and the verdicts of handshake-verdict.ts, against certificates made with the openssl CLI — the client
// identity reaches the server, a stranger's certificate, a missing one, TLS 1.2 and a server with the
// wrong (or a wildcard) identity are refused before any application byte moves; bad PEM is a named error.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RefusalCode, handshakeOutcome, verifyMeshClient, verifyMeshServer } from "../../../src/tls/handshake-verdict.ts";
import { MeshCredentialsError, type MeshCredentialsPem, meshClientTlsOptions, meshServerTlsOptions } from "../../../src/tls/mesh-tls-options.ts";
import { type MeshCerts, makeMeshCerts } from "../../support/mesh-certs.ts";

const SERVER_ID = "api.default.serviceaccount.identity.linkerd.cluster.local";
const CLIENT_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const BOUND_MS = 10_000;

let certs: MeshCerts;
let serverCreds: MeshCredentialsPem;
let clientCreds: MeshCredentialsPem;
beforeAll(() => {
  certs = makeMeshCerts();
  serverCreds = certs.issue(SERVER_ID);
  clientCreds = certs.issue(CLIENT_ID);
});
afterAll(() => certs.cleanup());

type ServerEvent = { ok: true; identity: string } | { ok: false; code: RefusalCode };

/** A meshed server: greets a verified client with its identity, records every verdict and the client's message, then closes. */
function meshServer(creds: MeshCredentialsPem): { listener: TCPSocketListener<undefined>; events: ServerEvent[]; received: string[] } {
  const events: ServerEvent[] = [];
  const received: string[] = [];
  const listener = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    tls: meshServerTlsOptions(creds),
    socket: {
      handshake(socket, success, authorizationError) {
        const verdict = verifyMeshClient(handshakeOutcome(socket as Socket<unknown>, success, authorizationError));
        if (!verdict.ok) {
          events.push({ ok: false, code: verdict.code });
          socket.end();
          return;
        }
        events.push({ ok: true, identity: verdict.identity.name });
        socket.write(`hello ${verdict.identity.name}\n`);
      },
      data(socket, data) {
        received.push(data.toString());
        socket.end(); // one message each: the client (and s_client, which ignores stdin EOF) sees the close
      },
    },
  });
  return { listener, events, received };
}

/** Dials a meshed server expecting `expectedIdentity`; resolves once the connection is over. */
function meshDial(port: number, creds: MeshCredentialsPem, expectedIdentity: string): Promise<{ verdict: string; received: string }> {
  return new Promise((resolve) => {
    let verdict = "no handshake";
    let received = "";
    const done = () => {
      clearTimeout(bound);
      resolve({ verdict, received });
    };
    const bound = setTimeout(done, BOUND_MS);
    Bun.connect<undefined>({
      hostname: "127.0.0.1",
      port,
      tls: meshClientTlsOptions(creds, expectedIdentity),
      socket: {
        handshake(socket, success, authorizationError) {
          const v = verifyMeshServer(handshakeOutcome(socket as Socket<unknown>, success, authorizationError), expectedIdentity);
          verdict = v.ok ? "ok" : v.code;
          if (v.ok) socket.write("ping from the client\n");
          else socket.end();
        },
        data(socket, data) {
          received += data.toString();
          if (received.endsWith("\n")) socket.end();
        },
        close: done,
        error: done,
      },
    }).catch((err: unknown) => {
      verdict = `connect failed: ${String(err)}`;
      done();
    });
  });
}

/** openssl s_client with extra flags; resolves with its combined output once it exits. */
async function sClient(port: number, flags: string[]): Promise<string> {
  const caFile = join(certs.dir, "mesh-ca.crt");
  const proc = Bun.spawn(["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-servername", SERVER_ID, "-CAfile", caFile, "-quiet", ...flags], {
    stdin: new TextEncoder().encode("ping from s_client\n"),
    stdout: "pipe",
    stderr: "pipe",
  });
  const bound = setTimeout(() => proc.kill(), BOUND_MS);
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(bound);
  return out + err;
}

test("a client of the same mesh is verified: its identity reaches the server, and the server's the client", async () => {
  const server = meshServer(serverCreds);
  try {
    const result = await meshDial(server.listener.port, clientCreds, SERVER_ID);
    expect(result).toEqual({ verdict: "ok", received: `hello ${CLIENT_ID}\n` });
    expect(server.events).toEqual([{ ok: true, identity: CLIENT_ID }]);
  } finally {
    server.listener.stop(true);
  }
});

test("a client certificate from another trust anchor never gets an identity, nor any byte", async () => {
  const server = meshServer(serverCreds);
  try {
    const stranger = certs.issue(CLIENT_ID, { anchor: "other" });
    const result = await meshDial(server.listener.port, stranger, SERVER_ID);
    expect(result.received).toBe("");
    expect(server.events.every((e) => !e.ok)).toBe(true);
    expect(server.received).toEqual([]);
  } finally {
    server.listener.stop(true);
  }
});

test("a verified client certificate without a DNS or URI name is refused as having no identity", async () => {
  const server = meshServer(serverCreds);
  try {
    const nameless = certs.issue("nameless", { sans: "" });
    const result = await meshDial(server.listener.port, nameless, SERVER_ID);
    expect(result.received).toBe("");
    expect(server.events).toEqual([{ ok: false, code: "MESHLET_TLS_NO_PEER_IDENTITY" }]);
  } finally {
    server.listener.stop(true);
  }
});

test("a client without a certificate, or speaking TLS 1.2, is refused by the handshake", async () => {
  const server = meshServer(serverCreds);
  try {
    const clientCert = certs.issue(CLIENT_ID);
    const certFile = join(certs.dir, "s_client.crt");
    const keyFile = join(certs.dir, "s_client.key");
    writeFileSync(certFile, clientCert.leafPem);
    writeFileSync(keyFile, clientCert.privateKeyPem);
    // The same client with a certificate and TLS 1.3 is accepted: the refusals below are the point.
    expect(await sClient(server.listener.port, ["-tls1_3", "-cert", certFile, "-key", keyFile, "-cert_chain", join(certs.dir, "mesh-issuer.crt")])).toContain(`hello ${CLIENT_ID}`);
    expect(await sClient(server.listener.port, ["-tls1_3"])).toContain("certificate required");
    expect(await sClient(server.listener.port, ["-tls1_2", "-cert", certFile, "-key", keyFile])).toContain("protocol version");
    expect(server.events.filter((e) => e.ok)).toEqual([{ ok: true, identity: CLIENT_ID }]);
    expect(server.received).toEqual(["ping from s_client\n"]);
  } finally {
    server.listener.stop(true);
  }
});

test("a server presenting another identity, or only a wildcard, is refused by the client before it writes", async () => {
  for (const sans of ["DNS:db.default.serviceaccount.identity.linkerd.cluster.local", "DNS:*.default.serviceaccount.identity.linkerd.cluster.local"]) {
    const server = meshServer(certs.issue("impostor", { sans }));
    try {
      const result = await meshDial(server.listener.port, clientCreds, SERVER_ID);
      expect(result.verdict).toBe("MESHLET_TLS_IDENTITY_MISMATCH");
      expect(server.received).toEqual([]);
    } finally {
      server.listener.stop(true);
    }
  }
});

test("a server of another mesh is refused as unverified", async () => {
  const server = meshServer(certs.issue(SERVER_ID, { anchor: "other" }));
  try {
    const result = await meshDial(server.listener.port, clientCreds, SERVER_ID);
    expect(result.verdict).toBe("MESHLET_TLS_PEER_UNVERIFIED");
    expect(server.received).toEqual([]);
  } finally {
    server.listener.stop(true);
  }
});

test("unusable PEM is an error naming the input", () => {
  const other = certs.issue(CLIENT_ID);
  const cases: Array<[MeshCredentialsPem, string, number | undefined]> = [
    [{ ...serverCreds, certificateChainPem: "" }, "certificateChainPem", undefined],
    [{ ...serverCreds, certificateChainPem: serverCreds.certificateChainPem.replace(/(-----BEGIN CERTIFICATE-----\n)..../, "$1!!!!") }, "certificateChainPem", 0],
    [{ ...serverCreds, trustAnchorsPem: "not pem" }, "trustAnchorsPem", undefined],
    [{ ...serverCreds, privateKeyPem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" }, "privateKeyPem", undefined],
    [{ ...serverCreds, privateKeyPem: other.privateKeyPem }, "privateKeyPem", undefined],
  ];
  for (const [creds, field, index] of cases) {
    for (const build of [() => meshServerTlsOptions(creds), () => meshClientTlsOptions(creds, SERVER_ID)]) {
      let err: unknown;
      try {
        build();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MeshCredentialsError);
      expect((err as MeshCredentialsError).code).toBe("MESHLET_ERR_TLS_CREDENTIALS");
      expect((err as MeshCredentialsError).field).toBe(field as keyof MeshCredentialsPem);
      expect((err as MeshCredentialsError).index).toBe(index);
    }
  }
});
