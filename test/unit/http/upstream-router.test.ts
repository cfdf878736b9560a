// Authority parsing and the default upstream choice (fixed destination, else the request authority).
import { expect, test } from "bun:test";
import { ProxyError } from "../../../src/errors/proxy-error.ts";
import type { ConnInfo, RequestCtx } from "../../../src/http/request-ctx.ts";
import { defaultRoute, parseAuthority } from "../../../src/http/upstream-router.ts";

test("parseAuthority", () => {
  expect(parseAuthority("svc.ns:8080", 80)).toEqual({ host: "svc.ns", port: 8080 });
  expect(parseAuthority("svc", 80)).toEqual({ host: "svc", port: 80 });
  expect(parseAuthority("[::1]:9", 80)).toEqual({ host: "::1", port: 9 });
  expect(parseAuthority("[::1]", 80)).toEqual({ host: "::1", port: 80 });
  for (const bad of ["", ":80", "a:x", "a:70000", "[::1", "[::1]x"]) expect(parseAuthority(bad, 80)).toBeNull();
});

test("defaultRoute", () => {
  const ctx = (method: string, authority: string | undefined) => ({ method, authority }) as RequestCtx;
  const conn = (dst: ConnInfo["dst"]): ConnInfo => ({ clientAddr: "127.0.0.1", clientPort: 1, dst, direction: "outbound" });
  expect(defaultRoute(ctx("GET", "x:1"), conn({ host: "10.0.0.1", port: 80 }))).toEqual({ host: "10.0.0.1", port: 80 });
  expect(defaultRoute(ctx("GET", "x:1"), conn(null))).toEqual({ host: "x", port: 1 });
  expect(defaultRoute(ctx("CONNECT", "x:443"), conn(null))).toEqual({ host: "x", port: 443, terminateConnect: true });
  expect(defaultRoute(ctx("GET", undefined), conn(null))).toBeInstanceOf(ProxyError);
});
