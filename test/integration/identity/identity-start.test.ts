// A real `meshlet proxy` with identity files from `meshlet identity`: unusable files stop it with exit
// 64 and every reason (through the config-error path); usable ones start it with the identity logged,
// Linkerd's identity metrics exposed and the three paths shown by /env.json and /config.json; `meshlet
// check` validates the same files the same way.
import { afterEach, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { BUN, CLI, type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { newCa, writeLeaf } from "../../unit/identity/identity-fixtures.ts";
import { issue, makeCa, tempDir } from "./identity-cli.ts";

const NAME = "web.default.serviceaccount.identity.linkerd.cluster.local";
const running: RunningProxy[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});

function identityEnv(files: { anchors?: string; trustAnchors?: string; cert: string; key: string }): Record<string, string> {
  return { MESHLET_IDENTITY_TRUST_ANCHORS: files.anchors ?? files.trustAnchors ?? "", MESHLET_IDENTITY_CERT: files.cert, MESHLET_IDENTITY_KEY: files.key };
}

/** Runs `meshlet proxy` that is expected to refuse to start: its exit code and stderr. */
async function refusedStart(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const proc = spawn([BUN, CLI, "proxy"], {
    env: { PATH: process.env.PATH ?? "", MESHLET_INBOUND_LISTEN: "127.0.0.1:0", MESHLET_OUTBOUND_LISTEN: "127.0.0.1:0", MESHLET_ADMIN_LISTEN: "127.0.0.1:0", MESHLET_TAP_LISTEN: "off", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000); // a proxy that started after all
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  clearTimeout(timer);
  return { code, stderr };
}

describe("unusable identity files: exit 64 with every reason", () => {
  test("an expired (backdated) leaf", async () => {
    const nowMs = Date.now();
    const files = await writeLeaf(await newCa(nowMs - 3 * 3600_000), NAME, { nowMs: nowMs - 2 * 3600_000, validMs: 3600_000 });
    const notAfter = new X509Certificate(readFileSync(files.cert)).validToDate.toISOString();
    const { code, stderr } = await refusedStart(identityEnv(files));
    expect(code).toBe(64);
    expect(stderr).toBe(
      `meshlet: invalid environment (1 problem):\n  MESHLET_IDENTITY_CERT=${JSON.stringify(files.cert)}: expected the certificate to be valid now; CN=${NAME} expired at ${notAfter}\n`,
    );
  });

  test("a leaf that expired after `meshlet identity issue --valid 1s`", async () => {
    const files = await issue(await makeCa(), NAME, join(tempDir(), "web"), ["--valid", "1s"]);
    const notAfterMs = new X509Certificate(readFileSync(files.cert)).validToDate.getTime();
    while (Date.now() <= notAfterMs + 100) await Bun.sleep(100); // wait for the expiry, bounded by the 1 s lifetime
    const { code, stderr } = await refusedStart(identityEnv(files));
    expect(code).toBe(64);
    expect(stderr).toContain(`expected the certificate to be valid now; CN=${NAME} expired at ${new Date(notAfterMs).toISOString()}`);
  });

  test("the key of another certificate and the anchor of another CA, both reported", async () => {
    const ours = await issue(await makeCa(), NAME, join(tempDir(), "web"));
    const theirs = await issue(await makeCa(), "other.example", join(tempDir(), "other"));
    const { code, stderr } = await refusedStart(identityEnv({ anchors: theirs.anchors, cert: ours.cert, key: theirs.key }));
    expect(code).toBe(64);
    expect(stderr).toBe(
      "meshlet: invalid environment (2 problems):\n" +
        `  MESHLET_IDENTITY_KEY=${JSON.stringify(theirs.key)}: expected the private key of the certificate in MESHLET_IDENTITY_CERT (CN=${NAME}); this key belongs to another certificate\n` +
        `  MESHLET_IDENTITY_CERT=${JSON.stringify(ours.cert)}: expected a chain to a trust anchor in MESHLET_IDENTITY_TRUST_ANCHORS; no anchor (nor a certificate of the chain) signed CN=identity.linkerd.cluster.local, issued by CN=root.linkerd.cluster.local\n`,
    );
  });

  test("a missing file, and only some of the settings", async () => {
    const files = await issue(await makeCa(), NAME, join(tempDir(), "web"));
    const absent = join(tempDir(), "absent.key");
    const missing = await refusedStart(identityEnv({ ...files, key: absent }));
    expect(missing.code).toBe(64);
    expect(missing.stderr).toContain(`MESHLET_IDENTITY_KEY=${JSON.stringify(absent)}: expected a readable file (ENOENT)`);
    const partial = await refusedStart({ MESHLET_IDENTITY_CERT: files.cert });
    expect(partial.code).toBe(64);
    expect(partial.stderr).toContain('MESHLET_IDENTITY_TRUST_ANCHORS="": expected a value too: MESHLET_IDENTITY_CERT is set');
    expect(partial.stderr).toContain('MESHLET_IDENTITY_KEY="": expected a value too: MESHLET_IDENTITY_CERT is set');
  });
});

describe("usable identity files", () => {
  test("start: the identity logged, Linkerd's identity metrics, the paths (never the key) in /env.json and /config.json", async () => {
    const files = await issue(await makeCa(), NAME, join(tempDir(), "web"));
    const notAfterMs = new X509Certificate(readFileSync(files.cert)).validToDate.getTime();
    const proxy = await startProxy(identityEnv(files));
    running.push(proxy);
    const loaded = await proxy.waitForLog((l) => l.message === "identity loaded");
    expect(loaded).toMatchObject({ scope: "identity", identity: NAME, notAfter: new Date(notAfterMs).toISOString() });
    const metrics = await proxy.metrics();
    expect(metricValue(metrics, "control_identity_cert_expiration_timestamp_seconds")).toBe(notAfterMs / 1000);
    expect(metricValue(metrics, "control_identity_cert_refreshes_total", { result: "ok" })).toBe(1);
    expect(metricValue(metrics, "control_identity_cert_refreshes_total", { result: "error" })).toBe(0);
    expect(metricValue(metrics, "control_identity_cert_refresh_timestamp_seconds")).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${proxy.adminPort}/ready`)).status).toBe(200);

    const env = (await (await fetch(`http://127.0.0.1:${proxy.adminPort}/env.json`)).json()) as Record<string, string>;
    expect([env.MESHLET_IDENTITY_TRUST_ANCHORS, env.MESHLET_IDENTITY_CERT, env.MESHLET_IDENTITY_KEY]).toEqual([files.anchors, files.cert, files.key]);
    const configText = await (await fetch(`http://127.0.0.1:${proxy.adminPort}/config.json`)).text();
    const settings = (JSON.parse(configText) as { settings: { name: string; value: string }[] }).settings;
    expect(settings.find((s) => s.name === "MESHLET_IDENTITY_KEY")?.value).toBe(files.key);
    expect(configText).not.toContain("PRIVATE KEY");
  });

  test("without identity no identity metric family is registered", async () => {
    const proxy = await startProxy();
    running.push(proxy);
    expect(await proxy.metrics()).not.toContain("control_identity_cert");
  });
});

describe("meshlet check reads the identity files as the proxy would", () => {
  /** `meshlet check -o json` with an empty config dir and `env`: its exit code and report. */
  async function check(env: Record<string, string>): Promise<{ code: number; report: Record<string, unknown> }> {
    const proc = spawn([BUN, CLI, "check", "-o", "json", "--config-dir", tempDir("meshlet-check-")], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
    const [code, stdout] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    return { code, report: JSON.parse(stdout) };
  }

  test("usable files: ok, with the identity and its expiry in the report", async () => {
    const files = await issue(await makeCa(), NAME, join(tempDir(), "web"));
    const notAfter = new X509Certificate(readFileSync(files.cert)).validToDate.toISOString();
    const { code, report } = await check(identityEnv(files));
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, identity: { name: NAME, notAfter } });
  });

  test("the key of another certificate: exit 64 with the proxy's own reason", async () => {
    const ca = await makeCa();
    const web = await issue(ca, NAME, join(tempDir(), "web"));
    const other = await issue(ca, "other.default.serviceaccount.identity.linkerd.cluster.local", join(tempDir(), "other"));
    const { code, report } = await check(identityEnv({ ...web, key: other.key }));
    expect(code).toBe(64);
    expect(report).toMatchObject({ ok: false, environment: { ok: false, problems: [{ name: "MESHLET_IDENTITY_KEY", value: other.key, expected: expect.stringContaining("belongs to another certificate") }] } });
  });
});
