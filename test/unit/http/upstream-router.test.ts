// The default upstream choice (fixed destination, else the request authority, port 80 when it names none).
import { expect, test } from "bun:test";
import { ProxyError } from "../../../src/errors/proxy-error.ts";
import type { ConnInfo, RequestCtx } from "../../../src/http/request-ctx.ts";
import { defaultRoute } from "../../../src/http/upstream-router.ts";


test("defaultRoute", () => {
  const ctx = (method: string, authority: string | undefined) => ({ method, authority }) as RequestCtx;
  const conn = (dst: ConnInfo["dst"]): ConnInfo => ({ clientAddr: "127.0.0.1", clientPort: 1, dst, direction: "outbound" });
  expect(defaultRoute(ctx("GET", "x:1"), conn({ host: "10.0.0.1", port: 80 }))).toEqual({ host: "10.0.0.1", port: 80 });
  expect(defaultRoute(ctx("GET", "x:1"), conn(null))).toEqual({ host: "x", port: 1 });
  expect(defaultRoute(ctx("CONNECT", "x:443"), conn(null))).toEqual({ host: "x", port: 443, terminateConnect: true });
  expect(defaultRoute(ctx("GET", "Svc.NS."), conn(null))).toEqual({ host: "svc.ns", port: 80 });
  expect(defaultRoute(ctx("GET", "[::1]"), conn(null))).toEqual({ host: "::1", port: 80 });
  expect(defaultRoute(ctx("GET", undefined), conn(null))).toBeInstanceOf(ProxyError);
  for (const bad of [":80", "a:x", "a:70000", "a:0", "[::1", "[::1]x", "::1", "a b"]) {
    expect(defaultRoute(ctx("GET", bad), conn(null))).toBeInstanceOf(ProxyError);
  }
});
