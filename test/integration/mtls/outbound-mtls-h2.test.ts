// mTLS origination for HTTP/2: an h2c client stream to the outbound listener, whose :authority is a
// service with a `meshlet.io/identity` slice, reaches a node:http2 TLS server (client certificate
// required) over mTLS with ALPN h2 and the client's identity; a server presenting another identity
// is refused with 502 naming the cause; the HTTP and tcp_* series carry tls="true",server_id.
import { afterAll, beforeAll, expect, test } from "bun:test";
import http2 from "node:http2";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";
import { identityEnv, writeEndpointSlice } from "./mesh-fixtures.ts";
import type { IdentityFiles } from "./peer-report-server.ts";
import { h2Get } from "../../support/h2-get.ts";

const CLIENT_ID = "app.default.serviceaccount.identity.linkerd.cluster.local";
const SERVER_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const IMPOSTOR_ID = "other.default.serviceaccount.identity.linkerd.cluster.local";

const configDir = mkdtempSync(join(tmpdir(), "meshlet-mtls-h2-"));
const apps: { server: http2.Http2SecureServer; port: number; streams: number }[] = [];
let proxy: RunningProxy;
let session: http2.ClientHttp2Session;

/** An HTTP/2-over-TLS app requiring a client certificate; each stream is answered with the peer's SAN and the ALPN. */
async function startApp(files: IdentityFiles): Promise<(typeof apps)[number]> {
  const server = http2.createSecureServer({
    cert: readFileSync(files.cert, "utf8"),
    key: readFileSync(files.key, "utf8"),
    ca: readFileSync(files.anchors, "utf8"),
    requestCert: true,
    rejectUnauthorized: true,
  });
  const app = { server, port: 0, streams: 0 };
  server.on("stream", (stream: http2.ServerHttp2Stream) => {
    app.streams++;
    const socket = stream.session?.socket as TLSSocket;
    stream.respond({ ":status": 200, "content-type": "application/json" });
    stream.end(JSON.stringify({ clientSan: socket.getPeerCertificate()?.subjectaltname ?? "", alpn: socket.alpnProtocol }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  app.port = (server.address() as { port: number }).port;
  apps.push(app);
  return app;
}

const writeSlice = (name: string, port: number, identity: string): void => writeEndpointSlice(configDir, name, port, identity);

const get = (authority: string) => h2Get(session, authority);

let web: (typeof apps)[number];
let impostor: (typeof apps)[number];

beforeAll(async () => {
  const ca = await makeCa();
  const client = await issue(ca, CLIENT_ID, join(tempDir(), "app"));
  web = await startApp(await issue(ca, SERVER_ID, join(tempDir(), "web")));
  impostor = await startApp(await issue(ca, IMPOSTOR_ID, join(tempDir(), "impostor")));
  writeSlice("web", web.port, SERVER_ID);
  writeSlice("impostor", impostor.port, SERVER_ID);
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: configDir,
    ...identityEnv(client),
  });
  session = http2.connect(`http://127.0.0.1:${proxy.outboundPorts[0]}`);
}, 30_000); // four `meshlet identity` runs

afterAll(async () => {
  session?.close();
  await proxy?.stop();
  for (const app of apps) app.server.close();
  rmSync(configDir, { recursive: true, force: true });
});

test("an h2 stream to a meshed service arrives over mTLS (ALPN h2) with the client's identity", async () => {
  const res = await get(`web.default.svc.cluster.local:${web.port}`);
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toEqual({ clientSan: `DNS:${CLIENT_ID}`, alpn: "h2" });
  const metrics = await proxy.metrics();
  const labels = { direction: "outbound", target_addr: `127.0.0.1:${web.port}`, tls: "true", server_id: SERVER_ID };
  expect(metricValue(metrics, "request_total", labels)).toBe(1);
  // The connection the h2 pool opened: its tcp_* row carries the same tls labels.
  expect(metricValue(metrics, "tcp_open_total", { ...labels, peer: "dst" })).toBe(1);
  expect(metricValue(metrics, "tcp_open_connections", { ...labels, peer: "dst" })).toBe(1);
});

test("an h2 server presenting another identity is refused: 502 naming the cause, no stream reaches it", async () => {
  const res = await get(`impostor.default.svc.cluster.local:${impostor.port}`);
  expect(res.status).toBe(502);
  expect(res.proxyError).toStartWith("MESHLET_TLS_IDENTITY_MISMATCH: ");
  expect(res.proxyError).toContain(IMPOSTOR_ID);
  expect(impostor.streams).toBe(0);
  expect(await proxy.waitForLog((l) => l.message === "meshed endpoint refused")).toMatchObject({ level: "warn", expected: SERVER_ID });
});
