// mTLS origination in the real sidecar process: certificates from `meshlet identity init/issue`, an
// EndpointSlice annotated `meshlet.io/identity` whose endpoint is a Bun TLS server requiring a client
// certificate. Requests through the outbound listener arrive over mTLS with the client's identity; a
// server presenting another identity is refused (502 naming the cause); an unannotated endpoint stays
// plaintext; the metrics (HTTP and tcp_* families) carry Linkerd's tls labels; a rotated certificate is
// presented on new connections.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";
import { getThroughOutbound, seenIn, writeEndpointSlice } from "./mesh-fixtures.ts";
import { type IdentityFiles, type PeerReportServer, startPeerReportServer } from "./peer-report-server.ts";

const CLIENT_ID = "app.default.serviceaccount.identity.linkerd.cluster.local";
const SERVER_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const IMPOSTOR_ID = "other.default.serviceaccount.identity.linkerd.cluster.local";

let ca = "";
let clientFiles: IdentityFiles;
let clientDir = "";
const configDir = mkdtempSync(join(tmpdir(), "meshlet-mtls-out-"));
const servers: Record<"web" | "impostor" | "stranger" | "plain" | "plainMeshed", PeerReportServer | undefined> = {
  web: undefined,
  impostor: undefined,
  stranger: undefined,
  plain: undefined,
  plainMeshed: undefined,
};
let proxy: RunningProxy;

const writeSlice = (name: string, port: number, identity?: string): void => writeEndpointSlice(configDir, name, port, identity);

/** GET http://<service>.default.svc.cluster.local:<port>/ through `via`'s outbound listener (curl -x). */
const get = (via: RunningProxy, service: string, port: number) => getThroughOutbound(via, `http://${service}.default.svc.cluster.local:${port}/`);

function fingerprintOf(path: string): string {
  return new X509Certificate(readFileSync(path, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0]).fingerprint256;
}

beforeAll(async () => {
  ca = await makeCa();
  clientDir = join(tempDir(), "app");
  clientFiles = await issue(ca, CLIENT_ID, clientDir);
  servers.web = startPeerReportServer(await issue(ca, SERVER_ID, join(tempDir(), "web")));
  servers.impostor = startPeerReportServer(await issue(ca, IMPOSTOR_ID, join(tempDir(), "impostor")));
  // The right name, but issued under another trust anchor.
  servers.stranger = startPeerReportServer(await issue(await makeCa(), SERVER_ID, join(tempDir(), "stranger")));
  servers.plain = startPeerReportServer();
  servers.plainMeshed = startPeerReportServer();
  writeSlice("web", servers.web.port, SERVER_ID);
  // Discovery says `web`'s identity, but the server there holds a certificate for another workload.
  writeSlice("impostor", servers.impostor.port, SERVER_ID);
  writeSlice("stranger", servers.stranger.port, SERVER_ID);
  writeSlice("plain", servers.plain.port);
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: configDir,
    MESHLET_IDENTITY_TRUST_ANCHORS: clientFiles.anchors,
    MESHLET_IDENTITY_CERT: clientFiles.cert,
    MESHLET_IDENTITY_KEY: clientFiles.key,
  });
}, 30_000); // six `meshlet identity` runs

