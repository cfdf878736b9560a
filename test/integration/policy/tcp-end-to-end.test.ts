// Authorization for opaque TCP through the real sidecar, end to end: the policy compiled from the
// environment and the resource directory reaches the native front door, which refuses a connection
// before dialing (not a byte reaches the app), counts it in inbound_tcp_authz_*, and a reload that
// withdraws permission terminates an open connection.
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../../support/http-harness.ts";
import { type RunningProxy, metricValue, startProxy } from "../../support/proxy.ts";

/** Polls /metrics until `name` reaches `atLeast` (bounded); returns the last value. */
async function metricReaches(proxy: RunningProxy, name: string, atLeast: number, timeoutMs = 5000): Promise<number> {
  let value = 0;
  for (let waited = 0; waited <= timeoutMs; waited += 50) {
    value = metricValue(await proxy.metrics(), name);
    if (value >= atLeast) break;
    await Bun.sleep(50);
  }
  return value;
}

/** A TCP app that counts the connections it accepts and the bytes it receives, and echoes. */
function countingApp() {
  const stats = { accepts: 0, bytes: 0 };
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open() {
        stats.accepts++;
      },
      data(socket, data) {
        stats.bytes += data.length;
        socket.write(data);
      },
    },
  });
  return { port: server.port, stats, stop: () => server.stop(true) };
}

/** Connects, sends `payload`, and resolves with what came back before the connection closed (bounded). */
function exchange(port: number, payload: string, timeoutMs = 3000): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    let received = "";
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      resolve({ received, closed });
    };
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(socket) {
          socket.write(payload);
        },
        data(socket, data) {
          received += data.toString();
          if (received.length >= payload.length) {
            finish(false);
            socket.end();
          }
        },
        close() {
          finish(true);
        },
        error() {
          finish(true);
        },
      },
    }).catch(() => finish(true));
    setTimeout(() => finish(false), timeoutMs);
  });
}

test("MESHLET_DEFAULT_INBOUND_POLICY=deny: an opaque connection is refused before the app is dialed", async () => {
  const app = countingApp();
  const proxy = await startProxy({
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}`,
    MESHLET_OPAQUE_PORTS: String(app.port),
    MESHLET_DEFAULT_INBOUND_POLICY: "deny",
  });
  try {
    const r = await exchange(proxy.inboundPort, "PING\r\n");
    expect(r.closed).toBe(true);
    expect(r.received).toBe("");
    expect(app.stats.accepts).toBe(0);
    expect(app.stats.bytes).toBe(0);
    expect(await metricReaches(proxy, "inbound_tcp_authz_deny_total", 1)).toBeGreaterThanOrEqual(1);
  } finally {
    await proxy.stop();
    app.stop();
  }
});

test("a NetworkAuthentication that admits loopback lets the connection through; a reload that withdraws it terminates it", async () => {
  const app = countingApp();
  const dir = mkdtempSync(join(tmpdir(), "meshlet-tcp-policy-"));
  const server = `apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: { name: app, namespace: default }
spec:
  podSelector: {}
  port: ${app.port}
  proxyProtocol: opaque
`;
  const allowLoopback = `---
apiVersion: policy.linkerd.io/v1alpha1
kind: NetworkAuthentication
metadata: { name: loopback, namespace: default }
spec:
  networks: [{ cidr: 127.0.0.0/8 }]
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: { name: app-loopback, namespace: default }
spec:
  targetRef: { group: policy.linkerd.io, kind: Server, name: app }
  requiredAuthenticationRefs:
  - { group: policy.linkerd.io, kind: NetworkAuthentication, name: loopback }
`;
  writeFileSync(join(dir, "policy.yaml"), server + allowLoopback);
  const proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${app.port}`,
    MESHLET_OPAQUE_PORTS: String(app.port),
  });
  try {
    // Allowed: an echo round trip through the splice, and the connection stays open.
    let open: import("bun").Socket<undefined> | undefined;
    let closed = false;
    let echoed = "";
    open = await Bun.connect({
      hostname: "127.0.0.1",
      port: proxy.inboundPort,
      socket: {
        data(_s, d) {
          echoed += d.toString();
        },
        close() {
          closed = true;
        },
      },
    });
    open.write("hello");
    await eventually(() => echoed === "hello", 5000, "echo through the splice");
    expect(app.stats.accepts).toBe(1);

    // The Server stays, its only authorization goes: the open connection is terminated.
    writeFileSync(join(dir, "policy.yaml"), server);
    await eventually(() => closed, 10_000, "connection terminated after the reload");
    expect(await metricReaches(proxy, "inbound_tcp_authz_terminate_total", 1)).toBe(1);
    open = undefined;

    // A new connection is now refused before dialing.
    const r = await exchange(proxy.inboundPort, "again");
    expect(r.received).toBe("");
    expect(app.stats.accepts).toBe(1);
  } finally {
    await proxy.stop();
    app.stop();
  }
}, 30_000);
