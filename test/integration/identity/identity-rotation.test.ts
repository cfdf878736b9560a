// Rotation in a running `meshlet proxy`: certificates re-issued over the files are installed without
// a restart (metrics follow), a bad new set is refused with a warning while the old identity stays, and
// /ready answers 503 once the certificate in force has expired, 200 again after a valid one arrives.
import { afterEach, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { issue, makeCa, tempDir } from "./identity-cli.ts";

const NAME = "web.default.serviceaccount.identity.linkerd.cluster.local";
const EXPIRY = "control_identity_cert_expiration_timestamp_seconds";
const running: RunningProxy[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});

async function start(files: { anchors: string; cert: string; key: string }): Promise<RunningProxy> {
  const proxy = await startProxy({ MESHLET_IDENTITY_TRUST_ANCHORS: files.anchors, MESHLET_IDENTITY_CERT: files.cert, MESHLET_IDENTITY_KEY: files.key });
  running.push(proxy);
  return proxy;
}

function notAfterMs(certPath: string): number {
  return new X509Certificate(readFileSync(certPath)).validToDate.getTime();
}

/** Polls `check` until it holds; fails after `limitMs` (a bound, not a timing assertion). */
async function eventually(check: () => Promise<boolean>, limitMs = 20_000): Promise<void> {
  for (let waited = 0; waited < limitMs; waited += 100) {
    if (await check()) return;
    await Bun.sleep(100);
  }
  throw new Error("condition not met in time");
}

describe("rotation while running", () => {
  test("re-issued files are installed without a restart; a bad set is refused and the old identity stays", async () => {
    const ca = await makeCa();
    const dir = join(tempDir(), "web");
    const files = await issue(ca, NAME, dir, ["--valid", "1h"]);
    const proxy = await start(files);
    expect(metricValue(await proxy.metrics(), EXPIRY)).toBe(notAfterMs(files.cert) / 1000);

    await issue(ca, NAME, dir, ["--valid", "2h", "--force"]);
    const rotatedMs = notAfterMs(files.cert);
    await eventually(async () => metricValue(await proxy.metrics(), EXPIRY) === rotatedMs / 1000);
    expect(await proxy.waitForLog((l) => l.message === "identity rotated")).toMatchObject({ identity: NAME, notAfter: new Date(rotatedMs).toISOString() });
    expect(proxy.process.exitCode).toBeNull(); // same process: no restart
    expect(metricValue(await proxy.metrics(), "control_identity_cert_refreshes_total", { result: "ok" })).toBeGreaterThanOrEqual(2);

    // A key from another CA over tls.key: refused, the rotated certificate stays in force.
    const other = await issue(await makeCa(), "other.example", join(tempDir(), "other"));
    writeFileSync(files.key, readFileSync(other.key));
    const refused = await proxy.waitForLog((l) => l.message === "identity files changed but are not usable; keeping the current identity");
    expect(refused).toMatchObject({ level: "warn", scope: "identity", identity: NAME });
    expect(await proxy.waitForLog((l) => l.code === "MESHLET_ERR_IDENTITY_KEY_MISMATCH")).toMatchObject({ level: "warn", path: files.key });
    const metrics = await proxy.metrics();
    expect(metricValue(metrics, EXPIRY)).toBe(rotatedMs / 1000);
    expect(metricValue(metrics, "control_identity_cert_refreshes_total", { result: "error" })).toBeGreaterThanOrEqual(1);
    expect((await fetch(`http://127.0.0.1:${proxy.adminPort}/ready`)).status).toBe(200);
  }, 30_000);

  test("/ready is 503 once the certificate has expired, and 200 again after a valid one is installed", async () => {
    const ca = await makeCa();
    const dir = join(tempDir(), "web");
    const files = await issue(ca, NAME, dir, ["--valid", "1h"]);
    const proxy = await start(files);
    const ready = () => fetch(`http://127.0.0.1:${proxy.adminPort}/ready`);
    expect((await ready()).status).toBe(200);

    // Rotate to a certificate that lives a few seconds, and let it expire.
    await issue(ca, NAME, dir, ["--valid", "6s", "--force"]);
    const shortMs = notAfterMs(files.cert);
    await eventually(async () => metricValue(await proxy.metrics(), EXPIRY) === shortMs / 1000);
    await eventually(async () => (await ready()).status === 503);
    const response = await ready();
    expect([response.status, await response.text()]).toEqual([503, "not ready\n"]);
    expect(Date.now()).toBeGreaterThanOrEqual(shortMs);
    expect(await proxy.waitForLog((l) => l.message === "identity certificate expired; /ready fails until a valid one is installed")).toMatchObject({
      level: "warn",
      identity: NAME,
    });

    await issue(ca, NAME, dir, ["--valid", "1h", "--force"]);
    await eventually(async () => (await ready()).status === 200);
    expect(metricValue(await proxy.metrics(), EXPIRY)).toBe(notAfterMs(files.cert) / 1000);
  }, 40_000);
});
