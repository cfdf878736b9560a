// The chunked body validator: valid bodies split at every byte position end exactly where they should
// and report the same data; smuggling-relevant malformations are errors (RFC 9112 §7.1).
import { describe, expect, test } from "bun:test";
import { CHUNKED_ERROR, CHUNKED_NEED_MORE, ChunkedDecoder } from "../../../src/http/chunked-decoder.ts";

const b = (s: string): Buffer => Buffer.from(s, "latin1");

function collect(): { sink: { onChunkData(buf: Buffer, s: number, e: number): void }; text: () => string } {
  let out = "";
  return { sink: { onChunkData: (buf, s, e) => (out += buf.toString("latin1", s, e)) }, text: () => out };
}

const VALID: Array<[string, string, string]> = [
  ["one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"],
  ["two chunks, hex sizes", "3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n", "abc0123456789"],
  ["uppercase hex + leading zeros", "000B\r\nhello world\r\n0000\r\n\r\n", "hello world"],
  ["extensions and BWS", "5 ;name=val;x\r\nhello\r\n0;last\r\n\r\n", "hello"],
  ["trailers", "2\r\nhi\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n", "hi"],
  ["empty body", "0\r\n\r\n", ""],
];

describe("valid chunked bodies", () => {
  for (const [name, body, data] of VALID) {
    test(`${name}: whole, then split at every position`, () => {
      const whole = collect();
      const d = new ChunkedDecoder(whole.sink);
      expect(d.feed(b(body + "NEXT"), 0, body.length + 4)).toBe(body.length);
      expect(whole.text()).toBe(data);
      for (let cut = 1; cut < body.length; cut++) {
        const c = collect();
        const split = new ChunkedDecoder(c.sink);
        expect(split.feed(b(body.slice(0, cut)), 0, cut)).toBe(CHUNKED_NEED_MORE);
        const rest = b(body.slice(cut) + "GET");
        expect(split.feed(rest, 0, rest.length)).toBe(body.length - cut);
        expect(c.text()).toBe(data);
        expect(split.done).toBe(true);
      }
    });
  }
});

describe("malformed chunked bodies", () => {
  const BAD: Array<[string, string]> = [
    ["bare LF after size", "5\nhello\r\n0\r\n\r\n"],
    ["bare LF after data", "5\r\nhello\n0\r\n\r\n"],
    ["bare LF at the end", "0\r\n\n"],
    ["bare LF in trailer", "0\r\nX: y\n\r\n"],
    ["no size", "\r\nhello\r\n0\r\n\r\n"],
    ["0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"],
    ["negative", "-5\r\nhello\r\n0\r\n\r\n"],
    ["non-hex", "5g\r\nhello\r\n0\r\n\r\n"],
    ["space inside size", "5 5\r\nhello\r\n"],
    ["data longer than size", "3\r\nhello\r\n0\r\n\r\n"],
    ["size overflow", "fffffffffffffffff\r\n"],
    ["control char in extension", "5;a=\x01\r\nhello\r\n"],
    ["obs-fold in trailer", "0\r\nX: y\r\n folded\r\n\r\n"],
  ];
  for (const [name, body] of BAD) {
    test(name, () => {
      const d = new ChunkedDecoder();
      expect(d.feed(b(body), 0, body.length)).toBe(CHUNKED_ERROR);
      expect(d.error).not.toBe("");
    });
  }
});
