// The inbound HTTP families label the client connection's TLS as Linkerd does: tls="true",client_id for a
// meshed client (mTLS from another meshlet), tls="no_identity",no_tls_reason="no_tls_from_remote" for a
// plaintext client of a proxy with an identity, tls="disabled" on a proxy without one — in the HTTP/1
// and the HTTP/2 engines.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";
import { getThroughOutbound, identityEnv, writeEndpointSlice } from "./mesh-fixtures.ts";

const CLIENT_ID = "app.default.serviceaccount.identity.linkerd.cluster.local";
const SERVER_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const MESHED_REQUESTS = 3;
const PLAINTEXT_REQUESTS = 2;

const configDir = mkdtempSync(join(tmpdir(), "meshlet-inbound-tls-labels-"));
let app: ReturnType<typeof Bun.serve>;
/** An h2c origin (node:http2 speaks no HTTP/1 in clear), behind its own server side. */
let h2App: http2.Http2Server;
let serverSide: RunningProxy;
let h2ServerSide: RunningProxy;
let clientSide: RunningProxy;
let noIdentity: RunningProxy;

beforeAll(async () => {
  const ca = await makeCa();
  const clientFiles = await issue(ca, CLIENT_ID, join(tempDir(), "app"));
  const serverFiles = await issue(ca, SERVER_ID, join(tempDir(), "web"));
  app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok\n") });
  serverSide = await startProxy({ ...identityEnv(serverFiles), MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}` });
  h2App = http2.createServer((_req, res) => res.end("ok\n"));
  await new Promise<void>((resolve) => h2App.listen(0, "127.0.0.1", resolve));
  const h2Port = (h2App.address() as AddressInfo).port;
  h2ServerSide = await startProxy({ ...identityEnv(serverFiles), MESHLET_INBOUND_FORWARD: `127.0.0.1:${h2Port}` });
  noIdentity = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${h2Port}` });
  writeEndpointSlice(configDir, "web", serverSide.inboundPort, SERVER_ID);
  writeEndpointSlice(configDir, "web-h2", h2ServerSide.inboundPort, SERVER_ID);
  clientSide = await startProxy({ ...identityEnv(clientFiles), MESHLET_CONFIG_DIR: configDir });
}, 60_000);

afterAll(async () => {
  await clientSide?.stop();
  await serverSide?.stop();
  await noIdentity?.stop();
  await h2ServerSide?.stop();
  app?.stop(true);
  h2App?.close();
  rmSync(configDir, { recursive: true, force: true });
});

/** curl straight to a proxy's inbound listener (no mTLS): HTTP/1.1, or h2c with prior knowledge. */
async function plaintextGet(proxy: RunningProxy, http2 = false): Promise<string> {
  const proc = spawn(["curl", "-sS", "--max-time", "10", ...(http2 ? ["--http2-prior-knowledge"] : []), `http://127.0.0.1:${proxy.inboundPort}/`], { stdout: "pipe", stderr: "pipe" });
  const [code, body, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  return body;
}

/** An h2c stream through the client side's outbound listener (its HTTP/2 pool dials the server side with mTLS, ALPN h2). */
async function meshedH2Get(authority: string): Promise<{ status: number; body: string }> {
  const session = http2.connect(`http://127.0.0.1:${clientSide.outboundPorts[0]}`);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ":method": "GET", ":path": "/", ":authority": authority });
      let status = 0;
      const chunks: Buffer[] = [];
      req.on("response", (h) => (status = Number(h[":status"])));
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString() }));
      req.on("error", reject);
      req.setTimeout(10_000, () => reject(new Error(`no answer from ${authority} in 10 s`)));
    });
  } finally {
    session.close();
  }
}

const metricsOf = async (proxy: RunningProxy) => (await fetch(`http://127.0.0.1:${proxy.adminPort}/metrics`)).text();

