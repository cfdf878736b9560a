// Never-indexed fields (RFC 7541 §7.1.3) through the whole proxy: what the client sends as a
// never-indexed literal reaches the upstream as one (read off the upstream's wire by a raw h2 server on
// this codec), and what the upstream sends so reaches the client so; ordinary fields stay indexable.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { H2Session } from "../../../src/h2/session.ts";
import { type RunningProxy, startProxy } from "../../support/proxy.ts";
import { headerValue, rawExchange } from "./raw-client.ts";

/** Never-indexed names of each request head the upstream read, by :path. */
const upstreamSaw = new Map<string, readonly string[] | null>();
let upstream: TCPSocketListener<{ session: H2Session }>;
let proxy: RunningProxy;

beforeAll(async () => {
  upstream = Bun.listen<{ session: H2Session }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket: Socket<{ session: H2Session }>) {
        const session: H2Session = new H2Session({
          role: "server",
          write: (bytes) => socket.write(bytes),
          handler: {
            onHeaders(id, headers, kind, _endStream, neverIndexed) {
              if (kind !== "request") return;
              upstreamSaw.set(headerValue(headers, ":path")!, neverIndexed);
              session.respond(id, [":status", "200", "x-session-token", "tok", "x-plain-reply", "p"], true, ["x-session-token"]);
            },
          },
        });
        socket.data = { session };
      },
      data(socket, bytes) {
        socket.data.session.receive(bytes);
      },
    },
  });
  proxy = await startProxy({ MESHLET_INBOUND_FORWARD: `127.0.0.1:${upstream.port}` });
});

afterAll(async () => {
  await proxy.stop();
  upstream.stop(true);
});

test("never-indexed request and response fields stay never-indexed on the next hop; others do not become so", async () => {
  const authority = `127.0.0.1:${proxy.inboundPort}`;
  const req = (path: string) => [":method", "GET", ":scheme", "http", ":path", path, ":authority", authority, "x-api-key", "secret", "x-plain", "v"];
  const heads = await rawExchange(proxy.inboundPort, [{ headers: req("/marked"), neverIndexed: ["x-api-key"] }, { headers: req("/unmarked") }]);

  expect(upstreamSaw.get("/marked")).toEqual(["x-api-key"]);
  expect(upstreamSaw.get("/unmarked")).toBeNull();
  expect(heads.map((h) => [h.kind, headerValue(h.headers, "x-session-token"), h.neverIndexed])).toEqual([
    ["response", "tok", ["x-session-token"]],
    ["response", "tok", ["x-session-token"]],
  ]);
});
