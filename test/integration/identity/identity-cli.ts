// Test helpers for identity: run `meshlet identity ...` as a user would, make a CA and workload
// certificates in a temp dir, read certificates back with node:crypto, and run the openssl CLI.
import { spawn, spawnSync } from "bun";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BUN, CLI } from "../../support/proxy.ts";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function meshletIdentity(args: readonly string[]): Promise<CliResult> {
  const proc = spawn([BUN, CLI, "identity", ...args], { env: { PATH: process.env.PATH ?? "" }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

/** Runs a `meshlet identity` command that must succeed. */
export async function mustRun(args: readonly string[]): Promise<CliResult> {
  const result = await meshletIdentity(args);
  if (result.code !== 0) throw new Error(`meshlet identity ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result;
}

export function tempDir(prefix = "meshlet-identity-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `meshlet identity init` into a new dir; returns the dir. */
export async function makeCa(trustDomain = "cluster.local", extra: readonly string[] = []): Promise<string> {
  const dir = join(tempDir(), "ca");
  await mustRun(["init", "--trust-domain", trustDomain, "--out", dir, ...extra]);
  return dir;
}

/** `meshlet identity issue` into `out`; returns the three paths. */
export async function issue(ca: string, name: string, out: string, extra: readonly string[] = []) {
  await mustRun(["issue", "--ca", ca, "--name", name, "--out", out, ...extra]);
  return { anchors: join(out, "ca.crt"), cert: join(out, "tls.crt"), key: join(out, "tls.key") };
}

/** Every certificate of a PEM file, in order. */
export function certificatesIn(path: string): X509Certificate[] {
  const text = readFileSync(path, "utf8");
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => new X509Certificate(pem));
}

export function openssl(args: readonly string[]): CliResult {
  const r = spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}
