// `meshlet init-iptables` on a real kernel, once per backend (iptables-nft, iptables-legacy): an app
// namespace joined by a veth pair to an "outside" namespace. Unmodified curl and redis-cli in the app
// namespace reach outside servers through meshlet's outbound port, an outside client reaches the app
// through the inbound port, skip ports and the proxy's own uid bypass meshlet, a second run changes
// nothing, and --uninstall restores direct traffic and leaves others' rules alone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";

import { CLI, BUN, type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";
import { Netns, canUseNetns, link, waitForLine } from "../../support/private-netns.ts";
import { meshletLines, ruleSet } from "../../../src/transparent/rules.ts";
import { redirectSettings } from "../../../src/transparent/init-iptables-command.ts";
import { parseConfig } from "../../../src/config/env.ts";

const OUTSIDE_IP = "198.18.0.1"; // RFC 2544 benchmarking range, private to these namespaces
const APP_IP = "198.18.0.2";
const PROXY_UID = "2102";
const SKIP_OUT_PORT = 7000;
const SKIP_IN_PORT = 9000;
const APP_PORT = 8080;
const HTTP_PORT = 8000;

const haveTools = (mode: string) => canUseNetns && ["curl", "redis-server", "redis-cli", "python3", "setpriv", `iptables-${mode}`].every((t) => spawnSync(["which", t]).exitCode === 0);

/** An HTTP server answering every request with the address it saw the connection come from. */
const PEER_ECHO = `import socket,sys
s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind((sys.argv[1],int(sys.argv[2])));s.listen(16)
print("ready",flush=True)
while True:
  c,(ip,port)=s.accept();data=b""
  while b"\\r\\n\\r\\n" not in data:
    chunk=c.recv(65536)
    if not chunk: break
    data+=chunk
  body=("%s:%d"%(ip,port)).encode()
  c.sendall(b"HTTP/1.1 200 OK\\r\\ncontent-length: %d\\r\\nconnection: close\\r\\n\\r\\n%s"%(len(body),body));c.close()`;

/** curl's body (the peer the server saw) and curl's own local address, to tell a direct connection from a proxied one. */
async function fetchVia(ns: Netns, url: string, uid?: string): Promise<{ seenPeer: string; localAddress: string }> {
  const asUid = uid ? ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups"] : [];
  const r = await ns.output([...asUid, "curl", "-sS", "--max-time", "10", "-w", "\n%{local_ip}:%{local_port}", url]);
  expect(r.stderr).toBe("");
  const [seenPeer = "", localAddress = ""] = r.stdout.split("\n");
  return { seenPeer, localAddress };
}

function natRules(ns: Netns, mode: string): string {
  return ns.run([`iptables-${mode}-save`, "-t", "nat"]).split("\n").filter((l) => !l.startsWith("#") && l !== "").map((l) => l.replace(/\[\d+:\d+\]/, "[0:0]")).join("\n");
}

for (const mode of ["nft", "legacy"] as const) {
  describe.skipIf(!haveTools(mode))(`init-iptables with iptables-${mode}`, () => {
    let app: Netns;
    let outside: Netns;
    let proxy: RunningProxy;
    let rulesBefore = "";
    const env = { MESHLET_SKIP_OUTBOUND_PORTS: String(SKIP_OUT_PORT), MESHLET_SKIP_INBOUND_PORTS: `${SKIP_IN_PORT}`, MESHLET_PROXY_UID: PROXY_UID };
    const init = (...flags: string[]) =>
      app.output(["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), BUN, CLI, "init-iptables", "--iptables-mode", mode, ...flags]);
    const metrics = async () => (await app.output(["curl", "-sS", "--max-time", "10", "http://127.0.0.1:4191/metrics"])).stdout;

    beforeAll(async () => {
      app = Netns.create("app");
      outside = Netns.create("out");
      link(app, APP_IP, outside, OUTSIDE_IP);
      const servers = [
        outside.start(["python3", "-c", PEER_ECHO, OUTSIDE_IP, String(HTTP_PORT)]),
        outside.start(["python3", "-c", PEER_ECHO, OUTSIDE_IP, String(SKIP_OUT_PORT)]),
        app.start(["python3", "-c", PEER_ECHO, "0.0.0.0", String(APP_PORT)]),
        app.start(["python3", "-c", PEER_ECHO, "0.0.0.0", String(SKIP_IN_PORT)]),
      ];
      for (const server of servers) await waitForLine(server);
      outside.start(["redis-server", "--bind", OUTSIDE_IP, "--port", "6379", "--save", "", "--appendonly", "no", "--protected-mode", "no"]);
      for (let i = 0; i < 100 && (await outside.output(["redis-cli", "-h", OUTSIDE_IP, "ping"])).stdout.trim() !== "PONG"; i++) await Bun.sleep(50);
      proxy = await startProxy(
        { MESHLET_INBOUND_LISTEN: "0.0.0.0:4143", MESHLET_OUTBOUND_LISTEN: "127.0.0.1:4140", MESHLET_ADMIN_LISTEN: "127.0.0.1:4191" },
        // As the proxy uid, keeping only the right to read files: the checkout may sit where only root can enter.
        [...app.exec, "setpriv", `--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, "--clear-groups", "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"],
      );
      // Someone else's rule, which uninstall must leave alone.
      app.run([`iptables-${mode}`, "-t", "nat", "-A", "OUTPUT", "-p", "udp", "--dport", "5353", "-j", "RETURN"]);
      rulesBefore = natRules(app, mode);
    }, 30_000);

    afterAll(async () => {
      await proxy?.stop();
      await app?.remove();
      await outside?.remove();
    }, 30_000);

    test("before init-iptables, the app's connections go out directly", async () => {
      const r = await fetchVia(app, `http://${OUTSIDE_IP}:${HTTP_PORT}/`);
      expect(r.seenPeer).toBe(r.localAddress);
    });

    test("installs exactly proxy-init's rule set, and a second run changes nothing", async () => {
      const first = await init();
      expect(first.code).toBe(0);
      const installed = natRules(app, mode);
      const settings = redirectSettings(parseConfig({ ...env, MESHLET_INBOUND_LISTEN: "0.0.0.0:4143" }));
      const expected = ruleSet(settings, 4);
      // iptables-save lists the jumps within their built-in chains, then the custom chains alphabetically.
      expect(meshletLines(installed)).toEqual([
        ":MESHLET_INIT_OUTPUT - [0:0]",
        ":MESHLET_INIT_REDIRECT - [0:0]",
        expected.jumps[0]!,
        expected.jumps[1]!,
        ...expected.chainRules.filter((l) => l.startsWith("-A MESHLET_INIT_OUTPUT")),
        ...expected.chainRules.filter((l) => l.startsWith("-A MESHLET_INIT_REDIRECT")),
      ]);
      expect((await init()).code).toBe(0);
      expect(natRules(app, mode)).toBe(installed);
    });

    test("an unmodified curl in the app namespace reaches the outside server through meshlet's outbound port", async () => {
      const r = await fetchVia(app, `http://${OUTSIDE_IP}:${HTTP_PORT}/`);
      expect(r.seenPeer.startsWith(`${APP_IP}:`)).toBe(true);
      expect(r.seenPeer).not.toBe(r.localAddress); // the server saw meshlet's connection, not curl's
      expect(metricValue(await metrics(), "tcp_open_total", { direction: "outbound", peer: "dst", target_addr: `${OUTSIDE_IP}:${HTTP_PORT}` })).toBeGreaterThanOrEqual(1);
    });

    test("an unmodified redis-cli reaches the outside redis through meshlet (opaque port 6379)", async () => {
      const r = await app.output(["redis-cli", "-h", OUTSIDE_IP, "-p", "6379", "ping"]);
      expect(r.stdout.trim()).toBe("PONG");
      expect(metricValue(await metrics(), "tcp_open_total", { direction: "outbound", peer: "dst", target_addr: `${OUTSIDE_IP}:6379` })).toBe(1);
    });

    test("an outside client reaches the app through meshlet's inbound port, to the original destination", async () => {
      const r = await fetchVia(outside, `http://${APP_IP}:${APP_PORT}/`);
      expect(r.seenPeer.startsWith(`${APP_IP}:`)).toBe(true); // meshlet, inside the pod, connected to the app
      expect(metricValue(await metrics(), "tcp_open_total", { direction: "inbound", peer: "dst", target_addr: `${APP_IP}:${APP_PORT}` })).toBeGreaterThanOrEqual(1);
    });

    test("skip ports bypass meshlet both ways", async () => {
      const outbound = await fetchVia(app, `http://${OUTSIDE_IP}:${SKIP_OUT_PORT}/`);
      expect(outbound.seenPeer).toBe(outbound.localAddress);
      const inbound = await fetchVia(outside, `http://${APP_IP}:${SKIP_IN_PORT}/`);
      expect(inbound.seenPeer).toBe(inbound.localAddress);
      expect(inbound.seenPeer.startsWith(`${OUTSIDE_IP}:`)).toBe(true);
      const text = await metrics();
      expect(metricValue(text, "tcp_open_total", { target_addr: `${OUTSIDE_IP}:${SKIP_OUT_PORT}` })).toBe(0);
      expect(metricValue(text, "tcp_open_total", { target_addr: `${APP_IP}:${SKIP_IN_PORT}` })).toBe(0);
    });

    test("the proxy's own uid is not redirected (no loop)", async () => {
      const before = metricValue(await metrics(), "tcp_open_total", { direction: "outbound", target_addr: `${OUTSIDE_IP}:${HTTP_PORT}` });
      const r = await fetchVia(app, `http://${OUTSIDE_IP}:${HTTP_PORT}/`, PROXY_UID);
      expect(r.seenPeer).toBe(r.localAddress);
      expect(metricValue(await metrics(), "tcp_open_total", { direction: "outbound", target_addr: `${OUTSIDE_IP}:${HTTP_PORT}` })).toBe(before);
    });

    test("--dry-run prints the rules and changes nothing", async () => {
      const installed = natRules(app, mode);
      const r = await init("--dry-run");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`-A MESHLET_INIT_OUTPUT -p tcp -m multiport --dports ${SKIP_OUT_PORT} -m comment`);
      expect(natRules(app, mode)).toBe(installed);
    });

    test("--uninstall removes exactly what it added and traffic goes direct again", async () => {
      const r = await init("--uninstall");
      expect(r.code).toBe(0);
      expect(natRules(app, mode)).toBe(rulesBefore);
      const out = await fetchVia(app, `http://${OUTSIDE_IP}:${HTTP_PORT}/`);
      expect(out.seenPeer).toBe(out.localAddress);
      const inbound = await fetchVia(outside, `http://${APP_IP}:${APP_PORT}/`);
      expect(inbound.seenPeer).toBe(inbound.localAddress);
      expect((await init("--uninstall")).code).toBe(0); // nothing left to remove is not an error
      expect(natRules(app, mode)).toBe(rulesBefore);
    });
  });
}

describe.skipIf(!haveTools("nft"))("--close-wait-timeout", () => {
  test("sets the namespace's conntrack close-wait timeout, leaving the host's alone", async () => {
    const ns = Netns.create("cw");
    try {
      const path = "/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close_wait";
      const hostBefore = spawnSync(["cat", path]).stdout.toString();
      const r = await ns.output([BUN, CLI, "init-iptables", "--close-wait-timeout", "1m30s"]);
      expect(r.stderr).toContain("inbound TCP -> :4143");
      expect(r.code).toBe(0);
      expect(ns.run(["cat", path]).trim()).toBe("90");
      expect(spawnSync(["cat", path]).stdout.toString()).toBe(hostBefore);
      const bad = await ns.output([BUN, CLI, "init-iptables", "--close-wait-timeout", "soon"]);
      expect(bad.code).toBe(64);
      expect(bad.stderr).toContain("--close-wait-timeout");
    } finally {
      await ns.remove();
    }
  });
});
