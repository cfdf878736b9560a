// The HPACK decoder's small cache of string literals by their encoded bytes: peers that send a field as
// a literal every time (nginx sends server, content-type and content-length with incremental indexing
// on every response instead of referring to its table) repeat the same Huffman or raw bytes, and a hit
// costs a hash and a compare instead of a Huffman decode and a new string. A miss copies ≤ 48 bytes.

/** Slots (2^7: slotOf keeps a hash's top 7 bits); direct-mapped, a colliding literal replaces the slot's entry. */
const SLOTS = 128;
/** Literals longer than this are decoded each time (long values rarely repeat byte for byte). */
export const CACHED_LITERAL_MAX_BYTES = 48;

export class HpackStringCache {
  /** Slot k's encoded bytes: keyBytes[k * CACHED_LITERAL_MAX_BYTES …] for keyLength[k] bytes (0 = empty). */
  private readonly keyBytes = new Uint8Array(SLOTS * CACHED_LITERAL_MAX_BYTES);
  private readonly keyLength = new Uint8Array(SLOTS);
  private readonly huffman = new Uint8Array(SLOTS);
  private readonly values: string[] = new Array<string>(SLOTS).fill("");

  /** The slot for b[start, end): from its length and its first and last bytes (no pass over the bytes). */
  slotOf(b: Uint8Array, start: number, end: number, huffman: boolean): number {
    return (Math.imul(end - start, 0x9e3779b1) ^ Math.imul(b[start]!, 0x85ebca6b) ^ Math.imul(b[end - 1]!, 0xc2b2ae35) ^ (huffman ? 0x5bd1e995 : 0)) >>> 25;
  }

  /** The cached string for b[start, end) (1..CACHED_LITERAL_MAX_BYTES bytes) in `slot`, or undefined. */
  get(slot: number, b: Uint8Array, start: number, end: number, huffman: boolean): string | undefined {
    if (this.keyLength[slot] !== end - start || (this.huffman[slot] === 1) !== huffman) return undefined;
    const key = this.keyBytes;
    for (let i = slot * CACHED_LITERAL_MAX_BYTES, j = start; j < end; i++, j++) if (key[i] !== b[j]) return undefined;
    return this.values[slot];
  }

  /** Stores b[start, end) (1..CACHED_LITERAL_MAX_BYTES bytes) → value in `slot`, replacing what was there. */
  set(slot: number, b: Uint8Array, start: number, end: number, huffman: boolean, value: string): void {
    const key = this.keyBytes;
    for (let i = slot * CACHED_LITERAL_MAX_BYTES, j = start; j < end; i++, j++) key[i] = b[j]!;
    this.keyLength[slot] = end - start;
    this.huffman[slot] = huffman ? 1 : 0;
    this.values[slot] = value;
  }
}
