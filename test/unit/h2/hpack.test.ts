// HPACK (RFC 7541): every Appendix C example decoded (fields, dynamic table size), the encoder's
// output byte-exact where the RFC's choices match ours, Huffman vectors and round trips, and each
// decoding error a COMPRESSION_ERROR.
import { describe, expect, test } from "bun:test";

import { H2_ERROR, H2Error } from "../../../src/h2/errors.ts";
import { HpackDecoder } from "../../../src/h2/hpack-decoder.ts";
import { HpackEncoder } from "../../../src/h2/hpack-encoder.ts";
import { huffmanCode, huffmanDecode, huffmanEncode, huffmanEncodedBytes } from "../../../src/h2/hpack-huffman.ts";
import { prng } from "../../support/prng.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

function decodeAll(d: HpackDecoder, block: Uint8Array): string[] {
  const out: string[] = [];
  d.decode(block, out);
  return out;
}

function compressionError(fn: () => unknown): H2Error {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(H2Error);
    expect((err as H2Error).code).toBe(H2_ERROR.COMPRESSION_ERROR);
    expect((err as H2Error).scope).toBe("connection");
    return err as H2Error;
  }
  throw new Error("expected a COMPRESSION_ERROR");
}

describe("RFC 7541 C.2 header field representations", () => {
  test("C.2.1 literal with indexing", () => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))).toEqual(["custom-key", "custom-header"]);
    expect(d.tableBytes).toBe(55);
  });
  test("C.2.2 literal without indexing", () => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex("040c 2f73 616d 706c 652f 7061 7468"))).toEqual([":path", "/sample/path"]);
    expect(d.tableBytes).toBe(0);
  });
  test("C.2.3 literal never indexed (reported as such)", () => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex("1008 7061 7373 776f 7264 0673 6563 7265 74"))).toEqual(["password", "secret"]);
    expect(d.tableBytes).toBe(0);
    expect(d.neverIndexed).toEqual(["password"]);
  });
  test("C.2.4 indexed field", () => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex("82"))).toEqual([":method", "GET"]);
  });
});

