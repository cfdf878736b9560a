// Writes tap events as MessagePack maps straight into a reusable byte buffer: the five event shapes of
// events.ts are fixed, so keys are pre-encoded and nothing is allocated per event. The bytes are plain
// MessagePack maps (keys whose value is undefined left out), which msgpackr decodes in the CLI and the
// browser; test/unit/tap/event-encoder.test.ts holds the two to each other. It replaced one msgpackr
// pack, one view and one copy per event (bench/observability-cost.ts: tap's cost per request halved).
import { GrowableBytes } from "../rt/growable-bytes.ts";
import type { HeaderPair, TapEvent } from "./events.ts";

const textEncoder = new TextEncoder();

/** A map key or a constant string, encoded once. */
function encodedString(s: string): Uint8Array {
  const utf8 = textEncoder.encode(s);
  const header = utf8.length < 32 ? [0xa0 | utf8.length] : [0xd9, utf8.length];
  // Copied with set(), not spread: spreading typed arrays calls the array iterator per byte, enough at
  // import to tier it up into the DFG JIT, whose pages cost ~2 MB of RSS at start (bench/RESULTS.md).
  const out = new Uint8Array(header.length + utf8.length);
  out.set(header, 0);
  out.set(utf8, header.length);
  return out;
}

const KEY = {
  type: encodedString("type"),
  id: encodedString("id"),
  tsMs: encodedString("tsMs"),
  direction: encodedString("direction"),
  tls: encodedString("tls"),
  clientId: encodedString("clientId"),
  source: encodedString("source"),
  destination: encodedString("destination"),
  method: encodedString("method"),
  authority: encodedString("authority"),
  path: encodedString("path"),
  route: encodedString("route"),
  headers: encodedString("headers"),
  sinceRequestMs: encodedString("sinceRequestMs"),
  status: encodedString("status"),
  grpcStatus: encodedString("grpcStatus"),
  error: encodedString("error"),
  requestBytes: encodedString("requestBytes"),
  responseBytes: encodedString("responseBytes"),
  count: encodedString("count"),
  code: encodedString("code"),
  message: encodedString("message"),
} as const;

const TYPE = {
  request: encodedString("request"),
  response: encodedString("response"),
  end: encodedString("end"),
  dropped: encodedString("dropped"),
  error: encodedString("error"),
} as const;

/** Below this many characters a string is written by a loop; above, by TextEncoder.encodeInto. */
const SHORT_STRING_CHARS = 64;

/** The encoded events since the last `clear()` are bytes[0, length). */
export class TapEventEncoder extends GrowableBytes {
  /** How many events bytes[0, length) holds. */
  events = 0;
  private view: DataView;

