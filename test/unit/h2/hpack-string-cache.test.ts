// The decoder's literal cache: repeated literals decode to the same strings as without it, raw and
// Huffman bytes never stand for each other, and colliding or indexed literals stay correct.
import { describe, expect, test } from "bun:test";
import { HpackDecoder } from "../../../src/h2/hpack-decoder.ts";
import { huffmanEncodedBytesOfString, huffmanEncodeString } from "../../../src/h2/hpack-huffman.ts";
import { HpackStringCache } from "../../../src/h2/hpack-string-cache.ts";

/** A block of literal fields without indexing (0000), new names, Huffman-coded or raw strings. */
function literalBlock(fields: [string, string][], huffman: boolean): Uint8Array {
  const out = new Uint8Array(4096);
  let at = 0;
  const str = (s: string) => {
    if (huffman) {
      out[at++] = 0x80 | huffmanEncodedBytesOfString(s);
      at = huffmanEncodeString(s, out, at);
    } else {
      out[at++] = s.length;
      for (let i = 0; i < s.length; i++) out[at++] = s.charCodeAt(i);
    }
  };
  for (const [name, value] of fields) {
    out[at++] = 0x00;
    str(name);
    str(value);
  }
  return out.slice(0, at);
}

describe("HPACK literal cache", () => {
  test("repeated non-indexed literals decode the same every time, Huffman and raw alike", () => {
    const dec = new HpackDecoder();
    const fields: [string, string][] = [["server", "nginx/1.22.1"], ["content-type", "text/plain"], ["x-n", "1"]];
    for (let i = 0; i < 5; i++) {
      for (const huffman of [true, false]) {
        const out: string[] = [];
        dec.decode(literalBlock([...fields, ["date", `second ${i}`]], huffman), out);
        expect(out).toEqual([...fields.flat(), "date", `second ${i}`]);
      }
    }
  });

  test("a slot holds one literal: a colliding one replaces it, and neither is returned for the other", () => {
    const cache = new HpackStringCache();
    const bytes = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
    // Find two different literals that share a slot.
    const a = bytes("a-0");
    const slot = cache.slotOf(a, 0, a.length, false);
    let b = a;
    for (let i = 1; ; i++) {
      b = bytes(`a-${i}`);
      if (cache.slotOf(b, 0, b.length, false) === slot) break;
    }
    cache.set(slot, a, 0, a.length, false, "A");
    expect(cache.get(slot, a, 0, a.length, false)).toBe("A");
    expect(cache.get(slot, a, 0, a.length, true)).toBeUndefined(); // the same bytes as Huffman are another literal
    expect(cache.get(slot, b, 0, b.length, false)).toBeUndefined();
    cache.set(slot, b, 0, b.length, false, "B");
    expect(cache.get(slot, b, 0, b.length, false)).toBe("B");
    expect(cache.get(slot, a, 0, a.length, false)).toBeUndefined();
  });
});
