// What the mTLS integration tests share: an EndpointSlice file for one service on 127.0.0.1 (annotated
// with `meshlet.io/identity` when the endpoint is meshed), and a GET through a meshlet's outbound
// listener (curl as an http_proxy client) that returns the status, l5d-proxy-error and body.
import { expect } from "bun:test";
import { spawn } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import type { RunningProxy } from "../../support/proxy.ts";
import type { SeenConnection } from "./peer-report-server.ts";

/** Writes `<dir>/<name>.yaml`: service `<name>` in namespace default, one endpoint 127.0.0.1:`port`. */
export function writeEndpointSlice(dir: string, name: string, port: number, identity?: string): void {
  writeFileSync(
    join(dir, `${name}.yaml`),
    `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-x1
  namespace: default
  labels: {kubernetes.io/service-name: ${name}}
${identity !== undefined ? `  annotations: {meshlet.io/identity: ${identity}}\n` : ""}addressType: IPv4
ports:
- {name: http, port: ${port}, protocol: TCP}
endpoints:
- addresses: [127.0.0.1]
`,
  );
}

export interface OutboundAnswer {
  readonly status: number;
  readonly proxyError: string;
  readonly body: string;
}

/** GET `url` through `via`'s outbound listener, with extra request `headers` ("name: value"). */
export async function getThroughOutbound(via: RunningProxy, url: string, headers: readonly string[] = []): Promise<OutboundAnswer> {
  const headerArgs = headers.flatMap((h) => ["-H", h]);
  const proc = spawn(["curl", "-sS", "--max-time", "10", "-D", "-", ...headerArgs, "-x", `http://127.0.0.1:${via.outboundPorts[0]}`, url], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`curl ${url} exited ${code}: ${err}`);
  const split = out.indexOf("\r\n\r\n");
  const head = out.slice(0, split);
  return { status: Number(head.split(" ")[1]), proxyError: /^l5d-proxy-error: (.*)$/im.exec(head)?.[1]?.trim() ?? "", body: out.slice(split + 4) };
}

/** The connection a peer-report server describes in a 200 answer. */
export function seenIn(answer: OutboundAnswer): SeenConnection {
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body) as SeenConnection;
}
