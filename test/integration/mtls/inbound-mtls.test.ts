// Inbound mTLS through a real `meshlet proxy` with identity from `meshlet identity init/issue`: a
// Bun.connect TLS client with a mesh certificate and SNI = the proxy's identity reaches the Bun app with
// l5d-client-id = its identity (HTTP/1, and opaque bytes relayed byte-exact); plaintext still works
// unless the policy is all-authenticated; a certificate from another trust anchor fails the handshake;
// a ClientHello for another name is the app's own TLS, spliced untouched; authz metrics and the access
// log carry the identity; HTTP/2 inside mTLS; l5d-proxy-error only for meshed clients.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Server, Socket, TCPSocketListener } from "bun";
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import { Duplex } from "node:stream";
import tls from "node:tls";
import { join } from "node:path";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";

const SERVER = "web.default.serviceaccount.identity.linkerd.cluster.local";
const CLIENT = "client.default.serviceaccount.identity.linkerd.cluster.local";
const REPLY_TIMEOUT_MS = 10_000;
setDefaultTimeout(30_000); // proxies start, CAs are made; every wait inside is bounded on its own

interface Pem {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}
const pemOf = (files: { anchors: string; cert: string; key: string }): Pem => ({
  cert: readFileSync(files.cert, "utf8"),
  key: readFileSync(files.key, "utf8"),
  ca: readFileSync(files.anchors, "utf8"),
});

let serverFiles: { anchors: string; cert: string; key: string };
let client: Pem;
let stranger: Pem;
let appCert: Pem;

beforeAll(async () => {
  const ca = await makeCa();
  const dir = tempDir("meshlet-mtls-in-");
  serverFiles = await issue(ca, SERVER, join(dir, "web"));
  client = pemOf(await issue(ca, CLIENT, join(dir, "client")));
  appCert = pemOf(await issue(ca, "app.example", join(dir, "app")));
  // Another mesh's certificate for the same name; the client itself trusts our anchor, so the refusal is the proxy's.
  const strangerFiles = await issue(await makeCa(), CLIENT, join(dir, "stranger"));
  stranger = { ...pemOf(strangerFiles), ca: client.ca };
});

const identityEnv = () => ({
  MESHLET_IDENTITY_TRUST_ANCHORS: serverFiles.anchors,
  MESHLET_IDENTITY_CERT: serverFiles.cert,
  MESHLET_IDENTITY_KEY: serverFiles.key,
});

interface TlsOutcome {
  /** Everything the server sent before it closed. */
  readonly received: string;
  readonly handshakeOk: boolean;
  readonly authorizationError: string | null;
  readonly peerSubjectAltName: string | undefined;
  /** The server certificate's SHA-256 fingerprint. */
  readonly peerFingerprint: string | undefined;
}

/**
 * Connects with TLS to 127.0.0.1:port (SNI `serverName`), sends `payload` after the handshake and
 * collects the reply until the server closes — or, with `endAfterBytes`, closes itself once it has that
 * many bytes. (No half-close: whether the server side keeps sending after a client's close_notify is not tested, see README.)
 */
function tlsExchange(port: number, pem: Pem, serverName: string, payload: string, endAfterBytes?: number): Promise<TlsOutcome> {
  return new Promise((resolve, reject) => {
    let received = "";
    let handshakeOk = false;
    let authorizationError: string | null = null;
    let peerSubjectAltName: string | undefined;
    let peerFingerprint: string | undefined;
    const timer = setTimeout(() => reject(new Error(`no close within ${REPLY_TIMEOUT_MS} ms; got ${JSON.stringify(received)}`)), REPLY_TIMEOUT_MS);
    let unsent: Buffer | undefined;
    // Writes what the socket takes; the half-close follows the last byte.
    const sendRest = (socket: Socket<undefined>) => {
      if (unsent === undefined) return;
      const n = socket.write(unsent);
      unsent = unsent.subarray(n);
      if (unsent.length > 0) return;
      unsent = undefined;
    };
    const done = () => {
      clearTimeout(timer);
      resolve({ received, handshakeOk, authorizationError, peerSubjectAltName, peerFingerprint });
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      allowHalfOpen: true,
      tls: { cert: pem.cert, key: pem.key, ca: pem.ca, serverName, rejectUnauthorized: true },
      socket: {
        handshake(socket: Socket<undefined>, success: boolean, err: Error | null) {
          handshakeOk = success && err === null;
          authorizationError = err === null ? null : String((err as Error & { code?: string }).code ?? err.message);
          const peer = (socket as unknown as { getPeerCertificate(): { subjectaltname?: string; fingerprint256?: string } | null }).getPeerCertificate();
          peerSubjectAltName = peer?.subjectaltname;
          peerFingerprint = peer?.fingerprint256;
          if (!handshakeOk) return void socket.end();
          unsent = Buffer.from(payload, "latin1");
          sendRest(socket);
        },
        drain: sendRest,
        data(socket, data: Buffer) {
          received += data.toString("latin1");
          if (endAfterBytes !== undefined && received.length >= endAfterBytes) socket.end();
        },
        close: done,
        error: done,
        connectError: (_s, err) => reject(err),
      },
    }).catch(reject);
  });
}

