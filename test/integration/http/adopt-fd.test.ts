// The front-door hand-off: a connection accepted elsewhere (node:net here, the native thread in
// production) is adopted by fd; bytes the client sent before the hand-off are still served.
import { expect, test } from "bun:test";
import { dlopen } from "bun:ffi";
import net from "node:net";
import { Registry } from "prom-client";
import { HttpMetrics } from "../../../src/metrics/http.ts";
import { parseConfig } from "../../../src/config/env.ts";
import { createHttp1Server } from "../../../src/http/server.ts";
import { http1Settings } from "../../../src/stack/http1.ts";
import { okUpstream, splitResponses } from "../../support/http-harness.ts";

const libc = dlopen("libc.so.6", { dup: { args: ["int"], returns: "int" } });

test("adoptFd serves a connection accepted by someone else, including bytes sent before adoption", async () => {
  const up = okUpstream("adopted");
  const server = createHttp1Server({ ...http1Settings(parseConfig({}), "inbound"), metrics: new HttpMetrics(new Registry()) });
  const acceptor = net.createServer({ pauseOnConnect: true }, (sock) => {
    // Wait until the request bytes sit in the kernel buffer, then hand over a duplicate of the fd.
    setTimeout(() => {
      const fd = (sock as unknown as { _handle: { fd: number } })._handle.fd;
      const adopted = libc.symbols.dup(fd);
      sock.destroy();
      server.adoptFd(adopted, { clientAddr: "127.0.0.1", clientPort: sock.remotePort ?? 0, dst: { host: "127.0.0.1", port: up.port }, direction: "inbound" });
    }, 20);
  });
  await new Promise<void>((r) => acceptor.listen(0, "127.0.0.1", () => r()));
  const port = (acceptor.address() as net.AddressInfo).port;
  try {
    const text = await new Promise<string>((resolve, reject) => {
      let got = "";
      const c = net.connect(port, "127.0.0.1", () => c.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
      c.on("data", (d) => {
        got += d.toString();
        if (splitResponses(Buffer.from(got)).length === 1) {
          c.destroy();
          resolve(got);
        }
      });
      c.on("error", reject);
      setTimeout(() => reject(new Error(`no response within 5s: ${JSON.stringify(got)}`)), 5000);
    });
    expect(splitResponses(Buffer.from(text))[0]!.body).toBe("adopted");
  } finally {
    acceptor.close();
    server.close();
    up.stop();
  }
});
