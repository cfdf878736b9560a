// What the mTLS integration tests share: the MESHLET_IDENTITY_* environment of a set of identity files,
// an EndpointSlice file for one service on 127.0.0.1 (annotated with `meshlet.io/identity` when the
// endpoint is meshed), a GET through a meshlet's outbound listener (curl as an http_proxy client) that
// returns the status, l5d-proxy-error and body, and a byte-for-byte TCP relay that records what one side
// sends (to see what crosses the wire between two proxies).
import { expect } from "bun:test";
import { type Socket, type TCPSocketListener, spawn } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

import type { RunningProxy } from "../../support/proxy.ts";
import type { SeenConnection } from "./peer-report-server.ts";

/** The MESHLET_IDENTITY_* environment of a meshlet holding `files` (as `issue` in identity-cli.ts writes them). */
export const identityEnv = (files: { anchors: string; cert: string; key: string }) => ({
  MESHLET_IDENTITY_TRUST_ANCHORS: files.anchors,
  MESHLET_IDENTITY_CERT: files.cert,
  MESHLET_IDENTITY_KEY: files.key,
});

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

/** A TCP relay to 127.0.0.1:`targetPort`; `sent()` is every byte its clients sent towards the target, in order. */
export interface RecordingRelay {
  readonly port: number;
  sent(): Buffer;
  stop(): void;
}

interface RelayConn {
  upstream?: Socket<undefined>;
  /** Client bytes the upstream has not taken yet (the client is paused while there are some). */
  toUpstream: Buffer;
  /** Upstream bytes the client has not taken yet (the upstream is paused meanwhile). */
  toClient: Buffer;
  clientEnded: boolean;
}

export function startRecordingRelay(targetPort: number): RecordingRelay {
  const chunks: Buffer[] = [];
  const flushUp = (client: Socket<RelayConn>) => {
    const c = client.data;
    if (!c.upstream) return;
    const n = Math.max(0, c.upstream.write(c.toUpstream));
    c.toUpstream = c.toUpstream.subarray(n);
    if (c.toUpstream.length === 0) {
      client.resume();
      if (c.clientEnded) c.upstream.end();
    }
  };
  const listener: TCPSocketListener<RelayConn> = Bun.listen<RelayConn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = { toUpstream: Buffer.alloc(0), toClient: Buffer.alloc(0), clientEnded: false };
        client.pause();
        void Bun.connect({
          hostname: "127.0.0.1",
          port: targetPort,
          socket: {
            open(upstream) {
              client.data.upstream = upstream;
              client.resume();
              flushUp(client);
            },
            data(upstream, data) {
              const n = Math.max(0, client.write(data));
              if (n < data.length) {
                client.data.toClient = Buffer.concat([client.data.toClient, data.subarray(n)]);
                upstream.pause();
              }
            },
            drain() {
              flushUp(client);
            },
            close() {
              client.end();
            },
          },
        }).catch(() => client.end());
      },
      data(client, data) {
        chunks.push(Buffer.from(data));
        client.data.toUpstream = Buffer.concat([client.data.toUpstream, data]);
        client.pause();
        flushUp(client);
      },
      drain(client) {
        const c = client.data;
        const n = Math.max(0, client.write(c.toClient));
        c.toClient = c.toClient.subarray(n);
        if (c.toClient.length === 0) c.upstream?.resume();
      },
      end(client) {
        client.data.clientEnded = true;
        flushUp(client);
      },
      close(client) {
        client.data.upstream?.end();
      },
    },
  });
  return { port: listener.port, sent: () => Buffer.concat(chunks), stop: () => listener.stop(true) };
}
