// The process as an operator sees it: invalid settings exit 64 naming each variable; /live, /ready,
// /metrics and 404 on the admin port; SIGTERM drains (open connections finish) and exits 0.
import { expect, test } from "bun:test";
import { spawn } from "bun";
import net from "node:net";

import { BUN, CLI, startProxy } from "../../support/proxy.ts";
import { echoServer } from "../../support/tcp.ts";

const INVALID: Record<string, string> = {
  MESHLET_INBOUND_LISTEN: "nowhere",
  MESHLET_INBOUND_FORWARD: "127.0.0.1:99999",
  MESHLET_OUTBOUND_LISTEN: "127.0.0.1",
  MESHLET_OUTBOUND_UPSTREAMS: "x=y",
  MESHLET_ADMIN_LISTEN: "127.0.0.1:-1",
  MESHLET_OPAQUE_PORTS: "6379-25",
  MESHLET_DETECT_TIMEOUT: "10",
  MESHLET_CONNECT_TIMEOUT: "soon",
  MESHLET_TCP_IDLE_TIMEOUT: "1y",
  MESHLET_SHUTDOWN_GRACE_PERIOD: "forever",
  MESHLET_LOG_LEVEL: "chatty",
  MESHLET_LOG_FORMAT: "yaml",
  MESHLET_SPLICE_PIPE_SIZE: "huge",
};

test.each(Object.entries(INVALID))("meshlet proxy with %s=%s exits 64 naming it", async (name, value) => {
  const proc = spawn([BUN, CLI, "proxy"], { env: { PATH: process.env.PATH ?? "", [name]: value }, stderr: "pipe", stdout: "ignore" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  expect(code).toBe(64);
  expect(stderr).toContain(name);
  expect(stderr).toContain(JSON.stringify(value));
});

test("meshlet check lists every problem at once and exits 64", async () => {
  const proc = spawn([BUN, CLI, "check"], { env: { PATH: process.env.PATH ?? "", ...INVALID }, stderr: "pipe", stdout: "ignore" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  expect(code).toBe(64);
  for (const name of Object.keys(INVALID)) expect(stderr).toContain(name);
});

test("admin endpoints: /live, /ready, /metrics, 404", async () => {
  const proxy = await startProxy();
  try {
    const base = `http://127.0.0.1:${proxy.adminPort}`;
    const live = await fetch(`${base}/live`);
    expect([live.status, await live.text()]).toEqual([200, "live\n"]);
    const ready = await fetch(`${base}/ready`);
    expect([ready.status, await ready.text()]).toEqual([200, "ready\n"]);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get("content-type")).toStartWith("text/plain");
    const text = await metrics.text();
    for (const family of ["tcp_open_total", "tcp_close_total", "tcp_open_connections", "tcp_read_bytes_total", "tcp_write_bytes_total"]) {
      expect(text).toContain(`# TYPE ${family} `);
    }
    const missing = await fetch(`${base}/nope`);
    expect([missing.status, await missing.text()]).toEqual([404, ""]);
    expect((await fetch(`${base}/shutdown`)).status).toBe(405);
  } finally {
    await proxy.stop();
  }
});

test("a port already in use fails startup with a clear message", async () => {
  const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const proc = spawn([BUN, CLI, "proxy"], {
    env: { PATH: process.env.PATH ?? "", MESHLET_INBOUND_LISTEN: `127.0.0.1:${taken.port}`, MESHLET_OUTBOUND_LISTEN: "127.0.0.1:0", MESHLET_ADMIN_LISTEN: "127.0.0.1:0", MESHLET_TAP_LISTEN: "127.0.0.1:0" },
    stderr: "pipe",
  });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  taken.stop(true);
  expect(code).not.toBe(0);
  expect(stderr).toContain("EADDRINUSE");
  expect(stderr).toContain(`127.0.0.1:${taken.port}`);
});

test("an admin port already in use fails startup with a clear message", async () => {
  const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const proc = spawn([BUN, CLI, "proxy"], {
    env: { PATH: process.env.PATH ?? "", MESHLET_INBOUND_LISTEN: "127.0.0.1:0", MESHLET_OUTBOUND_LISTEN: "127.0.0.1:0", MESHLET_ADMIN_LISTEN: `127.0.0.1:${taken.port}`, MESHLET_TAP_LISTEN: "127.0.0.1:0" },
    stderr: "pipe",
  });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  taken.stop(true);
  expect(code).toBe(71);
  expect(stderr).toContain(`[proxy] cannot listen listener=admin address=127.0.0.1:${taken.port} errno=EADDRINUSE`);
});

test("a tap port already in use fails startup with a clear message", async () => {
  const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const proc = spawn([BUN, CLI, "proxy"], {
    env: { PATH: process.env.PATH ?? "", MESHLET_INBOUND_LISTEN: "127.0.0.1:0", MESHLET_OUTBOUND_LISTEN: "127.0.0.1:0", MESHLET_ADMIN_LISTEN: "127.0.0.1:0", MESHLET_TAP_LISTEN: `127.0.0.1:${taken.port}` },
    stderr: "pipe",
  });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  taken.stop(true);
  expect(code).toBe(71);
  expect(stderr).toContain(`[proxy] cannot listen listener=tap address=127.0.0.1:${taken.port} errno=EADDRINUSE`);
});

test("SIGTERM drains: an open connection keeps working, then the process exits 0", async () => {
  const echo = await echoServer();
  const proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${echo.port}`, MESHLET_OPAQUE_PORTS: String(echo.port) });
  try {
    const socket = net.connect(proxy.inboundPort, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("before ");
    await new Promise((resolve) => socket.once("data", resolve));
    proxy.process.kill("SIGTERM");
    await proxy.waitForLog((l) => l.message === "draining");
    // New connections are refused, the open one still echoes.
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(proxy.inboundPort, "127.0.0.1", () => (s.destroy(), resolve(false)));
      s.on("error", () => resolve(true));
    });
    expect(refused).toBe(true);
    socket.write("after");
    const echoed = await new Promise<string>((resolve) => socket.once("data", (d) => resolve(d.toString())));
    expect(echoed).toBe("after");
    expect(proxy.process.exitCode).toBeNull();
    socket.end();
    expect(await proxy.process.exited).toBe(0);
  } finally {
    await proxy.stop();
    await echo.close();
  }
});
