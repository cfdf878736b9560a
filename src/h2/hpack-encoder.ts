// HPACK encoder (RFC 7541 §6): encodes a flat [name, value, …] list into one header block. Exact
// matches in the static or dynamic table become indexed fields; other fields become literals with
// incremental indexing (if the entry fits comfortably), their names indexed when known; sensitive
// fields (credentials and cookies, and those a caller names per block — e.g. the ones the peer sent so,
// RFC 7541 §7.1.3) are always never-indexed literals. Strings are
// Huffman-coded when that is shorter. A table size change from the peer is signalled at the start of
// the next block.
import { DynamicTable, ENTRY_OVERHEAD_BYTES } from "./hpack-dynamic-table.ts";
import { huffmanEncodedBytesOfString, huffmanEncodeString } from "./hpack-huffman.ts";
import { STATIC_ENTRIES, staticFieldIndex, staticNameIndex } from "./hpack-static-table.ts";

/** Field names whose values are never put in a compression table (here or by any intermediary). */
export const SENSITIVE_HEADER_NAMES: ReadonlySet<string> = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);

export class HpackEncoder {
  private readonly table: DynamicTable;
  /** Smallest and final sizes to announce at the start of the next block (RFC 7541 §4.2), -1 for none. */
  private pendingMinBytes = -1;
  private pendingFinalBytes = -1;
  private buf = Buffer.allocUnsafe(4096);
  private at = 0;
  /** This block's names to send never-indexed besides SENSITIVE_HEADER_NAMES (null: none). */
  private neverIndexed: readonly string[] | null = null;

  /** @param maxTableBytes our own cap on the table, whatever larger size the peer allows */
  constructor(private readonly maxTableBytes = 4096) {
    this.table = new DynamicTable(Math.min(4096, maxTableBytes), true);
  }

  get tableBytes(): number {
    return this.table.sizeBytes;
  }

  /** Applies the peer's SETTINGS_HEADER_TABLE_SIZE (capped by ours). */
  setPeerMaxTableBytes(bytes: number): void {
    const size = Math.min(bytes, this.maxTableBytes);
    if (size === this.table.maxSizeBytes && this.pendingFinalBytes < 0) return;
    this.pendingMinBytes = this.pendingMinBytes < 0 ? size : Math.min(this.pendingMinBytes, size);
    this.pendingFinalBytes = size;
    this.table.resize(size);
  }

  /**
   * Encodes one header block (a flat [name, value, …] list) and returns its own copy of the bytes.
   * `neverIndexed`: names sent as never-indexed literals in this block (a proxy passes on what the
   * decoder reported for the block it forwards).
   */
  encode(headers: readonly string[], neverIndexed: readonly string[] | null = null): Buffer {
    const view = this.encodeView(headers, neverIndexed);
    return Buffer.copyBytesFrom(view); // (Buffer.from(buffer) costs ~20× more in Bun)
  }

  /** As encode(), but the bytes are a view of the encoder's buffer, valid only until the next encode. */
  encodeView(headers: readonly string[], neverIndexed: readonly string[] | null = null): Uint8Array {
    return this.buf.subarray(0, this.encodeBlock(headers, neverIndexed));
  }

  /**
   * As encode(), without making a view: returns the block's length; the bytes are `blockBuffer[0, length)`,
   * valid only until the next encode (a session copies them straight into its frame output).
   */
  encodeBlock(headers: readonly string[], neverIndexed: readonly string[] | null = null): number {
    this.at = 0;
    this.neverIndexed = neverIndexed;
    if (this.pendingFinalBytes >= 0) {
      if (this.pendingMinBytes < this.pendingFinalBytes) this.integer(this.pendingMinBytes, 5, 0x20);
      this.integer(this.pendingFinalBytes, 5, 0x20);
      this.pendingMinBytes = this.pendingFinalBytes = -1;
    }
    for (let i = 0; i + 1 < headers.length; i += 2) this.field(headers[i]!, headers[i + 1]!);
    return this.at;
  }

  /** The buffer the last encodeBlock() wrote into (replaced when a block outgrows it). */
  get blockBuffer(): Uint8Array {
    return this.buf;
  }

  private field(name: string, value: string): void {
    const table = this.table;
    if (SENSITIVE_HEADER_NAMES.has(name) || (this.neverIndexed !== null && this.neverIndexed.includes(name))) {
      this.literal(this.nameIndex(name), name, value, 4, 0x10);
      return;
    }
    const exact = staticFieldIndex(name, value) || this.dynamicField(name, value);
    if (exact > 0) {
      this.integer(exact, 7, 0x80);
      return;
    }
    const nameIndex = this.nameIndex(name);
    const size = name.length + value.length + ENTRY_OVERHEAD_BYTES;
    if (size <= (table.maxSizeBytes * 3) / 4) {
      this.literal(nameIndex, name, value, 6, 0x40);
      table.add(name, value);
    } else {
      this.literal(nameIndex, name, value, 4, 0x00);
    }
  }

  private dynamicField(name: string, value: string): number {
    const d = this.table.fieldIndex(name, value);
    return d > 0 ? STATIC_ENTRIES + d : 0;
  }

  private nameIndex(name: string): number {
    const s = staticNameIndex(name);
    if (s > 0) return s;
    const d = this.table.nameIndex(name);
    return d > 0 ? STATIC_ENTRIES + d : 0;
  }

  private literal(nameIndex: number, name: string, value: string, prefixBits: number, pattern: number): void {
    this.integer(nameIndex, prefixBits, pattern);
    if (nameIndex === 0) this.string(name);
    this.string(value);
  }

  private ensure(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  /** RFC 7541 §5.1 integer with an N-bit prefix, OR-ed into the first octet's pattern bits. */
  private integer(value: number, prefixBits: number, pattern: number): void {
    this.ensure(6);
    const max = (1 << prefixBits) - 1;
    if (value < max) {
      this.buf[this.at++] = pattern | value;
      return;
    }
    this.buf[this.at++] = pattern | max;
    value -= max;
    while (value >= 128) {
      this.buf[this.at++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.at++] = value;
  }

  /** RFC 7541 §5.2 string literal, Huffman-coded unless that is longer (ties go to Huffman, as in RFC 7541 C.6). */
  private string(s: string): void {
    const n = s.length;
    const huffmanBytes = huffmanEncodedBytesOfString(s);
    if (huffmanBytes <= n) {
      this.integer(huffmanBytes, 7, 0x80);
      this.ensure(huffmanBytes);
      this.at = huffmanEncodeString(s, this.buf, this.at);
    } else {
      this.integer(n, 7, 0);
      this.ensure(n);
      const buf = this.buf;
      let at = this.at;
      for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
      this.at = at;
    }
  }

}
