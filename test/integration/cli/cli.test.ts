// The `meshlet` command line as a user types it: each mistake exits non-zero with a message naming the
// problem (and the flag meant), both `--flag value` and `--flag=value` work, every command has --help,
// `check` ends with what it checked (text or JSON) and `env` shows where each value came from.
import { describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { join } from "node:path";

import packageJson from "../../../package.json" with { type: "json" };
import { BUN, CLI } from "../../support/proxy.ts";

const VALID = join(import.meta.dir, "..", "..", "fixtures", "profiles", "valid");
const BROKEN = join(import.meta.dir, "..", "..", "fixtures", "profiles", "broken");
const MISSING = join(VALID, "no-such-dir");

async function meshlet(args: readonly string[], env: Record<string, string> = {}) {
  const proc = spawn([BUN, CLI, ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

describe("mistakes exit 64 with a message naming the problem", () => {
  test.each([
    [["check", "--confg-dir", VALID], "unknown option --confg-dir (did you mean --config-dir?)"],
    [["check", VALID], `unexpected argument ${JSON.stringify(VALID)} (did you mean --config-dir ${VALID}?)`],
    [["check", "--config-dir", MISSING], `--config-dir ${MISSING}: no such directory`],
    [["check", "--config-dir"], "option --config-dir needs a value"],
    [["check", "--config-dir", "--help"], "option --config-dir needs a value, but is followed by --help"],
    [["check", "-o"], "option -o needs a value (-o FORMAT)"],
    [["check", "-o", "yaml"], 'option --output must be one of text, json (got "yaml")'],
    [["check", "-x"], "unknown option -x"],
    [["env", "--markdown=yes"], 'option --markdown takes no value (got "yes")'],
    [["env", "--markdown", "-o", "json"], "--markdown and --output cannot be combined"],
    [["env", "extra"], 'unexpected argument "extra"'],
    [["proxy", "now"], 'unexpected argument "now" (meshlet proxy takes no arguments)'],
    [["chek"], 'unknown command "chek" (did you mean check?)'],
    [["--verison"], 'unknown option "--verison" (did you mean --version?)'],
    [["help", "nope"], "help takes one command name"],
  ])("meshlet %j", async (args, message) => {
    const { code, stdout, stderr } = await meshlet(args);
    expect(stderr).toContain(message);
    expect(stderr).toContain("--help' for usage");
    expect(code).toBe(64);
    expect(stdout).toBe("");
  });

  test("a MESHLET_CONFIG_DIR that does not exist is an error for check (the proxy waits for it instead)", async () => {
    const { code, stderr } = await meshlet(["check"], { MESHLET_CONFIG_DIR: MISSING });
    expect(stderr).toContain(`MESHLET_CONFIG_DIR ${MISSING}: no such directory`);
    expect(code).toBe(64);
  });

  test("meshlet without a command prints the commands on stderr and exits 64", async () => {
    const { code, stderr } = await meshlet([]);
    expect(stderr).toContain("Commands:");
    expect(code).toBe(64);
  });
});

describe("check", () => {
  const summary = `${VALID}: ok — 2 files, 4 resources: 3 ServiceProfiles, 1 Server; 3 warnings\n`;
  test.each([[["--config-dir", VALID]], [[`--config-dir=${VALID}`]]])("meshlet check %j ends with what it checked", async (args) => {
    const { code, stdout, stderr } = await meshlet(["check", ...args]);
    expect(stdout).toBe(`environment: ok\n${summary}`);
    expect(stderr).toContain("local.yml:5:3: warning: doc 1: metadata.name: profile localhost is outside svc.cluster.local");
    expect(code).toBe(0);
  });

  test("the directory comes from MESHLET_CONFIG_DIR when no flag names one", async () => {
    const { code, stdout } = await meshlet(["check"], { MESHLET_CONFIG_DIR: VALID });
    expect(stdout).toBe(`environment: ok\n${summary}`);
    expect(code).toBe(0);
  });

  test("the default directory may be absent: check says so and passes, as the proxy would start", async () => {
    const proc = spawn([BUN, CLI, "check"], { cwd: VALID, env: { PATH: process.env.PATH ?? "" }, stdout: "pipe" });
    const [code, stdout] = await Promise.all([proc.exited, new Response(proc.stdout).text()]);
    expect(stdout).toBe("environment: ok\n./meshlet.d: ok — no such directory (the proxy starts with no resources and loads it once it appears)\n");
    expect(code).toBe(0);
  });

  test("-o json: one report on stdout", async () => {
    const { code, stdout } = await meshlet(["check", "-o", "json", "--config-dir", VALID], { MESHLET_EXTERNAL_PROFILES: "true" });
    expect(JSON.parse(stdout)).toEqual({
      ok: true,
      environment: { ok: true, problems: [] },
      configDir: {
        path: VALID,
        exists: true,
        ok: true,
        files: [join(VALID, "books.yaml"), join(VALID, "local.yml")],
        resources: [
          { kind: "ServiceProfile", count: 3, implemented: true },
          { kind: "Server", count: 1, implemented: true },
        ],
        errors: 0,
        warnings: 1,
        problems: [expect.objectContaining({ severity: "warning", file: join(VALID, "books.yaml"), path: "spec", line: 46 })],
      },
    });
    expect(code).toBe(0);
  });

  test("-o json on a broken directory: every problem located, exit 64", async () => {
    const { code, stdout } = await meshlet(["check", "--output=json", "--config-dir", BROKEN]);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(false);
    expect(report.configDir.errors).toBeGreaterThan(10);
    expect(report.configDir.problems[0]).toMatchObject({ severity: "error", file: join(BROKEN, "multi.yaml"), doc: 2, line: 16 });
    expect(code).toBe(64);
  });

  test("-o json with an invalid environment reports it and reads no directory", async () => {
    const { code, stdout } = await meshlet(["check", "-ojson"], { MESHLET_DETECT_TIMEOUT: "soon" });
    expect(JSON.parse(stdout)).toEqual({
      ok: false,
      environment: { ok: false, problems: [{ name: "MESHLET_DETECT_TIMEOUT", value: "soon", expected: "a duration like 500ms, 10s, 1m, 2h or 1d" }] },
    });
    expect(code).toBe(64);
  });
});

describe("help and version", () => {
  test.each([["proxy"], ["check"], ["env"]])("meshlet %s --help (and -h) prints its usage and exits 0", async (command) => {
    for (const flag of ["--help", "-h"]) {
      const { code, stdout } = await meshlet([command, flag]);
      expect(stdout).toStartWith(`Usage: meshlet ${command}`);
      expect(stdout).toContain("-h, --help");
      expect(code).toBe(0);
    }
  });

  test("--help wins over other mistakes on the same line", async () => {
    const { code, stdout } = await meshlet(["check", "--confg-dir", "x", "--help"]);
    expect(stdout).toContain("--config-dir DIR");
    expect(code).toBe(0);
  });

  test("meshlet --help lists every command", async () => {
    const { code, stdout } = await meshlet(["--help"]);
    for (const command of ["proxy", "check", "env"]) expect(stdout).toContain(`\n  ${command} `);
    expect(code).toBe(0);
  });

  test("meshlet --version prints the package version", async () => {
    const { code, stdout } = await meshlet(["--version"]);
    expect(stdout).toBe(`meshlet ${packageJson.version}\n`);
    expect(code).toBe(0);
  });
});

describe("env", () => {
  test("shows each effective value with its source", async () => {
    const { code, stdout } = await meshlet(["env"], { MESHLET_LOG_LEVEL: "debug" });
    expect(stdout).toMatch(/^MESHLET_LOG_LEVEL=debug +\(from env\)$/m);
    expect(stdout).toMatch(/^MESHLET_LOG_FORMAT=plain +\(default\)$/m);
    expect(code).toBe(0);
  });

  test("-o json, and an invalid value is listed, then reported with exit 64", async () => {
    const { code, stdout } = await meshlet(["env", "-o", "json"], { MESHLET_CONNECT_TIMEOUT: "fast" });
    const view = JSON.parse(stdout);
    expect(view.settings.find((s: { name: string }) => s.name === "MESHLET_CONNECT_TIMEOUT")).toMatchObject({ value: "fast", source: "env" });
    expect(view.problems).toEqual([{ name: "MESHLET_CONNECT_TIMEOUT", value: "fast", expected: "a duration like 500ms, 10s, 1m, 2h or 1d" }]);
    expect(code).toBe(64);
  });
});
