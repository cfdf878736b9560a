// Linkerd's l5d-* header rules through the real sidecar, both directions (linkerd-behavior §4.2, §7.3,
// §8.3), plus the endpoint metrics the pipeline feeds: a table of what the application and the client
// see, checked against a backend that records every request head it receives.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedPort, rawRequest, splitResponses } from "../../support/http-harness.ts";
import { type RunningProxy, startProxy } from "../../support/proxy.ts";

/** Request heads the backend received, by path. */
const seen = new Map<string, Headers>();
let backend: ReturnType<typeof Bun.serve>;
let proxy: RunningProxy;

beforeAll(async () => {
  backend = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      seen.set(path, req.headers);
      if (path === "/peer-error") {
        // What a peer proxy's synthesized error looks like to an outbound proxy.
        return new Response("", { status: 502, headers: { "l5d-proxy-error": "connect to 10.0.0.7:8080 failed", "l5d-proxy-connection": "close" } });
      }
      if (path === "/teapot") return new Response("", { status: 418 });
      return new Response("ok");
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "meshlet-l5d-"));
  writeFileSync(
    join(dir, "backend.yaml"),
    `apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  name: localhost
spec:
  routes:
  - name: teapot
    condition: { pathRegex: /teapot }
    responseClasses:
    - condition: { status: { min: 418, max: 418 } }
      isFailure: true
`,
  );
  proxy = await startProxy({
    MESHLET_CONFIG_DIR: dir,
    MESHLET_EXTERNAL_PROFILES: "true",
    MESHLET_INBOUND_FORWARD: `127.0.0.1:${backend.port}`,
    MESHLET_OUTBOUND_UPSTREAMS: `127.0.0.1:0=127.0.0.1:${backend.port},127.0.0.1:0=127.0.0.1:${closedPort()}`,
  });
});

afterAll(async () => {
  await proxy.stop();
  backend.stop(true);
});

/** One request; with `waitForClose`, collects until the proxy closes the connection (bounded). */
async function get(port: number, path: string, extra = "", host = "localhost", waitForClose = false) {
  const until = waitForClose ? undefined : (d: Buffer) => splitResponses(d).length > 0;
  const r = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`, { timeoutMs: 5000, until });
  return { res: splitResponses(r.data)[0]!, closed: r.closed };
}

describe("inbound", () => {
  test("a client-supplied l5d-client-id never reaches the application", async () => {
    const { res } = await get(proxy.inboundPort, "/who", "l5d-client-id: admin.ns.serviceaccount.identity.linkerd.cluster.local\r\nL5D-CLIENT-ID: x\r\n");
    expect(res.status).toBe(200);
    expect(seen.get("/who")!.get("l5d-client-id")).toBeNull();
  });

  test("a synthesized error for an unmeshed client: status only — no l5d-proxy-error, no internal address", async () => {
    const inbound = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${closedPort()}` });
    try {
      const { res, closed } = await get(inbound.inboundPort, "/", "", "localhost", true);
      expect(res.status).toBe(502);
      expect(res.headers.get("l5d-proxy-error")).toBeUndefined();
      expect(res.headers.get("l5d-proxy-connection")).toBeUndefined();
      expect(res.body.length).toBe(0);
      expect(closed).toBe(true);
    } finally {
      await inbound.stop();
    }
  });
});

describe("outbound", () => {
  test("a profiled request carries l5d-dst-canonical with the profile's name and port; a client value is replaced", async () => {
    const port = proxy.outboundPorts[1]!;
    await get(port, "/canonical", "l5d-dst-canonical: spoofed:1\r\n", `localhost:${port}`);
    expect(seen.get("/canonical")!.get("l5d-dst-canonical")).toBe(`localhost:${port}`);
  });

  test("a request without a profile carries no l5d-dst-canonical", async () => {
    await get(proxy.outboundPorts[1]!, "/unprofiled", "", "other.example");
    expect(seen.get("/unprofiled")!.get("l5d-dst-canonical")).toBeNull();
  });

  test("a peer's l5d-proxy-error / l5d-proxy-connection are stripped, and `close` closes the app's connection", async () => {
    const { res, closed } = await get(proxy.outboundPorts[1]!, "/peer-error", "", "localhost", true);
    expect(res.status).toBe(502);
    expect(res.headers.get("l5d-proxy-error")).toBeUndefined();
    expect(res.headers.get("l5d-proxy-connection")).toBeUndefined();
    expect(res.headers.get("connection")).toBe("close");
    expect(closed).toBe(true);
  });

  test("an outbound synthesized error keeps l5d-proxy-error (the client is the local app)", async () => {
    const { res } = await get(proxy.outboundPorts[2]!, "/");
    expect(res.status).toBe(502);
    expect(res.headers.get("l5d-proxy-error")).toContain("connect to 127.0.0.1:");
    expect(res.headers.get("l5d-proxy-connection")).toBe("close");
  });
});

describe("endpoint metrics", () => {
  test("response_total is classified by the route's response classes, and HTTP families carry tls", async () => {
    await get(proxy.outboundPorts[1]!, "/teapot");
    const text = await proxy.metrics();
    const line = text.split("\n").find((l) => l.startsWith("response_total{direction=\"outbound\"") && l.includes('status_code="418"'));
    expect(line).toBeDefined();
    expect(line).toContain('classification="failure"');
    expect(line).toContain('tls="disabled"');
  });

  test("a dispatch error is counted without a status_code, with Linkerd's error label", async () => {
    await get(proxy.outboundPorts[2]!, "/");
    const text = await proxy.metrics();
    const lines = text.split("\n").filter((l) => l.startsWith("response_total{") && l.includes('error="unclassified"'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).not.toContain("status_code=");
  });
});