afterAll(async () => {
  await proxy?.stop();
  for (const s of Object.values(servers)) s?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

describe("outbound mTLS origination", () => {
  test("a request to a meshed endpoint arrives over mTLS carrying the client's identity", async () => {
    const before = servers.web!.handshakes;
    const seen = seenIn(await get(proxy, "web", servers.web!.port));
    // The server is a TLS listener: the request reached it only through a completed, verified handshake.
    expect(seen.handshake).toBe(true);
    expect(servers.web!.handshakes).toBe(before + 1);
    expect(seen.clientSan).toBe(`DNS:${CLIENT_ID}`);
    expect(seen.clientFingerprint256).toBe(fingerprintOf(clientFiles.cert));
    expect(seen.firstBytes).toBe("GET / HTTP/1.1");
  });

  test("a server presenting another identity is refused: 502 naming the cause, nothing reaches it", async () => {
    const answer = await get(proxy, "impostor", servers.impostor!.port);
    expect(answer.status).toBe(502);
    expect(answer.proxyError).toStartWith("MESHLET_TLS_IDENTITY_MISMATCH: ");
    expect(answer.proxyError).toContain(IMPOSTOR_ID);
    // Refused in the handshake callback, before the client certificate went out: no request, no handshake.
    expect(servers.impostor!.seen).toHaveLength(0);
    expect(servers.impostor!.handshakes).toBe(0);
    const warned = await proxy.waitForLog((l) => l.message === "meshed endpoint refused");
    expect(warned).toMatchObject({ level: "warn", code: "MESHLET_TLS_IDENTITY_MISMATCH", expected: SERVER_ID, endpoint: `127.0.0.1:${servers.impostor!.port}` });
    expect(String(warned.detail)).toContain(IMPOSTOR_ID);
  });

  test("a server whose chain does not lead to our trust anchors is refused: 502 MESHLET_TLS_PEER_UNVERIFIED", async () => {
    const answer = await get(proxy, "stranger", servers.stranger!.port);
    expect(answer.status).toBe(502);
    expect(answer.proxyError).toStartWith("MESHLET_TLS_PEER_UNVERIFIED: ");
    expect(servers.stranger!.seen).toHaveLength(0);
  });

  test("an endpoint without the identity annotation is dialed in plaintext", async () => {
    const seen = seenIn(await get(proxy, "plain", servers.plain!.port));
    expect(seen.handshake).toBe(false);
    expect(seen.firstBytes).toBe("GET / HTTP/1.1");
  });

  test("outbound series carry Linkerd's tls labels: true + server_id, or no_identity + the reason", async () => {
    const metrics = await proxy.metrics();
    const web = { direction: "outbound", target_addr: `127.0.0.1:${servers.web!.port}` };
    expect(metricValue(metrics, "request_total", { ...web, tls: "true", server_id: SERVER_ID })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, "response_total", { ...web, tls: "true", server_id: SERVER_ID, status_code: "200" })).toBeGreaterThanOrEqual(1);
    const plain = { direction: "outbound", target_addr: `127.0.0.1:${servers.plain!.port}` };
    expect(metricValue(metrics, "request_total", { ...plain, tls: "no_identity", no_tls_reason: "not_provided_by_service_discovery" })).toBeGreaterThanOrEqual(1);
    // The refused impostor is counted as a failure (no response: no status_code) of the mTLS series it was dialed as.
    const impostor = { direction: "outbound", target_addr: `127.0.0.1:${servers.impostor!.port}`, tls: "true", server_id: SERVER_ID };
    expect(metricValue(metrics, "response_total", { ...impostor, classification: "failure" })).toBeGreaterThanOrEqual(1);
    for (const line of metrics.split("\n").filter((l) => l.startsWith("request_total{") && l.includes('direction="outbound"'))) {
      expect(line).not.toContain('tls="disabled"');
    }
  });

  test("the tcp_* rows of the connections the pool opened carry the same tls labels (peer=\"dst\")", async () => {
    const metrics = await proxy.metrics();
    const web = { direction: "outbound", peer: "dst", target_addr: `127.0.0.1:${servers.web!.port}` };
    const webTls = { ...web, tls: "true", server_id: SERVER_ID };
    expect(metricValue(metrics, "tcp_open_total", webTls)).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, "tcp_close_total", webTls)).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, "tcp_write_bytes_total", webTls)).toBeGreaterThan(0);
    expect(metricValue(metrics, "tcp_open_total", { ...web, tls: "disabled" })).toBe(0);
    const plain = { direction: "outbound", peer: "dst", target_addr: `127.0.0.1:${servers.plain!.port}` };
    expect(metricValue(metrics, "tcp_open_total", { ...plain, tls: "no_identity", no_tls_reason: "not_provided_by_service_discovery" })).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, "tcp_open_total", { ...plain, tls: "true" })).toBe(0);
    // A refused handshake opened no connection: the impostor has no tcp_open_total row.
    expect(metricValue(metrics, "tcp_open_total", { ...web, target_addr: `127.0.0.1:${servers.impostor!.port}` })).toBe(0);
  });

  test("rotation: after the files are re-issued, new connections present the new certificate", async () => {
    const first = seenIn(await get(proxy, "web", servers.web!.port));
    expect(first.clientFingerprint256).toBe(fingerprintOf(clientFiles.cert));
    const oldFingerprint = first.clientFingerprint256;
    await issue(ca, CLIENT_ID, clientDir, ["--valid", "2h", "--force"]);
    const rotated = fingerprintOf(clientFiles.cert);
    expect(rotated).not.toBe(oldFingerprint);
    await proxy.waitForLog((l) => l.message === "identity rotated");
    // The server closes every connection after its answer: each request below dials anew.
    const seen = seenIn(await get(proxy, "web", servers.web!.port));
    expect(seen.handshake).toBe(true);
    expect(seen.clientSan).toBe(`DNS:${CLIENT_ID}`);
    expect(seen.clientFingerprint256).toBe(rotated);
  });
});

describe("without a local identity", () => {
  let bare: RunningProxy | undefined;
  afterAll(async () => {
    await bare?.stop();
  });

  test("an endpoint with an identity is dialed in plaintext and labelled tls=\"disabled\"", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meshlet-mtls-bare-"));
    try {
      writeFileSync(join(dir, "web.yaml"), readFileSync(join(configDir, "web.yaml"), "utf8").replace(`port: ${servers.web!.port}`, `port: ${servers.plainMeshed!.port}`));
      bare = await startProxy({ MESHLET_CONFIG_DIR: dir });
      const seen = seenIn(await get(bare, "web", servers.plainMeshed!.port));
      expect(seen.handshake).toBe(false);
      expect(seen.firstBytes).toBe("GET / HTTP/1.1");
      const target = { direction: "outbound", target_addr: `127.0.0.1:${servers.plainMeshed!.port}` };
      const metrics = await bare.metrics();
      expect(metricValue(metrics, "request_total", { ...target, tls: "disabled" })).toBe(1);
      expect(metricValue(metrics, "request_total", { ...target, tls: "true" })).toBe(0);
      expect(metricValue(metrics, "tcp_open_total", { ...target, peer: "dst", tls: "disabled" })).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
