// Which framing a message body has (RFC 9112 §6.3) and how BodyReader tracks it.
import { describe, expect, test } from "bun:test";
import {
  BODY_CHUNKED,
  BODY_EOF,
  BODY_LENGTH,
  BODY_NEED_MORE,
  BODY_NONE,
  BodyReader,
  requestBodyKind,
  responseBodyKind,
} from "../../../src/http/body-framing.ts";
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from "../../../src/http/head-parser.ts";

const LIMITS = { maxHeadBytes: 65536, maxHeaders: 100 };
const reqHead = (s: string) => parseRequestHead(Buffer.from(s), 0, LIMITS) as RequestHead;
const resHead = (s: string) => parseResponseHead(Buffer.from(s), 0, LIMITS) as ResponseHead;

describe("framing decisions", () => {
  const get = reqHead("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const head = reqHead("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  test("requests", () => {
    expect(requestBodyKind(get)).toBe(BODY_NONE);
    expect(requestBodyKind(reqHead("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"))).toBe(BODY_NONE);
    expect(requestBodyKind(reqHead("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n"))).toBe(BODY_LENGTH);
    expect(requestBodyKind(reqHead("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"))).toBe(BODY_CHUNKED);
  });
  const table: Array<[string, RequestHead, string, number]> = [
    ["HEAD never has a body", head, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", BODY_NONE],
    ["204", get, "HTTP/1.1 204 No Content\r\n\r\n", BODY_NONE],
    ["304 with CL", get, "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", BODY_NONE],
    ["1xx", get, "HTTP/1.1 100 Continue\r\n\r\n", BODY_NONE],
    ["chunked", get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", BODY_CHUNKED],
    ["gzip only: read to EOF", get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", BODY_EOF],
    ["CL", get, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", BODY_LENGTH],
    ["CL 0", get, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", BODY_NONE],
    ["no length: read to EOF", get, "HTTP/1.1 200 OK\r\n\r\n", BODY_EOF],
  ];
  for (const [name, req, res, kind] of table) test(`responses: ${name}`, () => expect(responseBodyKind(req, resHead(res))).toBe(kind));
});

describe("BodyReader", () => {
  test("length bodies end exactly after contentLength bytes across chunks", () => {
    const r = new BodyReader(BODY_LENGTH, 5);
    expect(r.feed(Buffer.from("abc"), 0, 3)).toBe(BODY_NEED_MORE);
    expect(r.feed(Buffer.from("deNEXT"), 0, 6)).toBe(2);
    expect(r.done).toBe(true);
  });
  test("EOF bodies end only at end of input; others are truncated there", () => {
    const eof = new BodyReader(BODY_EOF, -1);
    expect(eof.feed(Buffer.from("xyz"), 0, 3)).toBe(BODY_NEED_MORE);
    expect(eof.endOfInput()).toBe(true);
    const len = new BodyReader(BODY_LENGTH, 5);
    len.feed(Buffer.from("ab"), 0, 2);
    expect(len.endOfInput()).toBe(false);
  });
});
