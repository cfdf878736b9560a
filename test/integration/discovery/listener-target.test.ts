// The L4 path: an outbound listener whose target (MESHLET_OUTBOUND_UPSTREAMS DEST) names a service of
// the endpoint table resolves it there instead of DNS — opaque bytes spliced natively reach the slice's
// endpoint (no DNS server knows `web.default.svc.cluster.local` here), and a slice edit moves the target
// at the next refresh, as a DNS answer would.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, startProxy } from "../../support/proxy.ts";
import { exchange } from "../../support/tcp.ts";

type TcpServer = Bun.TCPSocketListener<undefined>;
let servers: TcpServer[] = [];
let port = 0;
let proxy: RunningProxy;
const dir = mkdtempSync(join(tmpdir(), "meshlet-discovery-l4-"));

/** A TCP server that answers `<name>:<what it read>` and closes. */
const tagServer = (hostname: string, name: string, at: number): TcpServer =>
  Bun.listen({ hostname, port: at, socket: { data: (socket, data) => void socket.end(`${name}:${data.toString()}`) } });

function writeSlice(ip: string): void {
  writeFileSync(
    join(dir, "web.yaml"),
    `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
endpoints: [{addresses: ["${ip}"]}]
ports: [{port: ${port}}]
`,
  );
}

beforeAll(async () => {
  for (let attempt = 0; attempt < 20 && servers.length < 2; attempt++) {
    const first = tagServer("127.0.0.1", "one", 0);
    try {
      servers = [first, tagServer("127.0.0.2", "two", first.port)];
      port = first.port;
    } catch {
      first.stop(true);
    }
  }
  if (servers.length < 2) throw new Error("could not bind two loopback servers on one port");
  writeSlice("127.0.0.1");
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    // Opaque: the front door splices without detection, so the bytes never reach TypeScript.
    MESHLET_OPAQUE_PORTS: String(port),
    MESHLET_OUTBOUND_UPSTREAMS: "127.0.0.1:0=web.default.svc.cluster.local:6000",
  });
});

afterAll(async () => {
  await proxy?.stop();
  for (const s of servers) s.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

test("opaque bytes to a listener whose target is a service reach the slice's endpoint, and follow a slice edit", async () => {
  const listener = proxy.outboundPorts[1]!;
  expect((await exchange(listener, "PING\n")).received.toString()).toBe("one:PING\n");
  writeSlice("127.0.0.2");
  // The target is re-resolved every 5 s (as a DNS name is); wait for it, bounded.
  let reply = "";
  for (let i = 0; i < 60 && reply !== "two:PING\n"; i++) {
    await Bun.sleep(250);
    reply = (await exchange(listener, "PING\n")).received.toString();
    expect(["one:PING\n", "two:PING\n"]).toContain(reply);
  }
  expect(reply).toBe("two:PING\n");
}, 30_000);
