// Certificate rotation under load loses no request: two real meshlets (client side outbound → server
// side inbound, mTLS through an annotated EndpointSlice) carry a steady stream of requests from several
// concurrent clients while both sides' certificates are re-issued again and again. Upstream connections
// idle out quickly on the client side, so new mTLS handshakes happen throughout, with the rotated files.
// Every request must come back 200 with the client's identity as the app saw it, and once the pool has
// idled out a new connection handshakes with the last rotation's files.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "../identity/identity-cli.ts";
import { identityEnv, writeEndpointSlice } from "./mesh-fixtures.ts";

const CLIENT_ID = "app.default.serviceaccount.identity.linkerd.cluster.local";
const SERVER_ID = "web.default.serviceaccount.identity.linkerd.cluster.local";
const ROTATIONS = 4;
const WORKERS = 6;
const REFRESHES_OK = ["control_identity_cert_refreshes_total", { result: "ok" }] as const;

const configDir = mkdtempSync(join(tmpdir(), "meshlet-rotation-load-"));
let ca: string;
const clientDir = join(tempDir(), "app");
const serverDir = join(tempDir(), "web");
let app: ReturnType<typeof Bun.serve>;
let serverSide: RunningProxy;
let clientSide: RunningProxy;

beforeAll(async () => {
  ca = await makeCa();
  const clientFiles = await issue(ca, CLIENT_ID, clientDir, ["--valid", "1h"]);
  const serverFiles = await issue(ca, SERVER_ID, serverDir, ["--valid", "1h"]);
  app = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response(req.headers.get("l5d-client-id") ?? "none") });
  serverSide = await startProxy({ ...identityEnv(serverFiles), MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}` });
  writeEndpointSlice(configDir, "web", serverSide.inboundPort, SERVER_ID);
  // Pooled connections to the server side close after 50 ms idle: the workers' pauses make new handshakes.
  clientSide = await startProxy({ ...identityEnv(clientFiles), MESHLET_CONFIG_DIR: configDir, MESHLET_HTTP_POOL_IDLE_TIMEOUT: "50ms" });
}, 60_000);

afterAll(async () => {
  await clientSide?.stop();
  await serverSide?.stop();
  app?.stop(true);
  rmSync(configDir, { recursive: true, force: true });
});

async function refreshesOk(proxy: RunningProxy): Promise<number> {
  return metricValue(await proxy.metrics(), ...REFRESHES_OK);
}

async function eventually(check: () => Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  for (let waited = 0; waited < limitMs; waited += 50) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`not in time: ${what}`);
}

test("both sides rotate their certificates again and again while requests flow: none is lost", async () => {
  let running = true;
  const outcomes = new Map<string, number>();
  let sent = 0;
  const worker = async (n: number) => {
    const pauseMs = [0, 20, 80][n % 3]!;
    while (running) {
      sent++;
      let outcome: string;
      try {
        const res = await fetch(`http://web.default.svc.cluster.local/w${n}`, { proxy: `http://127.0.0.1:${clientSide.outboundPorts[0]}` });
        outcome = `${res.status} ${await res.text()} ${res.headers.get("l5d-proxy-error") ?? ""}`.trim();
      } catch (err) {
        outcome = `client error ${(err as Error).message}`;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (pauseMs > 0) await Bun.sleep(pauseMs);
    }
  };
  const workers = Array.from({ length: WORKERS }, (_, n) => worker(n));

  for (let round = 1; round <= ROTATIONS; round++) {
    const [clientBefore, serverBefore] = [await refreshesOk(clientSide), await refreshesOk(serverSide)];
    await issue(ca, CLIENT_ID, clientDir, ["--valid", "1h", "--force"]);
    await issue(ca, SERVER_ID, serverDir, ["--valid", "1h", "--force"]);
    await eventually(async () => (await refreshesOk(clientSide)) > clientBefore && (await refreshesOk(serverSide)) > serverBefore, `rotation ${round} installed on both sides`);
    await Bun.sleep(200); // let requests run on the rotated certificates, new handshakes among them
  }
  await Bun.sleep(500);
  running = false;
  await Promise.all(workers);

  expect(sent).toBeGreaterThan(ROTATIONS * WORKERS);
  expect(Object.fromEntries(outcomes)).toEqual({ [`200 ${CLIENT_ID}`]: sent });

  // Once every pooled connection has idled out, one more request must dial anew: a handshake with the
  // files of the last rotation on both sides succeeds.
  const meshedDst = { direction: "outbound", peer: "dst", tls: "true" };
  await eventually(async () => metricValue(await clientSide.metrics(), "tcp_open_connections", meshedDst) === 0, "the client side's pool idled out");
  const opensBefore = metricValue(await clientSide.metrics(), "tcp_open_total", meshedDst);
  const last = await fetch("http://web.default.svc.cluster.local/last", { proxy: `http://127.0.0.1:${clientSide.outboundPorts[0]}` });
  expect({ status: last.status, body: await last.text() }).toEqual({ status: 200, body: CLIENT_ID });
  expect(metricValue(await clientSide.metrics(), "tcp_open_total", meshedDst)).toBe(opensBefore + 1);
}, 90_000);