const requestTo = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: web\r\n${extra}Connection: close\r\n\r\n`;

/** The JSON body of a raw HTTP/1 response. */
function bodyOf(response: string): Record<string, string> {
  return JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4)) as Record<string, string>;
}

describe("inbound mTLS to an HTTP app", () => {
  let app: Server<undefined>;
  const appPaths: string[] = [];
  let proxy: RunningProxy;
  beforeAll(async () => {
    // The app answers with the headers it received, and keeps the paths it was asked for.
    app = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        appPaths.push(new URL(req.url).pathname);
        return Response.json(Object.fromEntries(req.headers));
      },
    });
    proxy = await startProxy({ ...identityEnv(), MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}`, MESHLET_ACCESS_LOG: "json" });
  });
  afterAll(async () => {
    await proxy?.stop();
    app?.stop(true);
  });

  test("the app sees l5d-client-id = the client's identity; a client-sent one is replaced", async () => {
    const outcome = await tlsExchange(proxy.inboundPort, client, SERVER, requestTo("/mtls", "l5d-client-id: forged.example\r\n"));
    expect(outcome.handshakeOk).toBe(true);
    expect(outcome.peerSubjectAltName).toBe(`DNS:${SERVER}`);
    expect(outcome.received.startsWith("HTTP/1.1 200")).toBe(true);
    expect(bodyOf(outcome.received)["l5d-client-id"]).toBe(CLIENT);
    // The access log (json on stderr) names the client's identity.
    const line = await proxy.waitForLog((l) => l.uri === "/mtls");
    expect(line["client.id"]).toBe(CLIENT);
  });

  test("the SNI matches the identity whatever its case", async () => {
    const outcome = await tlsExchange(proxy.inboundPort, client, SERVER.toUpperCase(), requestTo("/upper"));
    expect(outcome.received.startsWith("HTTP/1.1 200")).toBe(true);
    expect(bodyOf(outcome.received)["l5d-client-id"]).toBe(CLIENT);
  });

  test("a plaintext request still works, without l5d-client-id", async () => {
    const response = await fetch(`http://127.0.0.1:${proxy.inboundPort}/plain`, { headers: { "l5d-client-id": "forged.example" } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Record<string, string>)["l5d-client-id"]).toBeUndefined();
  });

  test("a client certificate from another trust anchor fails the handshake and is counted", async () => {
    const outcome = await tlsExchange(proxy.inboundPort, stranger, SERVER, requestTo("/stranger"));
    expect(outcome.received).toBe("");
    const line = await proxy.waitForLog((l) => l.message === "inbound mTLS connection refused");
    expect(line).toMatchObject({ scope: "inbound", level: "info", reason: "MESHLET_TLS_PEER_UNVERIFIED" });
    expect(metricValue(await proxy.metrics(), "meshlet_inbound_mtls_failures_total", { reason: "MESHLET_TLS_PEER_UNVERIFIED" })).toBeGreaterThanOrEqual(1);
    // The refused client's request never reached the HTTP engine, nor the app.
    expect(appPaths).not.toContain("/stranger");
    expect(appPaths).toContain("/mtls"); // (the app does record what reaches it)
  });

  test("authz metrics label the mTLS client tls=\"true\" with its client_id, a plaintext one tls=\"no_identity\" (no_tls_from_remote)", async () => {
    await tlsExchange(proxy.inboundPort, client, SERVER, requestTo("/metrics-check"));
    const metrics = await proxy.metrics();
    expect(metricValue(metrics, "inbound_http_authz_allow_total", { tls: "true", client_id: CLIENT })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, "inbound_http_authz_allow_total", { tls: "no_identity", no_tls_reason: "no_tls_from_remote" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, "inbound_http_authz_allow_total", { tls: "disabled" })).toBe(0);
    expect(metricValue(metrics, "inbound_tcp_detect_http_results_total", { result: "mesh_tls" })).toBeGreaterThanOrEqual(1);
  });
});

