// The HPACK decoder's small cache of string literals by their encoded bytes: peers that do not index
// a field (nginx's server, content-type, content-length…) send the same Huffman or raw bytes on every
// response, and a hit costs a hash and a compare instead of a Huffman decode and a new string.

/** Slots (a power of two); direct-mapped, a colliding literal replaces the slot's entry. */
const SLOTS = 128;
/** Literals longer than this are decoded each time (long values rarely repeat byte for byte). */
export const CACHED_LITERAL_MAX_BYTES = 48;

export class HpackStringCache {
  private readonly keys: (Uint8Array | null)[] = new Array<Uint8Array | null>(SLOTS).fill(null);
  private readonly huffman = new Uint8Array(SLOTS);
  private readonly values: string[] = new Array<string>(SLOTS).fill("");

  /** The slot for b[start, end) (with the Huffman bit, so raw and coded bytes never match each other). */
  slotOf(b: Uint8Array, start: number, end: number, huffman: boolean): number {
    let h = huffman ? 0x811c9dc5 : 0x050c5d1f;
    for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    return (h ^ (h >>> 15)) & (SLOTS - 1);
  }

  /** The cached string for b[start, end) in `slot`, or undefined. */
  get(slot: number, b: Uint8Array, start: number, end: number, huffman: boolean): string | undefined {
    const key = this.keys[slot];
    if (key === null || key === undefined || key.length !== end - start || (this.huffman[slot] === 1) !== huffman) return undefined;
    for (let i = 0, j = start; j < end; i++, j++) if (key[i] !== b[j]) return undefined;
    return this.values[slot];
  }

  set(slot: number, b: Uint8Array, start: number, end: number, huffman: boolean, value: string): void {
    this.keys[slot] = b.slice(start, end);
    this.huffman[slot] = huffman ? 1 : 0;
    this.values[slot] = value;
  }
}
