// `l5d-require-id` on outbound HTTP/1 requests in the real sidecar process (Linkerd's
// require_id_header.rs): with the meshed endpoint's identity the request arrives over mTLS with that
// identity and without the header; another identity, or a plaintext endpoint, is refused with 502 and
// `l5d-proxy-error` naming the cause before anything is dialed; without the header nothing changes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";
import { getThroughOutbound, seenIn, writeEndpointSlice } from "./mesh-fixtures.ts";
import { type PeerReportServer, startPeerReportServer } from "./peer-report-server.ts";

const CLIENT_ID = "app.default.serviceaccount.identity.linkerd.cluster.local";
const SERVER_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const OTHER_ID = "other.default.serviceaccount.identity.linkerd.cluster.local";

const configDir = mkdtempSync(join(tmpdir(), "meshlet-require-id-"));
let web: PeerReportServer;
let plain: PeerReportServer;
let proxy: RunningProxy;

const writeSlice = (name: string, port: number, identity?: string): void => writeEndpointSlice(configDir, name, port, identity);

/** GET http://<service>.default.svc.cluster.local:<port>/ through the outbound listener, with `requireId` as l5d-require-id. */
const get = (service: string, port: number, requireId?: string) =>
  getThroughOutbound(proxy, `http://${service}.default.svc.cluster.local:${port}/`, requireId !== undefined ? [`l5d-require-id: ${requireId}`] : []);

beforeAll(async () => {
  const ca = await makeCa();
  const client = await issue(ca, CLIENT_ID, join(tempDir(), "app"));
  web = startPeerReportServer(await issue(ca, SERVER_ID, join(tempDir(), "web")));
  plain = startPeerReportServer();
  writeSlice("web", web.port, SERVER_ID);
  writeSlice("plain", plain.port);
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: configDir,
    MESHLET_IDENTITY_TRUST_ANCHORS: client.anchors,
    MESHLET_IDENTITY_CERT: client.cert,
    MESHLET_IDENTITY_KEY: client.key,
  });
}, 30_000); // three `meshlet identity` runs

afterAll(async () => {
  await proxy?.stop();
  web?.stop();
  plain?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

describe("l5d-require-id (HTTP/1)", () => {
  test("the endpoint's own identity: the request arrives over mTLS, without the header", async () => {
    const before = web.handshakes;
    const seen = seenIn(await get("web", web.port, SERVER_ID));
    expect(seen.handshake).toBe(true);
    expect(web.handshakes).toBe(before + 1);
    expect(seen.clientSan).toBe(`DNS:${CLIENT_ID}`);
    expect(seen.headerNames).toContain("host");
    expect(seen.headerNames).not.toContain("l5d-require-id");
  });

  test("another identity: 502, l5d-proxy-error names both identities, nothing reaches the endpoint", async () => {
    const seenBefore = web.seen.length;
    const handshakesBefore = web.handshakes;
    const answer = await get("web", web.port, OTHER_ID);
    expect(answer.status).toBe(502);
    expect(answer.proxyError).toBe(`required id ${OTHER_ID}; found ${SERVER_ID}`);
    expect(web.seen).toHaveLength(seenBefore);
    expect(web.handshakes).toBe(handshakesBefore);
  });

  test("a plaintext endpoint (no identity from discovery) is refused: 502, nothing dialed", async () => {
    const answer = await get("plain", plain.port, SERVER_ID);
    expect(answer.status).toBe(502);
    expect(answer.proxyError).toBe(`required id ${SERVER_ID}; found none (no_identity: not_provided_by_service_discovery)`);
    expect(plain.seen).toHaveLength(0);
  });

  test("without the header the same endpoints answer as before", async () => {
    expect(seenIn(await get("web", web.port)).handshake).toBe(true);
    const seen = seenIn(await get("plain", plain.port));
    expect(seen.handshake).toBe(false);
    expect(plain.seen).toHaveLength(1);
  });
});