test("requests that arrived over mTLS are labeled tls=true with the client's identity; plaintext ones no_tls_from_remote", async () => {
  for (let i = 0; i < MESHED_REQUESTS; i++) {
    const answer = await getThroughOutbound(clientSide, "http://web.default.svc.cluster.local:8080/");
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: "ok\n" });
  }
  for (let i = 0; i < PLAINTEXT_REQUESTS; i++) expect(await plaintextGet(serverSide)).toBe("ok\n");

  const text = await metricsOf(serverSide);
  const meshed = { direction: "inbound", tls: "true", client_id: CLIENT_ID };
  const plaintext = { direction: "inbound", tls: "no_identity", no_tls_reason: "no_tls_from_remote" };
  expect({
    meshedRequests: metricValue(text, "request_total", meshed),
    meshedResponses: metricValue(text, "response_total", { ...meshed, status_code: "200", classification: "success" }),
    meshedLatencies: metricValue(text, "response_latency_ms_count", meshed),
    plaintextRequests: metricValue(text, "request_total", plaintext),
    plaintextResponses: metricValue(text, "response_total", { ...plaintext, status_code: "200", classification: "success" }),
    plaintextLatencies: metricValue(text, "response_latency_ms_count", plaintext),
    disabled: metricValue(text, "request_total", { direction: "inbound", tls: "disabled" }),
    // The authorization families label the client the same way (Linkerd's TlsAccept in metrics/authz.rs).
    meshedAllowed: metricValue(text, "inbound_http_authz_allow_total", { tls: "true", client_id: CLIENT_ID }),
    plaintextAllowed: metricValue(text, "inbound_http_authz_allow_total", { tls: "no_identity", no_tls_reason: "no_tls_from_remote" }),
    disabledAllowed: metricValue(text, "inbound_http_authz_allow_total", { tls: "disabled" }),
  }).toEqual({
    meshedAllowed: MESHED_REQUESTS,
    plaintextAllowed: PLAINTEXT_REQUESTS,
    disabledAllowed: 0,
    meshedRequests: MESHED_REQUESTS,
    meshedResponses: MESHED_REQUESTS,
    meshedLatencies: MESHED_REQUESTS,
    plaintextRequests: PLAINTEXT_REQUESTS,
    plaintextResponses: PLAINTEXT_REQUESTS,
    plaintextLatencies: PLAINTEXT_REQUESTS,
    disabled: 0,
  });
  // A plaintext series names no client; a meshed series names no reason.
  const inboundRequestLines = text.split("\n").filter((l) => l.startsWith("request_total{") && l.includes('direction="inbound"'));
  expect(inboundRequestLines.length).toBe(2);
  for (const line of inboundRequestLines) expect(line.includes("client_id=") !== line.includes("no_tls_reason=")).toBe(true);

  // The client side labels its outbound series with the server's identity, as before.
  expect(metricValue(await metricsOf(clientSide), "request_total", { direction: "outbound", tls: "true", server_id: SERVER_ID })).toBe(MESHED_REQUESTS);
}, 30_000);

test("the HTTP/2 engine labels streams over mTLS with the client's identity and a plaintext h2c client no_tls_from_remote", async () => {
  for (let i = 0; i < MESHED_REQUESTS; i++) expect(await meshedH2Get("web-h2.default.svc.cluster.local:8080")).toEqual({ status: 200, body: "ok\n" });
  for (let i = 0; i < PLAINTEXT_REQUESTS; i++) expect(await plaintextGet(h2ServerSide, true)).toBe("ok\n");
  const text = await metricsOf(h2ServerSide);
  const inbound = { direction: "inbound" };
  expect({
    meshed: metricValue(text, "request_total", { ...inbound, tls: "true", client_id: CLIENT_ID }),
    plaintext: metricValue(text, "request_total", { ...inbound, tls: "no_identity", no_tls_reason: "no_tls_from_remote" }),
    all: metricValue(text, "request_total", inbound),
  }).toEqual({ meshed: MESHED_REQUESTS, plaintext: PLAINTEXT_REQUESTS, all: MESHED_REQUESTS + PLAINTEXT_REQUESTS });
}, 30_000);

test("a proxy without an identity labels inbound requests tls=disabled", async () => {
  for (let i = 0; i < PLAINTEXT_REQUESTS; i++) expect(await plaintextGet(noIdentity, true)).toBe("ok\n");
  const text = await metricsOf(noIdentity);
  const inbound = { direction: "inbound" };
  expect({
    disabled: metricValue(text, "request_total", { ...inbound, tls: "disabled" }),
    all: metricValue(text, "request_total", inbound),
    allowedDisabled: metricValue(text, "inbound_http_authz_allow_total", { tls: "disabled" }),
  }).toEqual({ disabled: PLAINTEXT_REQUESTS, all: PLAINTEXT_REQUESTS, allowedDisabled: PLAINTEXT_REQUESTS });
}, 30_000);
