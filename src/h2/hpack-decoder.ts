// HPACK decoder (RFC 7541 §6): turns one complete header block into a flat [name, value, …] list,
// keeping the dynamic table in step with the peer's encoder. Every malformed block is a connection
// error COMPRESSION_ERROR (RFC 9113 §4.3). The decoded list is bounded: once its RFC size (name +
// value + 32 per field) passes `maxHeaderListBytes` the rest of the block is still decoded (so the
// table stays in sync) but no longer kept, and the result says so.
import { connectionError, H2_ERROR } from "./errors.ts";
import { DynamicTable, ENTRY_OVERHEAD_BYTES } from "./hpack-dynamic-table.ts";
import { huffmanDecode, latin1 } from "./hpack-huffman.ts";
import { CACHED_LITERAL_MAX_BYTES, HpackStringCache } from "./hpack-string-cache.ts";
import { STATIC_ENTRIES, STATIC_TABLE } from "./hpack-static-table.ts";

/** Integers above this are refused (no index, length or size here needs more). */
const MAX_INTEGER = 0x7fff_ffff;

export interface DecodeResult {
  /** Whether the list passed maxHeaderListBytes (it then holds only the fields before that point). */
  tooLarge: boolean;
  /** RFC 7541 size of the whole decoded list, kept or not. */
  listBytes: number;
}

export class HpackDecoder {
  private readonly table: DynamicTable;
  /** Names of the fields the last block sent as never-indexed (RFC 7541 §6.2.3); a proxy re-encodes them so (session onHeaders). */
  readonly neverIndexed: string[] = [];
  private pos = 0;
  /** Short string literals by their encoded bytes (repeated non-indexed fields decode once). */
  private readonly literals = new HpackStringCache();

  /**
   * @param maxTableBytes  the SETTINGS_HEADER_TABLE_SIZE we advertise: the bound for the peer's size updates
   * @param maxHeaderListBytes  the SETTINGS_MAX_HEADER_LIST_SIZE we advertise
   */
  constructor(
    private maxTableBytes = 4096,
    public maxHeaderListBytes = 65_536,
  ) {
    this.table = new DynamicTable(maxTableBytes);
  }

  /** Current dynamic table occupancy in octets (for tests and memory accounting). */
  get tableBytes(): number {
    return this.table.sizeBytes;
  }

  /** Decodes `block`, appending name/value pairs to `out`. Throws H2Error(COMPRESSION_ERROR). */
  decode(block: Uint8Array, out: string[]): DecodeResult {
    // No Buffer view of the block: long raw strings make their own in latin1(); short ones and cache hits need none.
    const table = this.table;
    const end = block.length;
    let listBytes = 0;
    let tooLarge = false;
    let fieldsSeen = false;
    this.pos = 0;
    if (this.neverIndexed.length > 0) this.neverIndexed.length = 0;
    while (this.pos < end) {
      const b = block[this.pos]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        // §6.1 indexed field
        const index = this.integer(block, 7);
        if (index === 0) throw connectionError(H2_ERROR.COMPRESSION_ERROR, "indexed field with index 0");
        name = this.nameAt(index);
        value = this.valueAt(index);
      } else if ((b & 0xe0) === 0x20) {
        // §6.3 dynamic table size update: only before the first field
        if (fieldsSeen) throw connectionError(H2_ERROR.COMPRESSION_ERROR, "dynamic table size update after a field");
        const size = this.integer(block, 5);
        if (size > this.maxTableBytes) throw connectionError(H2_ERROR.COMPRESSION_ERROR, `dynamic table size update to ${size} exceeds the ${this.maxTableBytes} allowed`);
        table.resize(size);
        continue;
      } else {
        // §6.2 literals: with incremental indexing (01), without (0000), never indexed (0001)
        const indexing = (b & 0xc0) === 0x40;
        const index = this.integer(block, indexing ? 6 : 4);
        name = index === 0 ? this.string(block) : this.nameAt(index);
        value = this.string(block);
        if (indexing) table.add(name, value);
        else if (b & 0x10) this.neverIndexed.push(name);
      }
      fieldsSeen = true;
      listBytes += name.length + value.length + ENTRY_OVERHEAD_BYTES;
      if (listBytes > this.maxHeaderListBytes) tooLarge = true;
      else out.push(name, value);
    }
    return { tooLarge, listBytes };
  }

  /** Changes the bound we advertise for the table (takes effect for the peer's next size update). */
  setMaxTableBytes(bytes: number): void {
    this.maxTableBytes = bytes;
    if (this.table.maxSizeBytes > bytes) this.table.resize(bytes);
  }

  private nameAt(index: number): string {
    if (index <= STATIC_ENTRIES) return STATIC_TABLE[index - 1]![0];
    const d = index - STATIC_ENTRIES;
    if (d > this.table.length) throw connectionError(H2_ERROR.COMPRESSION_ERROR, `index ${index} beyond the tables`);
    return this.table.name(d);
  }

  private valueAt(index: number): string {
    if (index <= STATIC_ENTRIES) return STATIC_TABLE[index - 1]![1];
    return this.table.value(index - STATIC_ENTRIES);
  }

  /** RFC 7541 §5.1 integer with an N-bit prefix starting at this.pos. */
  private integer(b: Uint8Array, prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    let value = b[this.pos++]! & max;
    if (value < max) return value;
    let shift = 0;
    for (;;) {
      if (this.pos >= b.length) throw connectionError(H2_ERROR.COMPRESSION_ERROR, "truncated integer");
      const byte = b[this.pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw connectionError(H2_ERROR.COMPRESSION_ERROR, "integer overflow");
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  }

  /** RFC 7541 §5.2 string literal (raw or Huffman); short ones through the literal cache. */
  private string(b: Uint8Array): string {
    if (this.pos >= b.length) throw connectionError(H2_ERROR.COMPRESSION_ERROR, "truncated string literal");
    const huffman = (b[this.pos]! & 0x80) !== 0;
    const length = this.integer(b, 7);
    const start = this.pos;
    if (length > b.length - start) throw connectionError(H2_ERROR.COMPRESSION_ERROR, `string of ${length} bytes overruns the block`);
    const end = start + length;
    this.pos = end;
    if (length > CACHED_LITERAL_MAX_BYTES || length === 0) return huffman ? huffmanDecode(b, start, end) : latin1(b, start, end);
    const cache = this.literals;
    const slot = cache.slotOf(b, start, end, huffman);
    const cached = cache.get(slot, b, start, end, huffman);
    if (cached !== undefined) return cached;
    const value = huffman ? huffmanDecode(b, start, end) : latin1(b, start, end);
    cache.set(slot, b, start, end, huffman, value);
    return value;
  }
}