describe("all-authenticated: plaintext refused, mTLS admitted", () => {
  let app: Server<undefined>;
  let proxy: RunningProxy;
  beforeAll(async () => {
    app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => Response.json(Object.fromEntries(req.headers)) });
    proxy = await startProxy({ ...identityEnv(), MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}`, MESHLET_DEFAULT_INBOUND_POLICY: "all-authenticated" });
  });
  afterAll(async () => {
    await proxy?.stop();
    app?.stop(true);
  });

  test("a plaintext request gets 403", async () => {
    expect((await fetch(`http://127.0.0.1:${proxy.inboundPort}/plain`)).status).toBe(403);
  });

  test("an mTLS request reaches the app", async () => {
    const outcome = await tlsExchange(proxy.inboundPort, client, SERVER, requestTo("/mtls"));
    expect(outcome.received.startsWith("HTTP/1.1 200")).toBe(true);
    expect(bodyOf(outcome.received)["l5d-client-id"]).toBe(CLIENT);
  });
});

describe("opaque and foreign TLS", () => {
  let echo: TCPSocketListener<undefined>;
  let appTls: TCPSocketListener<undefined>;
  const proxies: RunningProxy[] = [];
  beforeAll(() => {
    // A TCP echo, and an app that speaks its own TLS (and half-closes after the client's FIN).
    echo = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      allowHalfOpen: true,
      socket: { data: (s, d) => void s.write(d), end: (s) => void s.end() },
    });
    appTls = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      tls: { cert: appCert.cert, key: appCert.key },
      allowHalfOpen: true,
      socket: { data: (s, d) => void s.write(`app:${d.toString()}`), end: (s) => void s.end() },
    });
  });
  afterAll(async () => {
    for (const p of proxies) await p.stop();
    echo?.stop(true);
    appTls?.stop(true);
  });

  test("opaque bytes inside mTLS are relayed to the app byte-exact, both ways with backpressure", async () => {
    const proxy = await startProxy({ ...identityEnv(), MESHLET_INBOUND_FORWARD: `127.0.0.1:${echo.port}` });
    proxies.push(proxy);
    const payload = `\x00\x01binary ${"x".repeat(100_000)} end`;
    const outcome = await tlsExchange(proxy.inboundPort, client, SERVER, payload, payload.length);
    expect(outcome.handshakeOk).toBe(true);
    expect(outcome.received.length).toBe(payload.length);
    expect(outcome.received === payload).toBe(true);
    // Decided by the port's TCP authorizations, counted like native-decided opaque connections, with the identity.
    const metrics = await proxy.metrics();
    expect(metricValue(metrics, "inbound_tcp_authz_allow_total", { tls: "true", client_id: CLIENT, srv_name: "all-unauthenticated" })).toBe(1);
  });

  test("opaque inside mTLS that the port's TCP authorizations refuse is closed and counted as denied", async () => {
    // cluster-authenticated: an identity is not enough from 127.0.0.1, outside MESHLET_CLUSTER_NETWORKS.
    const proxy = await startProxy({ ...identityEnv(), MESHLET_INBOUND_FORWARD: `127.0.0.1:${echo.port}`, MESHLET_DEFAULT_INBOUND_POLICY: "cluster-authenticated" });
    proxies.push(proxy);
    const outcome = await tlsExchange(proxy.inboundPort, client, SERVER, "\x00opaque");
    expect(outcome.handshakeOk).toBe(true);
    expect(outcome.received).toBe("");
    const metrics = await proxy.metrics();
    expect(metricValue(metrics, "inbound_tcp_authz_deny_total", { tls: "true", client_id: CLIENT, srv_name: "cluster-authenticated" })).toBe(1);
    expect(metricValue(metrics, "inbound_tcp_authz_allow_total", { tls: "true" })).toBe(0);
    expect(metricValue(metrics, "meshlet_inbound_mtls_failures_total", { reason: "MESHLET_TLS_UNAUTHORIZED" })).toBe(1);
  });

  test("a ClientHello for another name reaches the app's own TLS untouched", async () => {
    const proxy = await startProxy({ ...identityEnv(), MESHLET_INBOUND_FORWARD: `127.0.0.1:${appTls.port}` });
    proxies.push(proxy);
    const outcome = await tlsExchange(proxy.inboundPort, client, "app.example", "hello", "app:hello".length);
    expect(outcome.handshakeOk).toBe(true);
    expect(outcome.peerSubjectAltName).toBe("DNS:app.example"); // the app's certificate, not the proxy's
    expect(outcome.received).toBe("app:hello");
    expect(metricValue(await proxy.metrics(), "inbound_tcp_detect_http_results_total", { result: "tls" })).toBe(1);
  });
});

/** `socket` seen through a Duplex that is no TLSSocket (bytes both ways, end and errors passed on). */
function plainDuplexOver(socket: tls.TLSSocket): Duplex {
  const duplex = new Duplex({
    read: () => void socket.resume(),
    write: (chunk, _encoding, done) => void socket.write(chunk, done),
    final: (done) => (socket.end(), done()),
    destroy: (err, done) => (socket.destroy(), done(err)),
  });
  socket.on("data", (d: Buffer) => {
    if (!duplex.push(d)) socket.pause();
  });
  socket.on("end", () => duplex.push(null));
  socket.on("error", (err) => duplex.destroy(err));
  return duplex;
}

