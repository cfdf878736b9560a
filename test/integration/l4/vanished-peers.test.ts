// Vanished peers: in a network namespace of its own, iptables DROPs every packet a peer sends once its
// connection through meshlet is up — the peer is gone without FIN or RST, as when its node dies. TCP
// keepalive and TCP_USER_TIMEOUT (1 s / 3 s here) must release the connection: for a spliced client
// and upstream (native front door), and for an HTTP client (fd handed to Bun) and an HTTP upstream
// (the engine's pool). "Released" = tcp_open_connections back to 0, and the surviving side closed.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Subprocess, spawn, spawnSync } from "bun";

import { listeningIn } from "../../support/netns.ts";
import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

const canRun = process.getuid?.() === 0 && spawnSync(["which", "iptables"]).exitCode === 0;
const ns = `meshlet-vanish-${process.pid}`;
const inNs = ["ip", "netns", "exec", ns];
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const RELEASE_DEADLINE_MS = 30_000; // generous: with these settings the kernel gives up after ~3-4 s
const TEST_TIMEOUT_MS = 2 * RELEASE_DEADLINE_MS + 10_000;
const ADMIN = "127.0.0.1:4191";
const peers: Subprocess[] = [];
let proxy: RunningProxy;

// Each scenario has its own addresses, so one DROP rule silences exactly one peer.
const SPLICED_UPSTREAM = "127.0.0.6:6379"; // opaque port: spliced by the front door
const SPLICED_UPSTREAM_2 = "127.0.0.8:6379";
const HTTP_UPSTREAM = "127.0.0.10:8080";
const HTTP_UPSTREAM_2 = "127.0.0.12:8080";

