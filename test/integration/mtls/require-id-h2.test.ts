// `l5d-require-id` on outbound HTTP/2 streams (h2c client → outbound listener → node:http2 TLS app
// requiring a client certificate): the endpoint's own identity passes, over mTLS, and the header never
// reaches the app; another identity is refused with 502 naming both before any stream is opened.
import { afterAll, beforeAll, expect, test } from "bun:test";
import http2 from "node:http2";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";
import { h2Get } from "../../support/h2-get.ts";
import { identityEnv, writeEndpointSlice } from "./mesh-fixtures.ts";

const CLIENT_ID = "app.default.serviceaccount.identity.linkerd.cluster.local";
const SERVER_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const OTHER_ID = "other.default.serviceaccount.identity.linkerd.cluster.local";

const configDir = mkdtempSync(join(tmpdir(), "meshlet-require-id-h2-"));
let server: http2.Http2SecureServer;
let port = 0;
let streams = 0;
let proxy: RunningProxy;
let session: http2.ClientHttp2Session;

const get = (requireId: string) => h2Get(session, `web.default.svc.cluster.local:${port}`, { "l5d-require-id": requireId });

beforeAll(async () => {
  const ca = await makeCa();
  const client = await issue(ca, CLIENT_ID, join(tempDir(), "app"));
  const files = await issue(ca, SERVER_ID, join(tempDir(), "web"));
  server = http2.createSecureServer({
    cert: readFileSync(files.cert, "utf8"),
    key: readFileSync(files.key, "utf8"),
    ca: readFileSync(files.anchors, "utf8"),
    requestCert: true,
    rejectUnauthorized: true,
  });
  // Each stream is answered with the client's SAN and whether l5d-require-id came through.
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    streams++;
    const socket = stream.session?.socket as TLSSocket;
    stream.respond({ ":status": 200, "content-type": "application/json" });
    stream.end(JSON.stringify({ clientSan: socket.getPeerCertificate()?.subjectaltname ?? "", requireId: headers["l5d-require-id"] ?? null }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as { port: number }).port;
  writeEndpointSlice(configDir, "web", port, SERVER_ID);
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: configDir,
    ...identityEnv(client),
  });
  session = http2.connect(`http://127.0.0.1:${proxy.outboundPorts[0]}`);
}, 30_000); // three `meshlet identity` runs

afterAll(async () => {
  session?.close();
  await proxy?.stop();
  server?.close();
  rmSync(configDir, { recursive: true, force: true });
});

test("h2: the endpoint's own identity passes over mTLS, and the header does not reach the app", async () => {
  const res = await get(SERVER_ID);
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body)).toEqual({ clientSan: `DNS:${CLIENT_ID}`, requireId: null });
  expect(streams).toBe(1);
});

test("h2: another identity is refused with 502 naming both, and no stream reaches the app", async () => {
  const before = streams;
  const res = await get(OTHER_ID);
  expect(res.status).toBe(502);
  expect(res.proxyError).toBe(`required id ${OTHER_ID}; found ${SERVER_ID}`);
  expect(streams).toBe(before);
});