describe("HTTP/2 inside mTLS", () => {
  let app: http2.Http2Server;
  let proxy: RunningProxy;
  beforeAll(async () => {
    // An h2c app (h2 clients get h2 upstream) answering with the headers it received.
    app = http2.createServer();
    app.on("stream", (stream: http2.ServerHttp2Stream, headers) => {
      stream.respond({ ":status": 200, "content-type": "application/json" });
      stream.end(JSON.stringify(headers));
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    proxy = await startProxy({ ...identityEnv(), MESHLET_INBOUND_FORWARD: `127.0.0.1:${(app.address() as { port: number }).port}` });
  });
  afterAll(async () => {
    await proxy?.stop();
    app?.close();
  });

  test("an h2 client (prior knowledge inside TLS) reaches the app with l5d-client-id", async () => {
    const session = http2.connect(`http://${SERVER}`, {
      // A plain Duplex around the TLS socket: node:http2 would insist on ALPN h2 from a TLSSocket, and
      // the proxy negotiates no ALPN (it detects HTTP/2 by its preface, as on cleartext).
      createConnection: () => plainDuplexOver(tls.connect({ host: "127.0.0.1", port: proxy.inboundPort, servername: SERVER, cert: client.cert, key: client.key, ca: client.ca })),
    });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no h2 response")), REPLY_TIMEOUT_MS);
        const stream = session.request({ ":method": "GET", ":path": "/h2", "l5d-client-id": "forged.example" });
        let text = "";
        stream.on("data", (d: Buffer) => (text += d.toString()));
        stream.on("end", () => (clearTimeout(timer), resolve(text)));
        stream.on("error", (err) => (clearTimeout(timer), reject(err)));
        stream.end();
      });
      expect((JSON.parse(body) as Record<string, string>)["l5d-client-id"]).toBe(CLIENT);
    } finally {
      session.close();
    }
  });
});

describe("proxy errors are visible to meshed clients only", () => {
  let proxy: RunningProxy;
  beforeAll(async () => {
    // A port nothing listens on: every request fails upstream (connection refused).
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    proxy = await startProxy({ ...identityEnv(), MESHLET_INBOUND_FORWARD: `127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  test("an mTLS client gets l5d-proxy-error with the 502, a plaintext client the status only", async () => {
    const outcome = await tlsExchange(proxy.inboundPort, client, SERVER, requestTo("/down"));
    expect(outcome.received.startsWith("HTTP/1.1 502")).toBe(true);
    expect(outcome.received.toLowerCase()).toContain("l5d-proxy-error:");
    const plain = await fetch(`http://127.0.0.1:${proxy.inboundPort}/down`);
    expect(plain.status).toBe(502);
    expect(plain.headers.get("l5d-proxy-error")).toBeNull();
  });
});

describe("rotation", () => {
  let app: Server<undefined>;
  let proxy: RunningProxy;
  let ca: string;
  let dir: string;
  beforeAll(async () => {
    ca = await makeCa();
    dir = join(tempDir("meshlet-mtls-rotate-"), "web");
    await issue(ca, SERVER, dir, ["--valid", "1h"]);
    app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => Response.json(Object.fromEntries(req.headers)) });
    proxy = await startProxy({
      MESHLET_IDENTITY_TRUST_ANCHORS: join(dir, "ca.crt"),
      MESHLET_IDENTITY_CERT: join(dir, "tls.crt"),
      MESHLET_IDENTITY_KEY: join(dir, "tls.key"),
      MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}`,
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    app?.stop(true);
  });

  test("connections after a rotation are served with the new certificate", async () => {
    const rotatedClient = pemOf(await issue(ca, CLIENT, join(dir, "..", "client")));
    const before = await tlsExchange(proxy.inboundPort, rotatedClient, SERVER, requestTo("/before"));
    expect(before.received.startsWith("HTTP/1.1 200")).toBe(true);
    await issue(ca, SERVER, dir, ["--valid", "2h", "--force"]);
    await proxy.waitForLog((l) => l.message === "identity rotated");
    const after = await tlsExchange(proxy.inboundPort, rotatedClient, SERVER, requestTo("/after"));
    expect(after.received.startsWith("HTTP/1.1 200")).toBe(true);
    expect(bodyOf(after.received)["l5d-client-id"]).toBe(CLIENT);
    expect(after.peerFingerprint).toBeDefined();
    expect(after.peerFingerprint).not.toBe(before.peerFingerprint);
  });
});