function sh(cmd: string[]): void {
  const r = spawnSync(cmd, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
}

function python(code: string): Subprocess {
  const proc = spawn([...inNs, "python3", "-u", "-c", code], { stdout: "pipe", stderr: "inherit", cwd: "/", env: { PATH: SYSTEM_PATH } });
  peers.push(proc);
  return proc;
}

/** A server that keeps every connection open: "echo" answers bytes with bytes, "silent" never answers. */
function holdServer(address: string, mode: "echo" | "silent"): void {
  const [ip, port] = address.split(":");
  python(`
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("${ip}", ${port})); s.listen(16)
def serve(c):
    while True:
        try:
            d = c.recv(65536)
        except OSError:
            return
        if not d:
            return
        if "${mode}" == "echo":
            c.sendall(d)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
`);
}

/**
 * A client bound to `sourceIp` that sends `payload` to meshlet's `port`, prints "sent", then prints
 * every reply and finally "closed" when the connection ends (EOF or error). Returns its output lines.
 */
function client(sourceIp: string, port: number, payload: string): { lines: string[]; waitFor(line: (l: string) => boolean): Promise<string> } {
  const proc = python(`
import socket, sys
c = socket.socket(); c.bind(("${sourceIp}", 0)); c.connect(("127.0.0.1", ${port}))
c.sendall(${JSON.stringify(payload)}.encode()); print("sent")
while True:
    try:
        d = c.recv(65536)
    except OSError as e:
        print("closed " + type(e).__name__); break
    if not d:
        print("closed EOF"); break
    print("got " + d.decode(errors="replace").splitlines()[0])
`);
  const lines: string[] = [];
  void (async () => {
    let pending = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      pending += new TextDecoder().decode(chunk);
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        lines.push(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    }
  })();
  return {
    lines,
    async waitFor(match) {
      for (let waited = 0; waited < RELEASE_DEADLINE_MS; waited += 100) {
        const found = lines.find(match);
        if (found !== undefined) return found;
        await Bun.sleep(100);
      }
      throw new Error(`client ${sourceIp}: no matching line within ${RELEASE_DEADLINE_MS} ms; got ${JSON.stringify(lines)}`);
    },
  };
}

async function metrics(): Promise<string> {
  const proc = spawn([...inNs, "curl", "-sS", "--max-time", "5", `http://${ADMIN}/metrics`], { stdout: "pipe", env: { PATH: SYSTEM_PATH } });
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  return text;
}

const open = (text: string, peer: "src" | "dst", target: string) =>
  metricValue(text, "tcp_open_connections", { direction: "outbound", peer, target_addr: target });

/** Polls the metrics until `ok` holds (bounded); returns the last scrape. */
async function untilMetrics(ok: (text: string) => boolean, what: string): Promise<string> {
  let text = "";
  for (let waited = 0; waited < RELEASE_DEADLINE_MS; waited += 250) {
    text = await metrics();
    if (ok(text)) return text;
    await Bun.sleep(250);
  }
  throw new Error(`${what} within ${RELEASE_DEADLINE_MS} ms; tcp_open_connections: ${text.split("\n").filter((l) => l.startsWith("tcp_open_connections")).join("; ")}`);
}

/** Drops every packet `ip` sends, from now on: the peer vanished. */
function vanish(ip: string): void {
  sh([...inNs, "iptables", "-A", "INPUT", "-s", ip, "-j", "DROP"]);
}

beforeAll(async () => {
  if (!canRun) return;
  sh(["ip", "netns", "add", ns]);
  sh([...inNs, "ip", "link", "set", "lo", "up"]);
  holdServer(SPLICED_UPSTREAM, "echo");
  holdServer(SPLICED_UPSTREAM_2, "echo");
  holdServer(HTTP_UPSTREAM, "silent");
  holdServer(HTTP_UPSTREAM_2, "silent");
  await listeningIn(inNs, [SPLICED_UPSTREAM, SPLICED_UPSTREAM_2, HTTP_UPSTREAM, HTTP_UPSTREAM_2]);
  proxy = await startProxy(
    {
      MESHLET_ADMIN_LISTEN: ADMIN,
      MESHLET_OUTBOUND_UPSTREAMS: [
        `127.0.0.1:16001=${SPLICED_UPSTREAM}`,
        `127.0.0.1:16002=${SPLICED_UPSTREAM_2}`,
        `127.0.0.1:16003=${HTTP_UPSTREAM}`,
        `127.0.0.1:16004=${HTTP_UPSTREAM_2}`,
      ].join(","),
      MESHLET_OUTBOUND_ACCEPT_KEEPALIVE: "1s",
      MESHLET_OUTBOUND_CONNECT_KEEPALIVE: "1s",
      MESHLET_TCP_USER_TIMEOUT: "3s",
      // Nothing but keepalive may release these connections: no idle timeout anywhere.
      MESHLET_HTTP_CLIENT_IDLE_TIMEOUT: "1h",
      MESHLET_HTTP_POOL_IDLE_TIMEOUT: "1h",
    },
    inNs,
  );
});

afterAll(async () => {
  if (!canRun) return;
  await proxy?.stop();
  for (const p of peers) p.kill();
  spawnSync(["ip", "netns", "del", ns]);
});

test.skipIf(!canRun)("a spliced client that vanished is released, and its upstream connection with it", async () => {
  const c = client("127.0.0.5", 16001, "ping");
  await c.waitFor((l) => l === "got ping");
  await untilMetrics((t) => open(t, "src", SPLICED_UPSTREAM) === 1 && open(t, "dst", SPLICED_UPSTREAM) === 1, "the spliced connection did not open");
  vanish("127.0.0.5");
  await untilMetrics((t) => open(t, "src", SPLICED_UPSTREAM) === 0 && open(t, "dst", SPLICED_UPSTREAM) === 0, "the vanished client's connection was not released");
}, TEST_TIMEOUT_MS);

test.skipIf(!canRun)("a spliced upstream that vanished is released, and the client is told", async () => {
  const c = client("127.0.0.7", 16002, "ping");
  await c.waitFor((l) => l === "got ping");
  vanish("127.0.0.8");
  await untilMetrics((t) => open(t, "src", SPLICED_UPSTREAM_2) === 0 && open(t, "dst", SPLICED_UPSTREAM_2) === 0, "the vanished upstream's connection was not released");
  expect(await c.waitFor((l) => l.startsWith("closed"))).toStartWith("closed");
}, TEST_TIMEOUT_MS);

test.skipIf(!canRun)("an HTTP upstream that vanished mid-request is released and the client gets a 502", async () => {
  const c = client("127.0.0.9", 16003, "GET /slow HTTP/1.1\r\nHost: app\r\n\r\n");
  await c.waitFor((l) => l === "sent");
  await untilMetrics((t) => open(t, "dst", HTTP_UPSTREAM) === 1, "the HTTP upstream connection did not open");
  vanish("127.0.0.10");
  expect(await c.waitFor((l) => l.startsWith("got "))).toStartWith("got HTTP/1.1 502 ");
  await untilMetrics((t) => open(t, "dst", HTTP_UPSTREAM) === 0, "the vanished HTTP upstream's connection was not released");
}, TEST_TIMEOUT_MS);

test.skipIf(!canRun)("an HTTP client that vanished mid-request is released, and the upstream connection with it", async () => {
  const c = client("127.0.0.11", 16004, "GET /slow HTTP/1.1\r\nHost: app\r\n\r\n");
  await c.waitFor((l) => l === "sent");
  await untilMetrics((t) => open(t, "src", HTTP_UPSTREAM_2) === 1 && open(t, "dst", HTTP_UPSTREAM_2) === 1, "the HTTP exchange did not start");
  vanish("127.0.0.11");
  await untilMetrics((t) => open(t, "src", HTTP_UPSTREAM_2) === 0 && open(t, "dst", HTTP_UPSTREAM_2) === 0, "the vanished HTTP client's connection was not released");
}, TEST_TIMEOUT_MS);
