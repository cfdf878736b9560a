// HPACK Huffman code (RFC 7541 §5.2, Appendix B): encoder and a nibble-driven decoder state machine.
// The code is canonical, so the table below is just the 257 code lengths from Appendix B (symbol 256
// is EOS); the codes themselves are derived from the lengths and checked against the RFC's vectors.
import { connectionError, H2_ERROR } from "./errors.ts";

// prettier-ignore
const CODE_BITS = new Uint8Array([
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
]);

const EOS = 256;

/** Code of each symbol, derived canonically: shorter codes first, equal lengths in symbol order. */
const CODES = new Uint32Array(257);
{
  let code = 0;
  let bits = 0;
  const order = Array.from({ length: 257 }, (_, s) => s).sort((a, b) => CODE_BITS[a]! - CODE_BITS[b]! || a - b);
  for (const sym of order) {
    const len = CODE_BITS[sym]!;
    code *= 2 ** (len - bits);
    bits = len;
    CODES[sym] = code;
    code++;
  }
}

/** The code of `symbol` and its length in bits (exposed for tests against Appendix B). */
export function huffmanCode(symbol: number): { code: number; bits: number } {
  return { code: CODES[symbol]!, bits: CODE_BITS[symbol]! };
}

/** Length in octets of `bytes[start..end)` once Huffman-encoded. */
export function huffmanEncodedBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let bits = 0;
  for (let i = start; i < end; i++) bits += CODE_BITS[bytes[i]!]!;
  return Math.ceil(bits / 8);
}

/** Length in octets of a one-byte-per-char string once Huffman-encoded. */
export function huffmanEncodedBytesOfString(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += CODE_BITS[s.charCodeAt(i) & 0xff]!;
  return Math.ceil(bits / 8);
}

/** Huffman-encodes a one-byte-per-char string into `out` at `at`; returns the offset after the last octet. */
export function huffmanEncodeString(s: string, out: Uint8Array, at: number): number {
  let acc = 0;
  let pending = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = CODE_BITS[sym]!;
    acc = acc * 2 ** len + CODES[sym]!;
    pending += len;
    while (pending >= 8) {
      pending -= 8;
      const div = 2 ** pending;
      const byte = Math.floor(acc / div);
      out[at++] = byte;
      acc -= byte * div;
    }
  }
  if (pending > 0) out[at++] = (acc << (8 - pending)) | (0xff >>> pending);
  return at;
}

/** Huffman-encodes `bytes[start..end)` into `out` at `at`; returns the offset after the last octet. */
export function huffmanEncode(bytes: Uint8Array, start: number, end: number, out: Uint8Array, at: number): number {
  // The accumulator keeps < 8 pending bits plus one code (≤ 30 bits): at most 37 bits, exact in a double.
  let acc = 0;
  let pending = 0;
  for (let i = start; i < end; i++) {
    const sym = bytes[i]!;
    const len = CODE_BITS[sym]!;
    acc = acc * 2 ** len + CODES[sym]!;
    pending += len;
    while (pending >= 8) {
      pending -= 8;
      const div = 2 ** pending;
      const byte = Math.floor(acc / div);
      out[at++] = byte;
      acc -= byte * div;
    }
  }
  if (pending > 0) out[at++] = (acc << (8 - pending)) | (0xff >>> pending); // pad with EOS's leading 1s
  return at;
}

// ---- decoding: a state machine over 4-bit nibbles (the approach nghttp2 uses) ----
// States are the internal nodes of the code tree. For each (state, nibble): the next state, the symbol
// completed on the way (a nibble completes at most one: the shortest code is 5 bits), or failure (EOS).
const LEAF = 0x1000;
const tree: number[] = [-1, -1]; // child slots per node: node*2 + bit → node id, or LEAF|symbol
for (let sym = 0; sym <= EOS; sym++) {
  let node = 0;
  const len = CODE_BITS[sym]!;
  for (let b = len - 1; b >= 0; b--) {
    const bit = Math.floor(CODES[sym]! / 2 ** b) & 1;
    const slot = node * 2 + bit;
    if (b === 0) {
      tree[slot] = LEAF | sym;
    } else {
      if (tree[slot] === -1) {
        tree[slot] = tree.length / 2;
        tree.push(-1, -1);
      }
      node = tree[slot]!;
    }
  }
}
const NODES = tree.length / 2;
/** Whether decoding may stop in this state: at the root, or ≤ 7 bits into the all-ones (EOS) prefix. */
const MAY_END = new Uint8Array(NODES);
{
  let node = 0;
  MAY_END[0] = 1;
  for (let depth = 1; depth <= 7; depth++) {
    node = tree[node * 2 + 1]!;
    MAY_END[node] = 1;
  }
}
const EMITS = 0x100;
const FAILS = 0x200;
/** (state << 4 | nibble) → next state << 10 | FAILS | EMITS | symbol. */
const STEP = new Uint32Array(NODES * 16);
for (let state = 0; state < NODES; state++) {
  for (let nibble = 0; nibble < 16; nibble++) {
    let node = state;
    let out = 0;
    for (let b = 3; b >= 0; b--) {
      const child = tree[node * 2 + ((nibble >> b) & 1)]!;
      if (child & LEAF) {
        const sym = child & 0x1ff;
        if (sym === EOS) {
          out = FAILS;
          break;
        }
        out = EMITS | sym;
        node = 0;
      } else {
        node = child;
      }
    }
    STEP[(state << 4) | nibble] = (node << 10) | out;
  }
}

let scratch = Buffer.allocUnsafe(256);

/** Decodes a Huffman string; throws COMPRESSION_ERROR for EOS, over-long or non-ones padding. */
export function huffmanDecode(bytes: Uint8Array, start: number, end: number): string {
  const max = Math.ceil(((end - start) * 8) / 5);
  if (scratch.length < max) scratch = Buffer.allocUnsafe(Math.max(max, scratch.length * 2));
  const out = scratch;
  let n = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    let step = STEP[(state << 4) | (byte >> 4)]!;
    if (step & FAILS) throw connectionError(H2_ERROR.COMPRESSION_ERROR, "Huffman string contains EOS");
    if (step & EMITS) out[n++] = step & 0xff;
    state = step >>> 10;
    step = STEP[(state << 4) | (byte & 0xf)]!;
    if (step & FAILS) throw connectionError(H2_ERROR.COMPRESSION_ERROR, "Huffman string contains EOS");
    if (step & EMITS) out[n++] = step & 0xff;
    state = step >>> 10;
  }
  if (!MAY_END[state]) throw connectionError(H2_ERROR.COMPRESSION_ERROR, "Huffman string has invalid padding");
  return n < 16 ? latin1(out, 0, n) : out.toString("latin1", 0, n);
}

/** Octets as a one-byte-per-char string (short ones built directly; a Buffer decodes longer ones). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start < 16) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  const buf = bytes instanceof Buffer ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString("latin1", start, end);
}
