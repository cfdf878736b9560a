// The issue's picture end to end: two real meshlets on loopback with certificates from `meshlet identity`.
// The client side's outbound listener originates mTLS to the server side's inbound listener (found
// through an EndpointSlice annotated with the server's identity); the server side terminates it and the
// app sees `l5d-client-id` = the client's identity. A relay between the two proxies records the bytes on
// the wire: a TLS handshake record first, and never the request in clear.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";
import { identityEnv, type RecordingRelay, startRecordingRelay, writeEndpointSlice } from "./mesh-fixtures.ts";

const CLIENT_ID = "app.default.serviceaccount.identity.linkerd.cluster.local";
const SERVER_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const SECRET_PATH = "/orders/secret-path-in-clear";

const configDir = mkdtempSync(join(tmpdir(), "meshlet-two-meshlets-"));
let app: ReturnType<typeof Bun.serve>;
let serverSide: RunningProxy;
let clientSide: RunningProxy;
let relay: RecordingRelay;

beforeAll(async () => {
  const ca = await makeCa();
  const clientFiles = await issue(ca, CLIENT_ID, join(tempDir(), "app"));
  const serverFiles = await issue(ca, SERVER_ID, join(tempDir(), "web"));

  app = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => Response.json({ path: new URL(req.url).pathname, clientId: req.headers.get("l5d-client-id") }),
  });
  serverSide = await startProxy({ ...identityEnv(serverFiles), MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}` });

  // A byte-for-byte TCP relay in front of the server side's inbound listener, recording what passes.
  relay = startRecordingRelay(serverSide.inboundPort);
  writeEndpointSlice(configDir, "web", relay.port, SERVER_ID);
  clientSide = await startProxy({ ...identityEnv(clientFiles), MESHLET_CONFIG_DIR: configDir });
}, 60_000);

afterAll(async () => {
  await clientSide?.stop();
  await serverSide?.stop();
  relay?.stop();
  app?.stop(true);
  rmSync(configDir, { recursive: true, force: true });
});

test("the app behind the server side sees the client side's identity; the wire between the proxies carries TLS only", async () => {
  const url = `http://web.default.svc.cluster.local:8080${SECRET_PATH}`;
  const proc = spawn(["curl", "-sS", "--max-time", "10", "-x", `http://127.0.0.1:${clientSide.outboundPorts[0]}`, url], { stdout: "pipe", stderr: "pipe" });
  const [code, body, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect({ code, err }).toEqual({ code: 0, err: "" });
  expect(JSON.parse(body)).toEqual({ path: SECRET_PATH, clientId: CLIENT_ID });

  // A TLS handshake record (content type 22, version 3.x) opens the connection; the request never passes in clear.
  const onTheWire = relay.sent();
  expect([onTheWire[0], onTheWire[1]]).toEqual([0x16, 0x03]);
  expect(onTheWire.includes(Buffer.from(SECRET_PATH))).toBe(false);
  expect(onTheWire.includes(Buffer.from("HTTP/1.1"))).toBe(false);

  // Each side labels the traffic with the peer's identity.
  const clientMetrics = await (await fetch(`http://127.0.0.1:${clientSide.adminPort}/metrics`)).text();
  expect(metricValue(clientMetrics, "request_total", { direction: "outbound", tls: "true", server_id: SERVER_ID })).toBeGreaterThanOrEqual(1);
  const serverMetrics = await (await fetch(`http://127.0.0.1:${serverSide.adminPort}/metrics`)).text();
  expect(serverMetrics).toContain(`client_id="${CLIENT_ID}"`);
});
