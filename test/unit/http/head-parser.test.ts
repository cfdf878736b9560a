// Table-driven tests of the request/response head parser: valid heads at every prefix length,
// RFC 9112 rejections (bare LF, obs-fold, framing conflicts), limits, and response heads.
import { describe, expect, test } from "bun:test";
import { ProxyError } from "../../../src/errors/proxy-error.ts";
import * as codes from "../../../src/errors/codes.ts";
import {
  TARGET_ABSOLUTE,
  TARGET_AUTHORITY,
  TARGET_ORIGIN,
  UPGRADE_H2C,
  UPGRADE_OTHER,
  parseRequestHead,
  parseResponseHead,
  type RequestHead,
} from "../../../src/http/head-parser.ts";

const LIMITS = { maxHeadBytes: 65536, maxHeaders: 100 };
const b = (s: string): Buffer => Buffer.from(s, "latin1");

function req(s: string, limits = LIMITS): RequestHead | ProxyError | null {
  return parseRequestHead(b(s), 0, limits);
}

function ok(s: string): RequestHead {
  const r = req(s);
  if (r === null || r instanceof ProxyError) throw new Error(`expected a head for ${JSON.stringify(s)}, got ${r === null ? "null" : r.message}`);
  return r;
}

describe("request heads: valid", () => {
  const cases: Array<[string, string, Partial<RequestHead>]> = [
    ["simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { method: "GET", minorVersion: 1, contentLength: -1, chunked: false, isHead: false }],
    ["HTTP/1.0 without host", "GET /x HTTP/1.0\r\n\r\n", { minorVersion: 0, hostCount: 0 }],
    ["content-length", "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", { method: "POST", contentLength: 12 }],
    ["identical CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", { contentLength: 5 }],
    ["duplicate identical CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", { contentLength: 5 }],
    ["chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n", { chunked: true, hasTransferEncoding: true }],
    ["connection tokens", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Foo\r\n\r\n", { connectionClose: true, connectionOther: true }],
    ["keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", { connectionKeepAlive: true }],
    ["websocket upgrade", "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", { connectionUpgrade: true, upgrade: UPGRADE_OTHER }],
    ["h2c upgrade", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAA\r\n\r\n", { upgrade: UPGRADE_H2C }],
    ["expect", "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", { expectContinue: true, method: "PUT" }],
    ["HEAD", "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", { isHead: true }],
    ["absolute-form", "GET http://example.com:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n", { targetForm: TARGET_ABSOLUTE }],
    ["absolute-form without host", "GET http://example.com HTTP/1.1\r\n\r\n", { targetForm: TARGET_ABSOLUTE }],
    ["CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", { isConnect: true, targetForm: TARGET_AUTHORITY }],
    ["OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", { method: "OPTIONS" }],
    ["leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", { method: "GET", targetForm: TARGET_ORIGIN }],
    ["OWS trimmed, empty value", "GET / HTTP/1.1\r\nHost:  a \t\r\nX-Empty:\r\n\r\n", { fieldCount: 2 }],
    ["obs-text value", "GET / HTTP/1.1\r\nHost: a\r\nX-T: caf\xe9\r\n\r\n", { fieldCount: 2 }],
    ["custom method", "PURGE /c HTTP/1.1\r\nHost: a\r\n\r\n", { method: "PURGE" }],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => {
      const head = ok(text);
      for (const [k, v] of Object.entries(expected)) expect(head[k as keyof RequestHead]).toBe(v as never);
      expect(head.end).toBe(text.length);
    });
  }

  test("every strict prefix of every valid head is incomplete", () => {
    for (const [, text] of cases) {
      for (let i = 0; i < text.length; i++) expect(req(text.slice(0, i))).toBeNull();
    }
  });

  test("fields are byte offsets; header() and host() decode on demand", () => {
    const head = ok("GET /a?b HTTP/1.1\r\nHost: svc.ns:80\r\nX-Trace:  abc \r\n\r\n");
    expect(head.host()).toBe("svc.ns:80");
    expect(head.header("x-trace")).toBe("abc");
    expect(head.header("missing")).toBeUndefined();
    expect(head.target()).toBe("/a?b");
  });

  test("parses from an offset and stops at the head's end (pipelining)", () => {
    const two = b("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    const first = parseRequestHead(two, 0, LIMITS) as RequestHead;
    const second = parseRequestHead(two, first.end, LIMITS) as RequestHead;
    expect(second.target()).toBe("/2");
    expect(second.end).toBe(two.length);
  });
});

describe("request heads: rejected", () => {
  const cases: Array<[string, string, string]> = [
    ["bare LF line ending", "GET / HTTP/1.1\nHost: a\n\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["bare LF in a field", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["bare CR", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["empty name", "GET / HTTP/1.1\r\n: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["NUL in value", "GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["HTTP/2.0 version → 505", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_VERSION_NOT_SUPPORTED],
    ["HTTP/1.2 version → 505", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_VERSION_NOT_SUPPORTED],
    ["HTTP/0.9 version → 505", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_VERSION_NOT_SUPPORTED],
    ["HTTP/3.0 version → 505", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_VERSION_NOT_SUPPORTED],
    ["garbage version", "GET / HTTX/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["version letters", "GET / HTTP/x.y\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["NUL in target", "GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["ESC in target", "GET /a\x1bb HTTP/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["TAB in target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["DEL in target", "GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["target starting with a control", "GET \x01/ HTTP/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["missing host on 1.1", "GET / HTTP/1.1\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["bad target", "GET nope HTTP/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["CONNECT with origin-form", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["CONNECT without port", "CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["CONNECT on 1.0", "CONNECT a:1 HTTP/1.0\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["asterisk for GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["userinfo in absolute-form", "GET http://u@h/ HTTP/1.1\r\n\r\n", codes.PXY_ERR_HTTP_MALFORMED_REQUEST],
    ["CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["differing CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["differing CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["signed CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["hex CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["huge CL", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["unknown coding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["gzip then chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["chunked not last", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["obsolete 'identity'", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["TE with junk chars", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
    ["TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", codes.PXY_ERR_HTTP_REQUEST_FRAMING],
  ];
  for (const [name, text, code] of cases) {
    test(name, () => {
      const r = req(text);
      expect(r).toBeInstanceOf(ProxyError);
      expect((r as ProxyError).code).toBe(code as never);
    });
  }

  test("the error names the control character and the refused version", () => {
    expect((req("GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n") as ProxyError).message).toBe("control character 0x00 in request target");
    expect((req("GET / HTTP/2.0\r\nHost: a\r\n\r\n") as ProxyError).message).toBe("http version HTTP/2.0 is not supported");
  });

  test("a head beyond maxHeadBytes → 431 code, complete or not", () => {
    const big = `GET / HTTP/1.1\r\nHost: a\r\nX: ${"a".repeat(200)}\r\n\r\n`;
    const small = { maxHeadBytes: 100, maxHeaders: 100 };
    expect((req(big, small) as ProxyError).code).toBe(codes.PXY_ERR_HTTP_HEAD_TOO_LARGE);
    expect((req(big.slice(0, 150), small) as ProxyError).code).toBe(codes.PXY_ERR_HTTP_HEAD_TOO_LARGE);
  });

  test("more than maxHeaders fields → 431 code", () => {
    const fields = Array.from({ length: 101 }, (_, i) => `X-${i}: v\r\n`).join("");
    expect((req(`GET / HTTP/1.1\r\nHost: a\r\n${fields}\r\n`) as ProxyError).code).toBe(codes.PXY_ERR_HTTP_TOO_MANY_HEADERS);
    const fine = Array.from({ length: 99 }, (_, i) => `X-${i}: v\r\n`).join("");
    expect(req(`GET / HTTP/1.1\r\nHost: a\r\n${fine}\r\n`)).not.toBeInstanceOf(ProxyError);
  });
});

describe("response heads", () => {
  test("status, framing and connection facts", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    const r = parseResponseHead(b(text), 0, LIMITS);
    if (r === null || r instanceof ProxyError) throw new Error("expected head");
    expect(r.status).toBe(200);
    expect(r.contentLength).toBe(5);
    expect(r.connectionClose).toBe(true);
    expect(r.end).toBe(text.length - 5);
  });

  test("empty reason phrase, chunked after gzip", () => {
    const r = parseResponseHead(b("HTTP/1.1 204\r\n\r\n"), 0, LIMITS);
    expect(r).not.toBeInstanceOf(ProxyError);
    const g = parseResponseHead(b("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 0, LIMITS);
    expect(g && !(g instanceof ProxyError) && g.chunked).toBe(true);
  });

  test("every strict prefix is incomplete", () => {
    const text = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nX: y\r\n\r\n";
    for (let i = 0; i < text.length; i++) expect(parseResponseHead(b(text.slice(0, i)), 0, LIMITS)).toBeNull();
  });

  test("garbage, bad status codes and CL+TE are upstream protocol errors", () => {
    for (const text of ["SSH-2.0-OpenSSH_9\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 200 OK\nX: y\n\n"]) {
      const r = parseResponseHead(b(text), 0, LIMITS);
      expect(r).toBeInstanceOf(ProxyError);
      expect((r as ProxyError).code).toBe(codes.PXY_ERR_HTTP_UPSTREAM_PROTOCOL);
    }
  });
});
