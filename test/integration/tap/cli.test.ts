// `meshlet tap` and `meshlet top` against a real sidecar: the lines and the table for known traffic,
// and clear errors (with exit codes) when the tap server is unreachable or refuses the filter.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn } from "bun";

import { BUN, CLI, type RunningProxy, freePort, startProxy } from "../../support/proxy.ts";

let backend: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;
let tapAddress: string;

beforeAll(async () => {
  backend = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      return new Response(`hi ${path}`, { status: path === "/fail" ? 503 : 200 });
    },
  });
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`, MESHLET_TAP_LISTEN: "127.0.0.1:0" });
  tapAddress = String((await proxy.waitForLog((l) => l.message === "tap listening")).address);
});

afterAll(async () => {
  await proxy.stop();
  backend.stop(true);
});

const subscribers = () => proxy.logs.filter((l) => l.message === "tap subscriber").length;

/** Runs the CLI; once it has subscribed (or failed), `traffic` runs; resolves with its exit and output. */
async function meshlet(args: string[], traffic: () => Promise<void> = async () => {}) {
  const before = subscribers();
  const proc = spawn([BUN, CLI, ...args], { env: { PATH: process.env.PATH ?? "" }, stdout: "pipe", stderr: "pipe" });
  const output = Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  for (let waited = 0; subscribers() === before && proc.exitCode === null; waited += 10) {
    if (waited > 10_000) throw new Error("the CLI did not subscribe");
    await Bun.sleep(10);
  }
  if (proc.exitCode === null) await traffic();
  const [code, stdout, stderr] = await output;
  return { code, stdout, stderr };
}

const get = async (path: string, init?: RequestInit) => void (await (await fetch(`http://127.0.0.1:${proxy.inboundPort}${path}`, init)).text());

test("meshlet tap prints req, rsp and end lines for each request, then stops at --limit", async () => {
  const { code, stdout, stderr } = await meshlet(["tap", "--tap", tapAddress, "--limit", "2"], async () => {
    await get("/books/1");
    await get("/fail");
    await get("/not-shown");
  });
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const lines = stdout.trimEnd().split("\n");
  const where = `proxy=in  src=127\\.0\\.0\\.1:\\d+ dst=127\\.0\\.0\\.1:${backend.port} tls=disabled`;
  const patterns = [
    `^req id=(\\d+) ${where} :method=GET :authority=127\\.0\\.0\\.1:${proxy.inboundPort} :path=/books/1$`,
    `^rsp id=(\\d+) ${where} :status=200 latency=\\d+µs$`,
    `^end id=(\\d+) ${where} duration=\\d+µs response-length=\\d+B$`,
    `^req id=(\\d+) ${where} :method=GET :authority=127\\.0\\.0\\.1:${proxy.inboundPort} :path=/fail$`,
    `^rsp id=(\\d+) ${where} :status=503 latency=\\d+µs$`,
    `^end id=(\\d+) ${where} duration=\\d+µs response-length=\\d+B$`,
  ];
  expect(lines).toHaveLength(patterns.length);
  patterns.forEach((p, i) => expect(lines[i]).toMatch(new RegExp(p)));
});

test("meshlet tap -o json prints one event object per line, filtered in the proxy", async () => {
  const { code, stdout } = await meshlet(["tap", "--tap", tapAddress, "-o", "json", "--method", "POST", "--path", "/orders/.*", "--limit", "1"], async () => {
    await get("/orders/1");
    await get("/orders/2", { method: "POST", body: "x", headers: { cookie: "id=SECRET" } });
  });
  expect(code).toBe(0);
  const events = stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  expect(events.map((e) => e.type)).toEqual(["request", "response", "end"]);
  expect(events[0]).toMatchObject({ method: "POST", path: "/orders/2", direction: "inbound" });
  expect(events[2]).toMatchObject({ status: 200, requestBytes: 1 });
  expect(stdout).not.toContain("SECRET");
});

test("meshlet top off a terminal prints the per-path table, and a final one when --limit ends it", async () => {
  const { code, stdout } = await meshlet(["top", "--tap", tapAddress, "--limit", "4", "--interval", "1m"], async () => {
    await get("/a");
    await get("/a");
    await get("/fail");
    await get("/b", { method: "DELETE" });
  });
  expect(code).toBe(0);
  const lines = stdout.trimEnd().split("\n");
  expect(lines[0]).toMatch(/^Source +Destination +Method +Path +Count +Best +Worst +Last +Success Rate$/);
  const rows = lines.slice(1).map((l) => l.split(/ {2,}/));
  expect(rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[8]])).toEqual([
    ["127.0.0.1", `127.0.0.1:${backend.port}`, "GET", "/a", "2", "100.00%"],
    ["127.0.0.1", `127.0.0.1:${backend.port}`, "DELETE", "/b", "1", "100.00%"],
    ["127.0.0.1", `127.0.0.1:${backend.port}`, "GET", "/fail", "1", "0.00%"],
  ]);
  for (const r of rows) for (const latency of r.slice(5, 8)) expect(latency).toMatch(/^[\d.]+(µs|ms|s)$/);
});

test("an unreachable tap server exits 69 naming the address; a refused filter exits 64 with the proxy's reason", async () => {
  const port = await freePort();
  const unreachable = await meshlet(["tap", "--tap", `127.0.0.1:${port}`]);
  expect(unreachable.code).toBe(69);
  expect(unreachable.stderr).toContain(`meshlet tap: cannot reach the tap server at 127.0.0.1:${port}: ECONNREFUSED`);

  const refused = await meshlet(["top", "--tap", tapAddress, "--path", "(a"]);
  expect(refused.code).toBe(64);
  expect(refused.stderr).toContain("meshlet top: the tap server refused the filter: path: invalid regex");
  expect(refused.stderr).toContain("(MESHLET_ERR_TAP_PATH)");
});

test.each([
  [["tap", "--direction", "sideways"], 'option --direction must be one of in, out, inbound, outbound (got "sideways")'],
  [["tap", "--limit", "0"], '--limit "0": expected a whole number from 1'],
  [["top", "--interval", "2"], '--interval "2": missing unit in duration'],
  [["tap", "--tap", "nowhere"], '--tap "nowhere": expected a destination host:port'],
])("meshlet %j is a usage error", async (args, message) => {
  const proc = spawn([BUN, CLI, ...args], { env: { PATH: process.env.PATH ?? "" }, stdout: "pipe", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  expect(stderr).toContain(message);
  expect(code).toBe(64);
});

test("meshlet tap | head: once the reader is gone, tap ends quietly with exit 0 instead of failing on the closed pipe", async () => {
  const before = subscribers();
  const proc = spawn(["bash", "-c", 'set -o pipefail; "$0" "$1" tap --tap "$2" | head -n 3', BUN, CLI, tapAddress], {
    env: { PATH: process.env.PATH ?? "" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  for (let waited = 0; subscribers() === before; waited += 10) {
    if (waited > 10_000) throw new Error("the CLI did not subscribe");
    await Bun.sleep(10);
  }
  // Requests until the pipeline is over: head leaves after three lines, tap at its next frame.
  for (let i = 0; i < 500 && proc.exitCode === null; i++) await get(`/piped/${i}`);
  const [code, stdout, stderr] = await output;
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(stdout.trimEnd().split("\n")).toHaveLength(3);
});