  constructor(initialBytes = 4096) {
    super(initialBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  protected override replaced(): void {
    this.view = new DataView(this.bytes.buffer);
  }

  clear(): void {
    this.length = 0;
    this.events = 0;
  }

  /** Takes back the last event: `length` is what it was before that event was encoded. */
  dropLast(length: number): void {
    this.length = length;
    this.events--;
  }

  /** Appends one event. */
  encode(event: TapEvent): void {
    this.events++;
    switch (event.type) {
      case "request": {
        const { clientId, route, headers } = event;
        this.mapHeader(10 + (clientId !== undefined ? 1 : 0) + (route !== undefined ? 1 : 0) + (headers !== undefined ? 1 : 0));
        this.raw(KEY.type);
        this.raw(TYPE.request);
        this.raw(KEY.id);
        this.number(event.id);
        this.raw(KEY.tsMs);
        this.number(event.tsMs);
        this.raw(KEY.direction);
        this.string(event.direction);
        this.raw(KEY.tls);
        this.string(event.tls);
        if (clientId !== undefined) {
          this.raw(KEY.clientId);
          this.string(clientId);
        }
        this.raw(KEY.source);
        this.string(event.source);
        this.raw(KEY.destination);
        this.string(event.destination);
        this.raw(KEY.method);
        this.string(event.method);
        this.raw(KEY.authority);
        this.string(event.authority);
        this.raw(KEY.path);
        this.string(event.path);
        if (route !== undefined) {
          this.raw(KEY.route);
          this.string(route);
        }
        if (headers !== undefined) {
          this.raw(KEY.headers);
          this.headerPairs(headers);
        }
        return;
      }
      case "response": {
        const { headers } = event;
        this.mapHeader(4 + (headers !== undefined ? 1 : 0));
        this.raw(KEY.type);
        this.raw(TYPE.response);
        this.raw(KEY.id);
        this.number(event.id);
        this.raw(KEY.sinceRequestMs);
        this.number(event.sinceRequestMs);
        this.raw(KEY.status);
        this.number(event.status);
        if (headers !== undefined) {
          this.raw(KEY.headers);
          this.headerPairs(headers);
        }
        return;
      }
      case "end": {
        const { status, grpcStatus, error } = event;
        this.mapHeader(5 + (status !== undefined ? 1 : 0) + (grpcStatus !== undefined ? 1 : 0) + (error !== undefined ? 1 : 0));
        this.raw(KEY.type);
        this.raw(TYPE.end);
        this.raw(KEY.id);
        this.number(event.id);
        this.raw(KEY.sinceRequestMs);
        this.number(event.sinceRequestMs);
        if (status !== undefined) {
          this.raw(KEY.status);
          this.number(status);
        }
        if (grpcStatus !== undefined) {
          this.raw(KEY.grpcStatus);
          this.number(grpcStatus);
        }
        if (error !== undefined) {
          this.raw(KEY.error);
          this.string(error);
        }
        this.raw(KEY.requestBytes);
        this.number(event.requestBytes);
        this.raw(KEY.responseBytes);
        this.number(event.responseBytes);
        return;
      }
      case "dropped":
        this.mapHeader(2);
        this.raw(KEY.type);
        this.raw(TYPE.dropped);
        this.raw(KEY.count);
        this.number(event.count);
        return;
      case "error":
        this.mapHeader(3);
        this.raw(KEY.type);
        this.raw(TYPE.error);
        this.raw(KEY.code);
        this.string(event.code);
        this.raw(KEY.message);
        this.string(event.message);
        return;
    }
  }

  private headerPairs(headers: readonly HeaderPair[]): void {
    this.arrayHeader(headers.length);
    for (const [name, value] of headers) {
      this.arrayHeader(2);
      this.string(name);
      this.string(value);
    }
  }

  private raw(encoded: Uint8Array): void {
    this.reserve(encoded.length);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < encoded.length; i++) bytes[at++] = encoded[i]!;
    this.length = at;
  }

  private mapHeader(entries: number): void {
    // Every event has fewer than 16 keys: a fixmap.
    this.reserve(1);
    this.bytes[this.length++] = 0x80 | entries;
  }

  private arrayHeader(items: number): void {
    this.reserve(5);
    if (items < 16) this.bytes[this.length++] = 0x90 | items;
    else if (items < 0x10000) {
      this.bytes[this.length] = 0xdc;
      this.view.setUint16(this.length + 1, items);
      this.length += 3;
    } else {
      this.bytes[this.length] = 0xdd;
      this.view.setUint32(this.length + 1, items);
      this.length += 5;
    }
  }

  /** An unsigned or 32-bit integer as MessagePack's integer types; anything else (tsMs too) as float 64, as msgpackr does. */
  private number(n: number): void {
    this.reserve(9);
    const bytes = this.bytes;
    const at = this.length;
    if (n >>> 0 === n) {
      if (n < 0x80) {
        bytes[at] = n;
        this.length = at + 1;
      } else if (n < 0x100) {
        bytes[at] = 0xcc;
        bytes[at + 1] = n;
        this.length = at + 2;
      } else if (n < 0x10000) {
        bytes[at] = 0xcd;
        this.view.setUint16(at + 1, n);
        this.length = at + 3;
      } else {
        bytes[at] = 0xce;
        this.view.setUint32(at + 1, n);
        this.length = at + 5;
      }
    } else if (n >> 0 === n) {
      if (n >= -32) {
        bytes[at] = n & 0xff;
        this.length = at + 1;
      } else {
        bytes[at] = 0xd2;
        this.view.setInt32(at + 1, n);
        this.length = at + 5;
      }
    } else {
      bytes[at] = 0xcb;
      this.view.setFloat64(at + 1, n);
      this.length = at + 9;
    }
  }

  /** A UTF-8 string: str8/16/32 header, then its bytes (a loop for short ASCII, encodeInto otherwise). */
  private string(s: string): void {
    const chars = s.length;
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the header at most 5.
    this.reserve(5 + chars * 3);
    const bytes = this.bytes;
    const start = this.length;
    if (chars < SHORT_STRING_CHARS) {
      let ascii = true;
      const body = start + (chars < 32 ? 1 : 2);
      for (let i = 0; i < chars; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        bytes[body + i] = c;
      }
      if (ascii) {
        if (chars < 32) bytes[start] = 0xa0 | chars;
        else {
          bytes[start] = 0xd9;
          bytes[start + 1] = chars;
        }
        this.length = body + chars;
        return;
      }
    }
    // The length is known only after encoding: write at the widest header's offset, then move if narrower.
    const widest = start + 5;
    const written = textEncoder.encodeInto(s, bytes.subarray(widest)).written;
    let headerBytes: number;
    if (written < 32) {
      bytes[start] = 0xa0 | written;
      headerBytes = 1;
    } else if (written < 0x100) {
      bytes[start] = 0xd9;
      bytes[start + 1] = written;
      headerBytes = 2;
    } else if (written < 0x10000) {
      bytes[start] = 0xda;
      this.view.setUint16(start + 1, written);
      headerBytes = 3;
    } else {
      bytes[start] = 0xdb;
      this.view.setUint32(start + 1, written);
      headerBytes = 5;
    }
    if (headerBytes < 5) bytes.copyWithin(start + headerBytes, widest, widest + written);
    this.length = start + headerBytes + written;
  }
}
