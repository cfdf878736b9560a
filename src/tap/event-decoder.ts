// Reads a tap frame (the events event-encoder.ts writes back to back) for `meshlet tap` / `meshlet top`:
// the MessagePack subset the encoder emits — maps, arrays, strings, integers, float 64, nil, booleans —
// with repeated short strings (keys, methods, addresses) decoded once and reused. msgpackr's pure-JS
// build reads a frame of thousands of events ~4× slower (its key cache is off for sources > 180 bytes);
// test/unit/tap/event-decoder.test.ts holds this reader to msgpackr on random frames.

/** Strings up to this many bytes, all ASCII, are looked up in the cache before being decoded. */
const CACHED_STRING_MAX_BYTES = 32;
/** Cache slots (powers of two); a slot holds the last string whose bytes hashed to it. */
const KEY_CACHE_SLOTS = 256;
const VALUE_CACHE_SLOTS = 4096;

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class TapFrameError extends Error {
  readonly code = "MESHLET_ERR_TAP_FRAME";
}

export class TapEventDecoder {
  private readonly keys = new AsciiStringCache(KEY_CACHE_SLOTS, true);
  private readonly values = new AsciiStringCache(VALUE_CACHE_SLOTS, false);
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.bytes.buffer);
  private at = 0;

  /** Every value of `frame`, in order; throws TapFrameError on bytes this reader does not know or a cut value. */
  decodeAll(frame: Uint8Array): unknown[] {
    this.bytes = frame;
    this.view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    this.at = 0;
    const out: unknown[] = [];
    while (this.at < frame.length) out.push(this.value());
    return out;
  }

  private value(): unknown {
    const type = this.byte();
    if (type < 0x80) return type;
    if (type < 0x90) return this.map(type & 0x0f);
    if (type < 0xa0) return this.array(type & 0x0f);
    if (type < 0xc0) return this.string(type & 0x1f);
    if (type >= 0xe0) return type - 0x100;
    switch (type) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcb:
        return this.view.getFloat64(this.take(8));
      case 0xcc:
        return this.byte();
      case 0xcd:
        return this.view.getUint16(this.take(2));
      case 0xce:
        return this.view.getUint32(this.take(4));
      case 0xd0:
        return this.view.getInt8(this.take(1));
      case 0xd1:
        return this.view.getInt16(this.take(2));
      case 0xd2:
        return this.view.getInt32(this.take(4));
      case 0xd9:
        return this.string(this.byte());
      case 0xda:
        return this.string(this.view.getUint16(this.take(2)));
      case 0xdb:
        return this.string(this.view.getUint32(this.take(4)));
      case 0xdc:
        return this.array(this.view.getUint16(this.take(2)));
      case 0xdd:
        return this.array(this.view.getUint32(this.take(4)));
      case 0xde:
        return this.map(this.view.getUint16(this.take(2)));
      case 0xdf:
        return this.map(this.view.getUint32(this.take(4)));
      default:
        throw new TapFrameError(`type byte 0x${type.toString(16)} at offset ${this.at - 1} is not one the tap encoder writes`);
    }
  }

  private map(entries: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < entries; i++) {
      const type = this.bytes[this.at];
      // Keys (fixstr: under 32 bytes) are read as property names, cached once in atomized form.
      const key = type !== undefined && type >= 0xa0 && type < 0xc0 ? (this.at++, this.string(type & 0x1f, true)) : this.value();
      if (typeof key !== "string") throw new TapFrameError(`a map key at offset ${this.at} is not a string`);
      const value = this.value();
      // A plain assignment of "__proto__" would set the object's prototype: keep it an ordinary key.
      if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  }

  private array(items: number): unknown[] {
    // Bounded by the bytes left (every item takes at least one), so a hostile length cannot allocate much.
    if (items > this.bytes.length - this.at) throw this.cut();
    const out = new Array<unknown>(items);
    for (let i = 0; i < items; i++) out[i] = this.value();
    return out;
  }

  /** `asKey`: the string is a property name, looked up in the key cache (its strings are the engine's atomized names). */
  private string(length: number, asKey = false): string {
    const start = this.take(length);
    const bytes = this.bytes;
    if (length > CACHED_STRING_MAX_BYTES) return this.utf8(start, length);
    for (let i = start; i < start + length; i++) if (bytes[i]! >= 0x80) return this.utf8(start, length);
    return (asKey ? this.keys : this.values).get(bytes, start, length);
  }

  private utf8(start: number, length: number): string {
    try {
      return utf8.decode(this.bytes.subarray(start, start + length));
    } catch {
      throw new TapFrameError(`the string at offset ${start} is not UTF-8`);
    }
  }

  private byte(): number {
    if (this.at >= this.bytes.length) throw this.cut();
    return this.bytes[this.at++]!;
  }

  /** Advances over `n` bytes; returns where they start. */
  private take(n: number): number {
    const start = this.at;
    if (n > this.bytes.length - start) throw this.cut();
    this.at = start + n;
    return start;
  }

  private cut(): TapFrameError {
    return new TapFrameError(`the frame ends inside a value (offset ${this.at} of ${this.bytes.length})`);
  }
}

/** Short ASCII strings by their bytes: a hash-indexed table whose slots the last string that hashed there holds. */
class AsciiStringCache {
  private readonly bytesOf: (Uint8Array | undefined)[];
  private readonly strings: string[];

  /** `asPropertyNames`: store each string in the form the engine uses for property names (atomized). */
  constructor(
    private readonly slots: number,
    private readonly asPropertyNames: boolean,
  ) {
    this.bytesOf = new Array(slots).fill(undefined);
    this.strings = new Array(slots).fill("");
  }

  /** The string of the ASCII bytes[start, start + length). */
  get(bytes: Uint8Array, start: number, length: number): string {
    let hash = length;
    for (let i = start; i < start + length; i++) hash = (Math.imul(hash, 31) + bytes[i]!) | 0;
    const slot = hash & (this.slots - 1);
    const cached = this.bytesOf[slot];
    if (cached !== undefined && cached.length === length) {
      let i = 0;
      while (i < length && cached[i] === bytes[start + i]) i++;
      if (i === length) return this.strings[slot]!;
    }
    let s = "";
    for (let i = start; i < start + length; i++) s += String.fromCharCode(bytes[i]!);
    // An object's own key comes back atomized: setting a property by it later needs no atom-table lookup.
    if (this.asPropertyNames) s = Object.keys({ [s]: 0 })[0]!;
    this.bytesOf[slot] = bytes.slice(start, start + length);
    this.strings[slot] = s;
    return s;
  }
}
