// Randomized robustness of the HTTP/1 parsers (a seeded PRNG, so failures reproduce): mutated valid
// request heads, response heads and chunked bodies never throw, and whatever they accept is sane.
import { expect, test } from "bun:test";

import { ProxyError } from "../../../src/errors/proxy-error.ts";
import { CHUNKED_ERROR, CHUNKED_NEED_MORE, ChunkedDecoder } from "../../../src/http/chunked-decoder.ts";
import { parseRequestHead, parseResponseHead } from "../../../src/http/head-parser.ts";
import { prng } from "../../support/prng.ts";

const LIMITS = { maxHeadBytes: 65536, maxHeaders: 100 };
const ITERATIONS = 20_000;


const INTERESTING = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x3a, 0x2c, 0x7f, 0x80, 0xff, 0x30, 0x66];

function mutate(seed: Buffer, next: () => number): Buffer {
  const out = Buffer.from(seed);
  const edits = 1 + (next() % 4);
  let bytes = out;
  for (let e = 0; e < edits; e++) {
    const at = next() % Math.max(1, bytes.length);
    switch (next() % 4) {
      case 0: // overwrite with an interesting byte
        bytes[at] = INTERESTING[next() % INTERESTING.length]!;
        break;
      case 1: // random byte
        bytes[at] = next() & 0xff;
        break;
      case 2: // delete a run
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + (next() % 8)))]);
        break;
      default: // duplicate a run
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + 1 + (next() % 16)), bytes.subarray(at)]);
    }
  }
  return bytes;
}

const REQUESTS = [
  "GET /a/b?c=d HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\n\r\n",
  "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
  "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n",
  "GET http://example.test:8080/abs HTTP/1.1\r\nHost: example.test:8080\r\n\r\n",
  "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n",
  "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
].map((s) => Buffer.from(s, "latin1"));

const RESPONSES = [
  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "HTTP/1.1 204 No Content\r\n\r\n",
  "HTTP/1.0 302 Found\r\nLocation: /x\r\nConnection: close\r\n\r\n",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
].map((s) => Buffer.from(s, "latin1"));

const CHUNKED = ["5\r\nhello\r\n0\r\n\r\n", "1;ext=1\r\na\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n"].map((s) => Buffer.from(s, "latin1"));

test(`request heads: ${ITERATIONS} mutations never throw; accepted heads are well-formed`, () => {
  const next = prng(0x5eed1);
  let accepted = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(REQUESTS[i % REQUESTS.length]!, next);
    let result;
    try {
      result = parseRequestHead(input, 0, LIMITS);
    } catch (err) {
      throw new Error(`iteration ${i}: parseRequestHead threw on ${JSON.stringify(input.toString("latin1"))}: ${err}`);
    }
    if (result === null || result instanceof ProxyError) continue;
    accepted++;
    expect(result.method).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
    if (result.target().length === 0) throw new Error(`iteration ${i}: empty target accepted from ${JSON.stringify(input.toString("latin1"))}`);
    // RFC 9112 §3: no control byte or DEL ever passes in a target; only HTTP/1.0 and 1.1 are accepted.
    if (/[\x00-\x20\x7f]/.test(result.target())) throw new Error(`iteration ${i}: control byte in accepted target ${JSON.stringify(result.target())}`);
    expect(result.buf.toString("latin1", result.targetEnd + 1, result.targetEnd + 9)).toMatch(/^HTTP\/1\.[01]$/);
  }
  expect(accepted).toBeGreaterThan(0);
});

test(`response heads: ${ITERATIONS} mutations never throw`, () => {
  const next = prng(0x5eed2);
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(RESPONSES[i % RESPONSES.length]!, next);
    try {
      const result = parseResponseHead(input, 0, LIMITS);
      if (result !== null && !(result instanceof ProxyError)) {
        expect(result.status).toBeGreaterThanOrEqual(100);
        expect(result.status).toBeLessThanOrEqual(999);
      }
    } catch (err) {
      if (err instanceof Error && err.name === "AssertionError") throw err;
      throw new Error(`iteration ${i}: parseResponseHead threw on ${JSON.stringify(input.toString("latin1"))}: ${err}`);
    }
  }
});

test(`chunked bodies: ${ITERATIONS} mutations fed in random splits never throw or overrun`, () => {
  const next = prng(0x5eed3);
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(CHUNKED[i % CHUNKED.length]!, next);
    let data = 0;
    const decoder = new ChunkedDecoder({ onChunkData: (_b, s, e) => (data += e - s) });
    let pos = 0;
    while (pos < input.length) {
      const end = Math.min(input.length, pos + 1 + (next() % 7));
      const r = decoder.feed(input, pos, end);
      if (r === CHUNKED_ERROR) break;
      if (r !== CHUNKED_NEED_MORE) {
        expect(r).toBeGreaterThan(pos - 1);
        expect(r).toBeLessThanOrEqual(end);
        expect(decoder.done).toBe(true);
        break;
      }
      pos = end;
    }
    expect(data).toBeLessThanOrEqual(input.length);
  }
});
