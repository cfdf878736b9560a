// A hostile config file as an operator meets it: `meshlet check` and `meshlet proxy` start-up report a
// located error and exit 64 (before: a stack overflow, exit 1). Real processes, a real directory.
import { afterAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { BUN, CLI } from "../../support/proxy.ts";

const root = mkdtempSync(join(tmpdir(), "meshlet-hostile-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, "meshlet.d");
mkdirSync(dir);
writeFileSync(join(dir, "deep.yaml"), "[".repeat(10_000) + "]".repeat(10_000));

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  const proc = spawn([BUN, CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", MESHLET_CONFIG_DIR: dir, ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  return { code, stderr };
}

test("meshlet check: exit 64 with file:line:col", async () => {
  const { code, stderr } = await run(["check"]);
  expect(code).toBe(64);
  expect(stderr).toContain(`${join(dir, "deep.yaml")}:1:101: error: doc 1: nesting deeper than 100 levels`);
});

test("meshlet proxy start-up: exit 64 with the same located error", async () => {
  const { code, stderr } = await run(["proxy"], {
    MESHLET_INBOUND_LISTEN: "127.0.0.1:0",
    MESHLET_OUTBOUND_LISTEN: "127.0.0.1:0",
    MESHLET_ADMIN_LISTEN: "127.0.0.1:0",
    MESHLET_TAP_LISTEN: "127.0.0.1:0",
  });
  expect(code).toBe(64);
  expect(stderr).toContain("deep.yaml:1:101: error: doc 1: nesting deeper than 100 levels");
});
