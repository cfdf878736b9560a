// Discovery for HTTP/2: streams on one h2c client connection to the outbound listener, with the
// `:authority` of a service from an EndpointSlice, are spread round-robin over its two h2c endpoints;
// a service without a ready endpoint answers the stream 503 with l5d-proxy-error.
import { afterAll, beforeAll, expect, test } from "bun:test";
import http2 from "node:http2";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type RunningProxy, startProxy } from "../../support/proxy.ts";
import { h2Get } from "../../support/h2-get.ts";

const dir = mkdtempSync(join(tmpdir(), "meshlet-discovery-h2-"));
let apps: http2.Http2Server[] = [];
let port = 0;
let proxy: RunningProxy;

/** An h2c app answering its own name. */
function startApp(host: string, name: string, at: number): Promise<http2.Http2Server> {
  const app = http2.createServer();
  app.on("stream", (stream: http2.ServerHttp2Stream) => {
    stream.respond({ ":status": 200 });
    stream.end(name);
  });
  return new Promise((resolve, reject) => {
    app.once("error", reject);
    app.listen(at, host, () => resolve(app));
  });
}


beforeAll(async () => {
  for (let attempt = 0; attempt < 20 && apps.length < 2; attempt++) {
    const first = await startApp("127.0.0.1", "one", 0);
    const at = (first.address() as { port: number }).port;
    try {
      apps = [first, await startApp("127.0.0.2", "two", at)];
      port = at;
    } catch {
      first.close();
    }
  }
  if (apps.length < 2) throw new Error("could not bind two loopback h2c apps on one port");
  writeFileSync(
    join(dir, "slices.yaml"),
    `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: api-1, namespace: default, labels: {kubernetes.io/service-name: api}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1]}, {addresses: [127.0.0.2]}]
ports: [{name: grpc, port: ${port}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: down-1, namespace: default, labels: {kubernetes.io/service-name: down}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: false}}]
ports: [{port: ${port}}]
`,
  );
  proxy = await startProxy({ MESHLET_CONFIG_DIR: dir });
});

afterAll(async () => {
  await proxy?.stop();
  for (const app of apps) app.close();
  rmSync(dir, { recursive: true, force: true });
});

test("streams of one connection go to both endpoints in turn; a service with no ready endpoint gets 503", async () => {
  const session = http2.connect(`http://127.0.0.1:${proxy.outboundPorts[0]}`);
  try {
    const bodies: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await h2Get(session, "api.default.svc.cluster.local:9000");
      expect(res.status).toBe(200);
      bodies.push(res.body);
    }
    expect(bodies.filter((b) => b === "one")).toHaveLength(3);
    expect(bodies.filter((b) => b === "two")).toHaveLength(3);
    const down = await h2Get(session, "down.default.svc.cluster.local:9000");
    expect(down.status).toBe(503);
    expect(down.proxyError).toBe("no endpoint for down.default.svc.cluster.local:9000: none of its 1 endpoint is ready");
  } finally {
    session.close();
  }
});
