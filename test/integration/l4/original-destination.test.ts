// Transparent mode: in a network namespace of its own, iptables REDIRECTs connections to meshlet
// (as Linkerd's proxy-init does, sparing the proxy's own uid); SO_ORIGINAL_DST wins over the
// configured target, for spliced TCP on the inbound side and for handed-off HTTP on the outbound side.
// The proxy runs as root (uid 0 is the one spared) and the clients as another uid from "/": no
// unprivileged process needs the checkout, which may live in a directory only root can enter.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Subprocess, spawn, spawnSync } from "bun";

import { listeningIn } from "../../support/netns.ts";
import { type RunningProxy, startProxy } from "../../support/proxy.ts";

const PROXY_UID = "0"; // excluded from the redirect so the proxy can dial out (Linkerd's is 2102)
const CLIENT_UID = "2102"; // an app's uid: its connections are redirected
const canRun = process.getuid?.() === 0 && spawnSync(["which", "iptables"]).exitCode === 0;
const ns = `meshlet-odst-${process.pid}`;
const inNs = ["ip", "netns", "exec", ns];
const servers: Subprocess[] = [];
let proxy: RunningProxy;

function sh(cmd: string[]): void {
  const r = spawnSync(cmd, { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString()}`);
}

/** A one-line-answer TCP server inside the namespace. */
function answerServer(ip: string, port: number, answer: string): void {
  const code = `import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("${ip}",${port}));s.listen(16)\nwhile True:\n  c,_=s.accept();c.recv(65536);c.sendall(b"HTTP/1.1 200 OK\\r\\ncontent-length: ${answer.length}\\r\\nconnection: close\\r\\n\\r\\n${answer}");c.close()`;
  servers.push(spawn([...inNs, "python3", "-c", code], { stdout: "ignore", stderr: "inherit" }));
}

/**
 * Runs `cmd` in the namespace as the app's uid, in "/" and with the system PATH: the checkout, and
 * tool shims under root's home (pyenv), may be unreadable to that uid.
 */
async function clientInNs(cmd: string[]): Promise<string> {
  const asClient = ["setpriv", `--reuid=${CLIENT_UID}`, `--regid=${CLIENT_UID}`, "--clear-groups"];
  const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
  const proc = spawn([...inNs, ...asClient, ...cmd], { stdout: "pipe", stderr: "inherit", cwd: "/", env });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  return out;
}

beforeAll(async () => {
  if (!canRun) return;
  sh(["ip", "netns", "add", ns]);
  sh([...inNs, "ip", "link", "set", "lo", "up"]);
  answerServer("127.0.0.1", 8080, "configured-target");
  answerServer("127.0.0.3", 9999, "original-destination-9999");
  answerServer("127.0.0.4", 7777, "original-destination-7777");
  proxy = await startProxy(
    { MESHLET_INBOUND_LISTEN: "127.0.0.1:4143", MESHLET_OUTBOUND_LISTEN: "127.0.0.1:4140", MESHLET_INBOUND_FORWARD: "127.0.0.1:8080", MESHLET_OPAQUE_PORTS: "7777" },
    inNs,
  );
  const skipProxy = ["-m", "owner", "!", "--uid-owner", PROXY_UID];
  sh([...inNs, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", "127.0.0.3", "--dport", "9999", ...skipProxy, "-j", "REDIRECT", "--to-ports", "4140"]);
  sh([...inNs, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", "127.0.0.4", "--dport", "7777", ...skipProxy, "-j", "REDIRECT", "--to-ports", "4143"]);
  await listeningIn(inNs, ["127.0.0.1:8080", "127.0.0.3:9999", "127.0.0.4:7777"]);
});

afterAll(async () => {
  if (!canRun) return;
  await proxy?.stop();
  for (const s of servers) s.kill();
  spawnSync(["ip", "netns", "del", ns]);
});

test.skipIf(!canRun)("outbound HTTP redirected by iptables goes to its original destination", async () => {
  const body = await clientInNs(["curl", "-sS", "--max-time", "10", "http://127.0.0.3:9999/"]);
  expect(body).toBe("original-destination-9999");
  const metrics = await clientInNs(["curl", "-sS", "--max-time", "10", `http://127.0.0.1:${proxy.adminPort}/metrics`]);
  expect(metrics).toContain('outbound_tcp_detect_http_results_total{result="http/1"} 1');
});

test.skipIf(!canRun)("inbound opaque TCP redirected by iptables goes to its original destination, not the forward target", async () => {
  const body = await clientInNs(["python3", "-c", 'import socket;c=socket.create_connection(("127.0.0.4",7777));c.sendall(b"hi");print(c.recv(4096).decode().split("\\r\\n\\r\\n")[1],end="")']);
  expect(body).toBe("original-destination-7777");
  const metrics = await clientInNs(["curl", "-sS", "--max-time", "10", `http://127.0.0.1:${proxy.adminPort}/metrics`]);
  expect(metrics).toContain('inbound_tcp_detect_http_results_total{result="opaque"} 1');
  expect(metrics).toMatch(/tcp_open_total\{direction="inbound",peer="dst",target_addr="127\.0\.0\.4:7777"/);
});
