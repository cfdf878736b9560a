// Protocol detection on the plaintext inside a terminated mTLS connection, with the rules the native
// sniffer applies to cleartext (native/sniff/sniff.h, after Linkerd's detect): the HTTP/2 preface, an
// HTTP/1 request line, or opaque; "need_more" while the bytes so far are a prefix of either.

export type PlaintextProtocol = "http1" | "http2" | "opaque" | "need_more";

/** Bytes read before giving up on HTTP (Linkerd's and the native sniffer's budget). */
export const DETECT_BUDGET_BYTES = 8192;

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** Linkerd decides on 14 bytes: "PRI * HTTP/2.0" and the shortest request line "GET / HTTP/1.1". */
const MIN_HTTP_BYTES = 14;

// RFC 9110 §5.6.2 token characters (the method), then SP, a target without SP/CTL, SP, HTTP/1.x.
const TOKEN_CHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const REQUEST_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP\/1\.[01]\r?$/;

function isPrefixOf(bytes: Buffer, whole: Buffer): boolean {
  const n = Math.min(bytes.length, whole.length);
  return bytes.subarray(0, n).equals(whole.subarray(0, n));
}

/** Whether `bytes` can still become an HTTP/1 request line (a method token, then SP, ...). */
function couldBeRequestLine(text: string): boolean {
  const space = text.indexOf(" ");
  const method = space < 0 ? text : text.slice(0, space);
  if (method.length === 0 && space === 0) return false;
  for (const ch of method) if (!TOKEN_CHAR.test(ch)) return false;
  if (space < 0) return true;
  return !/[\x00-\x1f\x7f]/.test(text.slice(space + 1).replace(/\r$/, ""));
}

/** `final`: no more bytes will come (the client ended, the budget or the detect timeout is reached). */
export function detectPlaintextProtocol(bytes: Buffer, final: boolean): PlaintextProtocol {
  if (bytes.length === 0) return final ? "opaque" : "need_more";
  if (isPrefixOf(bytes, H2_PREFACE)) {
    if (bytes.length >= MIN_HTTP_BYTES) return "http2";
    return final ? "opaque" : "need_more";
  }
  const window = bytes.subarray(0, DETECT_BUDGET_BYTES);
  const lf = window.indexOf(0x0a);
  if (lf >= 0) return REQUEST_LINE.test(window.subarray(0, lf).toString("latin1")) ? "http1" : "opaque";
  if (final || window.length >= DETECT_BUDGET_BYTES) return "opaque";
  return couldBeRequestLine(window.toString("latin1")) ? "need_more" : "opaque";
}
