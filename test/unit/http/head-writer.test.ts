// The forwarded heads: HTTP/1.1 start lines, hop-by-hop fields gone (including those Connection names),
// absolute-form rewritten to origin-form + Host, upgrades kept, connection fields added.
import { describe, expect, test } from "bun:test";
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from "../../../src/http/head-parser.ts";
import {
  CONN_HEADER_CLOSE,
  CONN_HEADER_KEEP_ALIVE,
  CONN_HEADER_NONE,
  forwardHeadCapacity,
  writeRequestHead,
  writeResponseHead,
} from "../../../src/http/head-writer.ts";

const LIMITS = { maxHeadBytes: 65536, maxHeaders: 100 };

function fwdReq(text: string, upgrade = false, hostFallback = "up:80"): string {
  const head = parseRequestHead(Buffer.from(text, "latin1"), 0, LIMITS) as RequestHead;
  const out = Buffer.alloc(forwardHeadCapacity(head, hostFallback));
  return out.toString("latin1", 0, writeRequestHead(head, out, upgrade, hostFallback));
}

function fwdRes(text: string, conn: number, dechunk = false): string {
  const head = parseResponseHead(Buffer.from(text, "latin1"), 0, LIMITS) as ResponseHead;
  const out = Buffer.alloc(forwardHeadCapacity(head, ""));
  return out.toString("latin1", 0, writeResponseHead(head, out, 0, conn, dechunk));
}

describe("request heads sent upstream", () => {
  test("a plain request passes byte for byte", () => {
    const text = "GET /a?b=1 HTTP/1.1\r\nHost: svc\r\nX-A: 1\r\nAccept: */*\r\n\r\n";
    expect(fwdReq(text)).toBe(text);
  });
  test("hop-by-hop fields and the ones Connection names are removed", () => {
    const text =
      "GET / HTTP/1.1\r\nConnection: keep-alive, X-Hop\r\nHost: svc\r\nKeep-Alive: timeout=5\r\nX-Hop: secret\r\n" +
      "TE: trailers\r\nTrailer: X-Sum\r\nProxy-Connection: keep-alive\r\nUpgrade: websocket\r\nX-Keep: yes\r\n\r\n";
    expect(fwdReq(text)).toBe("GET / HTTP/1.1\r\nHost: svc\r\nX-Keep: yes\r\n\r\n");
  });
  test("framing fields stay (the body is relayed as framed)", () => {
    const text = "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect(fwdReq(text)).toBe(text);
  });
  test("HTTP/1.0 is forwarded as HTTP/1.1 with the destination as Host", () => {
    expect(fwdReq("GET /x HTTP/1.0\r\nConnection: keep-alive\r\nX: 1\r\n\r\n")).toBe("GET /x HTTP/1.1\r\nhost: up:80\r\nX: 1\r\n\r\n");
  });
  test("absolute-form becomes origin-form and its authority replaces Host", () => {
    expect(fwdReq("GET http://example.com:8080/p?q=1 HTTP/1.1\r\nHost: wrong\r\nX: 1\r\n\r\n")).toBe(
      "GET /p?q=1 HTTP/1.1\r\nhost: example.com:8080\r\nX: 1\r\n\r\n",
    );
    expect(fwdReq("GET http://example.com HTTP/1.1\r\n\r\n")).toBe("GET / HTTP/1.1\r\nhost: example.com\r\n\r\n");
    expect(fwdReq("GET http://example.com?x HTTP/1.1\r\n\r\n")).toBe("GET /?x HTTP/1.1\r\nhost: example.com\r\n\r\n");
  });
  test("a real upgrade keeps Upgrade and re-sends connection: upgrade", () => {
    const text = "GET /ws HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n";
    expect(fwdReq(text, true)).toBe("GET /ws HTTP/1.1\r\nHost: svc\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nconnection: upgrade\r\n\r\n");
  });
  test("h2c upgrade headers are stripped", () => {
    const text = "GET / HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n";
    expect(fwdReq(text, false)).toBe("GET / HTTP/1.1\r\nHost: svc\r\n\r\n");
  });
});

describe("response heads sent to the client", () => {
  const text = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nX: y\r\n\r\n";
  test("own version, hop-by-hop removed", () => {
    expect(fwdRes(text, CONN_HEADER_NONE)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\n");
  });
  test("connection: close / keep-alive added when needed", () => {
    expect(fwdRes(text, CONN_HEADER_CLOSE)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\nconnection: close\r\n\r\n");
    expect(fwdRes(text, CONN_HEADER_KEEP_ALIVE)).toBe("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\nconnection: keep-alive\r\n\r\n");
  });
  test("de-chunking drops Transfer-Encoding; no-field responses work", () => {
    expect(fwdRes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", CONN_HEADER_CLOSE, true)).toBe("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
    expect(fwdRes("HTTP/1.1 204 No Content\r\n\r\n", CONN_HEADER_NONE)).toBe("HTTP/1.1 204 No Content\r\n\r\n");
  });
});