const REQUESTS = [
  [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com"],
  [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "www.example.com", "cache-control", "no-cache"],
  [":method", "GET", ":scheme", "https", ":path", "/index.html", ":authority", "www.example.com", "custom-key", "custom-value"],
];
const REQUEST_TABLE_BYTES = [57, 110, 164];

const RESPONSES = [
  [":status", "302", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com"],
  [":status", "307", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:21 GMT", "location", "https://www.example.com"],
  [
    ":status", "200", "cache-control", "private", "date", "Mon, 21 Oct 2013 20:13:22 GMT", "location", "https://www.example.com",
    "content-encoding", "gzip", "set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
  ],
];
const RESPONSE_TABLE_BYTES = [222, 222, 215];

const C3 = ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", "8286 84be 5808 6e6f 2d63 6163 6865", "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"];
const C4 = ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", "8286 84be 5886 a8eb 1064 9cbf", "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"];
const C5 = [
  "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
  "4803 3330 37c1 c0bf",
  "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
];
const C6 = [
  "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
  "4883 640e ffc1 c0bf",
  "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
];

describe("RFC 7541 C.3–C.6 sequences on one connection", () => {
  const cases: Array<[string, string[], string[][], number[], number]> = [
    ["C.3 requests without Huffman", C3, REQUESTS, REQUEST_TABLE_BYTES, 4096],
    ["C.4 requests with Huffman", C4, REQUESTS, REQUEST_TABLE_BYTES, 4096],
    ["C.5 responses without Huffman (256-byte table, evictions)", C5, RESPONSES, RESPONSE_TABLE_BYTES, 256],
    ["C.6 responses with Huffman (256-byte table, evictions)", C6, RESPONSES, RESPONSE_TABLE_BYTES, 256],
  ];
  for (const [name, blocks, lists, sizes, tableBytes] of cases) {
    test(`${name}: decoded fields and table size after each block`, () => {
      const d = new HpackDecoder(tableBytes);
      blocks.forEach((block, i) => {
        expect(decodeAll(d, hex(block))).toEqual(lists[i]!);
        expect(d.tableBytes).toBe(sizes[i]!);
      });
    });
  }

  test("C.4 encoded byte-exact by our encoder (Huffman where shorter, incremental indexing)", () => {
    const e = new HpackEncoder();
    REQUESTS.forEach((list, i) => expect(e.encode(list).toString("hex")).toBe(hex(C4[i]!).toString("hex")));
    expect(e.tableBytes).toBe(164);
  });

  test("C.6.1–C.6.2 encoded byte-exact with a 256-byte table; C.6.3 differs only by never-indexing set-cookie", () => {
    const e = new HpackEncoder(256);
    expect(e.encode(RESPONSES[0]!).toString("hex")).toBe(hex(C6[0]!).toString("hex"));
    expect(e.encode(RESPONSES[1]!).toString("hex")).toBe(hex(C6[1]!).toString("hex"));
    const third = e.encode(RESPONSES[2]!);
    const d = new HpackDecoder(256);
    decodeAll(d, hex(C6[0]!));
    decodeAll(d, hex(C6[1]!));
    expect(decodeAll(d, third)).toEqual(RESPONSES[2]!);
    expect(d.neverIndexed).toEqual(["set-cookie"]);
  });
});

describe("Huffman", () => {
  test("codes derived from the lengths match RFC 7541 Appendix B samples", () => {
    expect(huffmanCode(0)).toEqual({ code: 0x1ff8, bits: 13 });
    expect(huffmanCode(0x30)).toEqual({ code: 0x0, bits: 5 }); // '0'
    expect(huffmanCode(0x20)).toEqual({ code: 0x14, bits: 6 }); // ' '
    expect(huffmanCode(0x7f)).toEqual({ code: 0xffffffc, bits: 28 });
    expect(huffmanCode(10)).toEqual({ code: 0x3ffffffc, bits: 30 });
    expect(huffmanCode(255)).toEqual({ code: 0x3ffffee, bits: 26 });
    expect(huffmanCode(256)).toEqual({ code: 0x3fffffff, bits: 30 }); // EOS
  });

  test("RFC strings encode and decode", () => {
    const vectors: Array<[string, string]> = [
      ["www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"],
      ["no-cache", "a8eb 1064 9cbf"],
      ["custom-key", "25a8 49e9 5ba9 7d7f"],
      ["302", "6402"],
      ["Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"],
    ];
    for (const [text, code] of vectors) {
      const raw = Buffer.from(text, "latin1");
      const out = new Uint8Array(64);
      const end = huffmanEncode(raw, 0, raw.length, out, 0);
      expect(Buffer.from(out.subarray(0, end)).toString("hex")).toBe(hex(code).toString("hex"));
      expect(huffmanEncodedBytes(raw)).toBe(end);
      const bytes = hex(code);
      expect(huffmanDecode(bytes, 0, bytes.length)).toBe(text);
    }
  });

  test("every octet value round-trips (seeded random strings)", () => {
    const next = prng(0x40ff);
    for (let i = 0; i < 500; i++) {
      const raw = Buffer.alloc(next() % 200);
      for (let j = 0; j < raw.length; j++) raw[j] = next() & 0xff;
      const out = new Uint8Array(raw.length * 4 + 1);
      const end = huffmanEncode(raw, 0, raw.length, out, 0);
      expect(huffmanDecode(out, 0, end)).toBe(raw.toString("latin1"));
    }
  });

  test("EOS inside a string, padding longer than 7 bits and padding that is not all ones are refused", () => {
    compressionError(() => huffmanDecode(hex("ffffffff"), 0, 4)); // 30 one-bits = EOS
    compressionError(() => huffmanDecode(hex("ff"), 0, 1)); // 8 bits of padding
    compressionError(() => huffmanDecode(hex("00"), 0, 1)); // '0' (00000) then padding 000
  });
});

describe("decoder bounds and errors", () => {
  test("index 0, and an index beyond both tables", () => {
    compressionError(() => decodeAll(new HpackDecoder(), hex("80")));
    compressionError(() => decodeAll(new HpackDecoder(), hex("be")));
    compressionError(() => decodeAll(new HpackDecoder(), hex("7f00 0161"))); // literal, name index 63+0 = 63 > 62
  });

  test("size update above the advertised maximum, and after a field", () => {
    compressionError(() => decodeAll(new HpackDecoder(4096), hex("3fe2 1f"))); // 4097
    compressionError(() => decodeAll(new HpackDecoder(4096), hex("82 20")));
    const d = new HpackDecoder(4096);
    expect(decodeAll(d, hex("20 3fe1 1f 82"))).toEqual([":method", "GET"]); // 0 then 4096, then a field
  });

  test("size update evicts; a field larger than the table empties it", () => {
    const d = new HpackDecoder(4096);
    decodeAll(d, hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    expect(d.tableBytes).toBe(55);
    decodeAll(d, hex("3f11")); // size 48 < 55
    expect(d.tableBytes).toBe(0);
    compressionError(() => decodeAll(d, hex("be")));
  });

  test("truncated integers and strings, integer overflow", () => {
    compressionError(() => decodeAll(new HpackDecoder(), hex("ff")));
    compressionError(() => decodeAll(new HpackDecoder(), hex("ff ff ff ff ff 7f")));
    compressionError(() => decodeAll(new HpackDecoder(), hex("400a 6375")));
    compressionError(() => decodeAll(new HpackDecoder(), hex("40")));
  });

  test("a list over maxHeaderListBytes is flagged, not kept, and the table still follows", () => {
    const d = new HpackDecoder(4096, 100);
    const out: string[] = [];
    const big = new HpackEncoder().encode(["x-a", "a".repeat(40), "x-b", "b".repeat(40)]);
    const r = d.decode(big, out);
    expect(r.tooLarge).toBe(true);
    expect(out).toEqual(["x-a", "a".repeat(40)]);
    expect(d.tableBytes).toBe(3 + 40 + 32 + 3 + 40 + 32);
  });
});

describe("encoder", () => {
  test("sensitive fields are never-indexed literals and stay out of the table", () => {
    const e = new HpackEncoder();
    const block = e.encode(["authorization", "Bearer abc", "cookie", "a=b", "x-plain", "v"]);
    const d = new HpackDecoder();
    expect(decodeAll(d, block)).toEqual(["authorization", "Bearer abc", "cookie", "a=b", "x-plain", "v"]);
    expect(d.neverIndexed).toEqual(["authorization", "cookie"]);
    expect(e.tableBytes).toBe("x-plain".length + 1 + 32);
  });

  test("names given per block are never-indexed in that block only; the decoder reports them", () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    const list = ["x-api-key", "k1", "x-plain", "v"];
    expect(decodeAll(d, e.encode(list, ["x-api-key"]))).toEqual(list);
    expect(d.neverIndexed).toEqual(["x-api-key"]);
    expect(e.tableBytes).toBe("x-plain".length + 1 + 32); // the secret stayed out of the table
    // The next block without the list indexes it normally.
    expect(decodeAll(d, e.encode(list))).toEqual(list);
    expect(d.neverIndexed).toEqual([]);
    expect(e.tableBytes).toBe("x-plain".length + 1 + 32 + "x-api-key".length + 2 + 32);
  });

  test("a table size change from the peer is announced at the next block, and both tables agree", () => {
    const e = new HpackEncoder();
    const d = new HpackDecoder(4096);
    decodeAll(d, e.encode(["x-one", "1", "x-two", "2"]));
    e.setPeerMaxTableBytes(0);
    e.setPeerMaxTableBytes(64);
    const block = e.encode(["x-three", "3"]);
    expect(block[0]).toBe(0x20); // size update to 0 (the smallest) first
    expect(decodeAll(d, block)).toEqual(["x-three", "3"]);
    expect(d.tableBytes).toBe(e.tableBytes);
  });

  test("round trips of many lists through one encoder/decoder pair keep the tables identical", () => {
    const next = prng(0xc0de);
    const e = new HpackEncoder();
    const d = new HpackDecoder();
    const names = [":path", "content-type", "x-trace", "grpc-timeout", "user-agent", "x-r"];
    for (let i = 0; i < 2000; i++) {
      const list: string[] = [":method", next() % 2 ? "POST" : "GET"];
      for (let k = next() % 6; k > 0; k--) list.push(names[next() % names.length]!, `v${next() % 50}${"z".repeat(next() % 30)}`);
      expect(decodeAll(d, e.encode(list))).toEqual(list);
      expect(d.tableBytes).toBe(e.tableBytes);
    }
  });
});
