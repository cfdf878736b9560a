// The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of header fields bounded by octet size (each
// entry counts name + value + 32), newest at index 1, evicting the oldest to make room. With
// `searchable`, it also keeps the lookups the encoder needs (newest entry per field and per name).

/** RFC 7541 §4.1 entry overhead. */
export const ENTRY_OVERHEAD_BYTES = 32;

export class DynamicTable {
  /** Ring buffer of names/values; `head` is the oldest entry. */
  private names: string[] = new Array(16);
  private values: string[] = new Array(16);
  private head = 0;
  private count = 0;
  /** Octets used (RFC 7541 §4.1). */
  sizeBytes = 0;
  /** Entries ever inserted; an entry's absolute id is its insertion number (1-based). */
  private inserted = 0;
  /** name → (value → absolute id of the newest such entry); only when searchable. */
  private readonly byField: Map<string, Map<string, number>> | null;
  private readonly byName: Map<string, number> | null;

  constructor(
    public maxSizeBytes: number,
    searchable = false,
  ) {
    this.byField = searchable ? new Map() : null;
    this.byName = searchable ? new Map() : null;
  }

  get length(): number {
    return this.count;
  }

  /** Entry at dynamic index `i` (1 = newest) — name. Caller checks 1 ≤ i ≤ length. */
  name(i: number): string {
    return this.names[this.slot(i)]!;
  }

  value(i: number): string {
    return this.values[this.slot(i)]!;
  }

  private slot(i: number): number {
    return (this.head + this.count - i) % this.names.length;
  }

  /** Changes the bound (a dynamic table size update), evicting as needed. */
  resize(maxSizeBytes: number): void {
    this.maxSizeBytes = maxSizeBytes;
    this.evictTo(maxSizeBytes);
  }

  /** Inserts a field; one larger than the whole table empties it and is not kept (RFC 7541 §4.4). */
  add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD_BYTES;
    if (size > this.maxSizeBytes) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.maxSizeBytes - size);
    if (this.count === this.names.length) this.grow();
    const at = (this.head + this.count) % this.names.length;
    this.names[at] = name;
    this.values[at] = value;
    this.count++;
    this.sizeBytes += size;
    this.inserted++;
    if (this.byField !== null) {
      let values = this.byField.get(name);
      if (values === undefined) this.byField.set(name, (values = new Map()));
      values.set(value, this.inserted);
      this.byName!.set(name, this.inserted);
    }
  }

  /** Dynamic index (1 = newest) of exactly this field, or 0. Needs `searchable`. */
  fieldIndex(name: string, value: string): number {
    return this.indexOf(this.byField!.get(name)?.get(value));
  }

  /** Dynamic index of the newest entry with this name, or 0. Needs `searchable`. */
  nameIndex(name: string): number {
    return this.indexOf(this.byName!.get(name));
  }

  private indexOf(id: number | undefined): number {
    if (id === undefined) return 0;
    const index = this.inserted - id + 1;
    return index <= this.count ? index : 0;
  }

  private evictTo(limit: number): void {
    while (this.sizeBytes > limit && this.count > 0) {
      const name = this.names[this.head]!;
      const value = this.values[this.head]!;
      this.sizeBytes -= name.length + value.length + ENTRY_OVERHEAD_BYTES;
      if (this.byField !== null) {
        const id = this.inserted - this.count + 1;
        const values = this.byField.get(name)!;
        if (values.get(value) === id) values.delete(value);
        if (this.byName!.get(name) === id) {
          this.byName!.delete(name);
          this.byField.delete(name); // no entry with this name is left (byName held the newest)
        }
      }
      this.names[this.head] = "";
      this.values[this.head] = "";
      this.head = (this.head + 1) % this.names.length;
      this.count--;
    }
  }

  private grow(): void {
    const names: string[] = new Array(this.names.length * 2);
    const values: string[] = new Array(this.names.length * 2);
    for (let i = 0; i < this.count; i++) {
      names[i] = this.names[(this.head + i) % this.names.length]!;
      values[i] = this.values[(this.head + i) % this.names.length]!;
    }
    this.names = names;
    this.values = values;
    this.head = 0;
  }
}
