// tcp_half_open_connections and `meshlet diagnostics half-open` against a real kernel: in a private
// network namespace, a client half-closes a connection (shutdown(SHUT_WR)) and the server never closes
// its side, leaving one CLOSE_WAIT and one FIN_WAIT_2 socket, which both the gauge and the command count.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "bun";

import { Netns, canUseNetns, waitForLine } from "../../support/private-netns.ts";
import { BUN, CLI, type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

const canRun = canUseNetns && ["curl", "python3"].every((t) => spawnSync(["which", t]).exitCode === 0);
const PORT = 7400;

/** Opens one connection on loopback, half-closes it from the client, and holds both sockets open. */
const HALF_CLOSE = `import socket,time
s=socket.socket();s.bind(("127.0.0.1",${PORT}));s.listen(1)
c=socket.create_connection(("127.0.0.1",${PORT}));a,_=s.accept()
c.shutdown(socket.SHUT_WR);a.recv(10)
print("%d"%c.getsockname()[1],flush=True)
time.sleep(600)`;

let ns: Netns;
let proxy: RunningProxy;

beforeAll(async () => {
  if (!canRun) return;
  ns = Netns.create("halfopen");
  proxy = await startProxy({ MESHLET_ADMIN_LISTEN: "127.0.0.1:4191" }, ns.exec);
}, 30_000);

afterAll(async () => {
  await proxy?.stop();
  await ns?.remove();
}, 30_000);

const gauge = async (state: string) =>
  metricValue((await ns.output(["curl", "-sS", "--max-time", "10", "http://127.0.0.1:4191/metrics"])).stdout, "tcp_half_open_connections", { state });

test.skipIf(!canRun)("the gauge and the command count a deliberately half-closed connection, with its peers", async () => {
  expect(await gauge("close_wait")).toBe(0);
  expect(await gauge("fin_wait_2")).toBe(0);

  const clientPort = await waitForLine(ns.start(["python3", "-c", HALF_CLOSE]));
  expect(await gauge("close_wait")).toBe(1);
  expect(await gauge("fin_wait_2")).toBe(1);

  const json = await ns.output([BUN, CLI, "diagnostics", "half-open", "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toEqual({
    counts: { close_wait: 1, fin_wait_2: 1 },
    connections: expect.arrayContaining([
      { state: "close_wait", local: `127.0.0.1:${PORT}`, peer: `127.0.0.1:${clientPort}`, uid: 0 },
      { state: "fin_wait_2", local: `127.0.0.1:${clientPort}`, peer: `127.0.0.1:${PORT}`, uid: 0 },
    ]),
  });
  const text = await ns.output([BUN, CLI, "diagnostics", "half-open"]);
  expect(text.stdout).toContain('tcp_half_open_connections{state="close_wait"} 1');
  expect(text.stdout).toMatch(new RegExp(`close_wait +127\\.0\\.0\\.1:${PORT} +127\\.0\\.0\\.1:${clientPort} +0 +peer closed`));
});

test.skipIf(!canRun)("an unknown topic or flag is a usage error", async () => {
  expect((await ns.output([BUN, CLI, "diagnostics", "half-closed"])).code).toBe(64);
  expect((await ns.output([BUN, CLI, "diagnostics", "half-open", "--all"])).code).toBe(64);
});
