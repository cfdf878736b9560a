// detectPlaintextProtocol on the plaintext inside mTLS: the HTTP/2 preface (14 bytes decide), an HTTP/1
// request line, opaque otherwise; need_more only while a prefix could still become HTTP.
import { describe, expect, test } from "bun:test";
import { DETECT_BUDGET_BYTES, detectPlaintextProtocol } from "../../../src/inbound/plaintext-protocol.ts";

const detect = (text: string, final = false) => detectPlaintextProtocol(Buffer.from(text, "latin1"), final);

describe("detectPlaintextProtocol", () => {
  test("HTTP/2 prior knowledge: the preface, decided on its first 14 bytes", () => {
    expect(detect("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")).toBe("http2");
    expect(detect("PRI * HTTP/2.0")).toBe("http2");
    expect(detect("PRI * HTTP/2")).toBe("need_more");
    expect(detect("PRI * HTTP/2", true)).toBe("opaque");
  });

  test("HTTP/1: a request line, whole or still arriving", () => {
    expect(detect("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).toBe("http1");
    expect(detect("POST /x?y=1 HTTP/1.0\n")).toBe("http1");
    expect(detect("M-SEARCH * HTTP/1.1\r\n")).toBe("http1");
    expect(detect("GET /slow")).toBe("need_more");
    expect(detect("GET")).toBe("need_more");
    expect(detect("GET /slow", true)).toBe("opaque");
  });

  test("anything else is opaque", () => {
    expect(detect("\x00\x01binary")).toBe("opaque");
    expect(detect("*1\r\n$4\r\nPING\r\n")).toBe("opaque"); // redis
    expect(detect("GET / HTTP/2.0\r\n")).toBe("opaque");
    expect(detect("GET  / HTTP/1.1\r\n")).toBe("opaque");
    expect(detect(" GET")).toBe("opaque");
    expect(detect("GET /\x01")).toBe("opaque");
    expect(detect("", true)).toBe("opaque");
    expect(detect("")).toBe("need_more");
  });

  test("a line longer than the budget is opaque", () => {
    expect(detect(`GET /${"a".repeat(DETECT_BUDGET_BYTES)}`)).toBe("opaque");
  });
});
