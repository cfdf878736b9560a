// Parses HTTP/1.x request and response heads from bytes (RFC 9112 §2–§6) without copying: header
// fields are byte offsets into the caller's buffer; only the method and the framing facts are decoded.
// Biases towards strictness: bare LF, obs-fold, whitespace before a colon and ambiguous framing are errors.
import type { ProxyError } from "../errors/proxy-error.ts";
import {
  HeadTooLargeError,
  HttpVersionNotSupportedError,
  MalformedRequestError,
  RequestFramingError,
  TooManyHeadersError,
  UpstreamProtocolError,
} from "./proxy-errors.ts";

// === Header kinds (the names the proxy acts on) ===
export const K_OTHER = 0;
export const K_HOST = 1;
export const K_CONTENT_LENGTH = 2;
export const K_TRANSFER_ENCODING = 3;
export const K_CONNECTION = 4;
export const K_KEEP_ALIVE = 5;
export const K_PROXY_CONNECTION = 6;
export const K_TE = 7;
export const K_TRAILER = 8;
export const K_UPGRADE = 9;
export const K_EXPECT = 10;
export const K_HTTP2_SETTINGS = 11;
// Linkerd's l5d-* headers that the request pipeline strips or reads (linkerd-behavior §4.2, §8.3).
export const K_L5D_CLIENT_ID = 12;
export const K_L5D_PROXY_ERROR = 13;
export const K_L5D_PROXY_CONNECTION = 14;
export const K_L5D_DST_CANONICAL = 15;

/** The bit of header kind `k` in `MessageHead.kindMask` and in drop masks. */
export const kindBit = (k: number): number => 1 << k;

/** Ints per entry in `MessageHead.fields`: kind, nameStart, nameEnd, valueStart, valueEnd. */
export const FIELD_STRIDE = 5;

export const UPGRADE_NONE = 0;
export const UPGRADE_H2C = 1;
export const UPGRADE_OTHER = 2;

export const TARGET_ORIGIN = 0;
export const TARGET_ABSOLUTE = 1;
export const TARGET_AUTHORITY = 2;
export const TARGET_ASTERISK = 3;

export interface HeadLimits {
  readonly maxHeadBytes: number;
  readonly maxHeaders: number;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const COMMA = 44;

/** RFC 9110 §5.6.2 tchar. */
const TCHAR = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9!#$%&'*+\-.^_`|~]/.test(ch)) TCHAR[c] = 1;
}

/** Facts shared by request and response heads. Offsets index `buf`; valid while `buf` is. */
export class MessageHead {
  buf: Buffer;
  /** First byte of the start line and the first byte after the blank line. */
  start = 0;
  end = 0;
  minorVersion = 1;
  /** Field offsets; may be a caller-owned array reused across heads (see the parse functions). */
  fields: number[];
  fieldCount = 0;
  /** -1 when absent. */
  contentLength = -1;
  /** Transfer-Encoding present at all. */
  hasTransferEncoding = false;
  /** Transfer-Encoding's final coding is chunked. */
  chunked = false;
  connectionClose = false;
  connectionKeepAlive = false;
  connectionUpgrade = false;
  /** Connection names other headers, which are hop-by-hop for this message. */
  connectionOther = false;
  upgrade = UPGRADE_NONE;
  hostCount = 0;
  hostStart = 0;
  hostEnd = 0;
  expectContinue = false;
  /** One bit per header kind present (kindBit(K_*)): tells at no cost whether, say, l5d-proxy-error came. */
  kindMask = 0;

  constructor(buf: Buffer, fields: number[] = []) {
    this.buf = buf;
    fields.length = 0;
    this.fields = fields;
  }

  /** First value of a header, by lowercase name; latin1-decoded. Slow path for filters, not the proxy. */
  header(lowerName: string): string | undefined {
    const f = this.fields;
    const buf = this.buf;
    for (let i = 0; i < this.fieldCount * FIELD_STRIDE; i += FIELD_STRIDE) {
      const ns = f[i + 1]!;
      const ne = f[i + 2]!;
      if (ne - ns !== lowerName.length) continue;
      let j = 0;
      while (j < lowerName.length && (buf[ns + j]! | 0x20) === (lowerName.charCodeAt(j) | 0x20)) j++;
      if (j === lowerName.length) return buf.toString("latin1", f[i + 3]!, f[i + 4]!);
    }
    return undefined;
  }

  /** Every header line in order, as [name, value] (latin1, name as sent); slow path, for tap. */
  headerList(): [string, string][] {
    const f = this.fields;
    const buf = this.buf;
    const list: [string, string][] = new Array(this.fieldCount);
    for (let i = 0, k = 0; k < this.fieldCount; i += FIELD_STRIDE, k++) {
      list[k] = [buf.toString("latin1", f[i + 1]!, f[i + 2]!), buf.toString("latin1", f[i + 3]!, f[i + 4]!)];
    }
    return list;
  }

  /** The Host header value, or undefined. */
  host(): string | undefined {
    return this.hostCount > 0 ? this.buf.toString("latin1", this.hostStart, this.hostEnd) : undefined;
  }
}

export class RequestHead extends MessageHead {
  method = "";
  isHead = false;
  isConnect = false;
  targetStart = 0;
  targetEnd = 0;
  targetForm = TARGET_ORIGIN;
  /** For absolute-form: the authority and where the origin-form part starts (targetEnd when the path is empty). */
  authorityStart = 0;
  authorityEnd = 0;
  pathStart = 0;

  target(): string {
    return this.buf.toString("latin1", this.targetStart, this.targetEnd);
  }
}

export class ResponseHead extends MessageHead {
  status = 0;
  /** Index of the byte after the 3-digit status code (a SP or the CR). */
  statusEnd = 0;
}

// === Name classification ===

function lit(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
const N_TE = lit("te");
const N_HOST = lit("host");
const N_EXPECT = lit("expect");
const N_TRAILER = lit("trailer");
const N_UPGRADE = lit("upgrade");
const N_CONNECTION = lit("connection");
const N_KEEP_ALIVE = lit("keep-alive");
const N_CONTENT_LENGTH = lit("content-length");
const N_HTTP2_SETTINGS = lit("http2-settings");
const N_PROXY_CONNECTION = lit("proxy-connection");
const N_TRANSFER_ENCODING = lit("transfer-encoding");
const N_L5D_CLIENT_ID = lit("l5d-client-id");
const N_L5D_PROXY_ERROR = lit("l5d-proxy-error");
const N_L5D_PROXY_CONNECTION = lit("l5d-proxy-connection");
const N_L5D_DST_CANONICAL = lit("l5d-dst-canonical");

/** Case-insensitive compare of buf[s..s+lit.length) with a lowercase literal (letters, digits, '-'). */
export function eqLower(buf: Uint8Array, s: number, l: Uint8Array): boolean {
  for (let i = 0; i < l.length; i++) if ((buf[s + i]! | 0x20) !== l[i]) return false;
  return true;
}

function classify(buf: Buffer, s: number, len: number): number {
  switch (len) {
    case 2: return eqLower(buf, s, N_TE) ? K_TE : K_OTHER;
    case 4: return eqLower(buf, s, N_HOST) ? K_HOST : K_OTHER;
    case 6: return eqLower(buf, s, N_EXPECT) ? K_EXPECT : K_OTHER;
    case 7:
      if (eqLower(buf, s, N_UPGRADE)) return K_UPGRADE;
      return eqLower(buf, s, N_TRAILER) ? K_TRAILER : K_OTHER;
    case 10:
      if (eqLower(buf, s, N_CONNECTION)) return K_CONNECTION;
      return eqLower(buf, s, N_KEEP_ALIVE) ? K_KEEP_ALIVE : K_OTHER;
    case 14:
      if (eqLower(buf, s, N_CONTENT_LENGTH)) return K_CONTENT_LENGTH;
      return eqLower(buf, s, N_HTTP2_SETTINGS) ? K_HTTP2_SETTINGS : K_OTHER;
    case 13: return eqLower(buf, s, N_L5D_CLIENT_ID) ? K_L5D_CLIENT_ID : K_OTHER;
    case 15: return eqLower(buf, s, N_L5D_PROXY_ERROR) ? K_L5D_PROXY_ERROR : K_OTHER;
    case 16: return eqLower(buf, s, N_PROXY_CONNECTION) ? K_PROXY_CONNECTION : K_OTHER;
    case 17:
      if (eqLower(buf, s, N_TRANSFER_ENCODING)) return K_TRANSFER_ENCODING;
      return eqLower(buf, s, N_L5D_DST_CANONICAL) ? K_L5D_DST_CANONICAL : K_OTHER;
    case 20: return eqLower(buf, s, N_L5D_PROXY_CONNECTION) ? K_L5D_PROXY_CONNECTION : K_OTHER;
    default: return K_OTHER;
  }
}

// === Token lists (Connection, Transfer-Encoding) ===

const T_CLOSE = lit("close");
const T_KEEP_ALIVE = N_KEEP_ALIVE;
const T_UPGRADE = N_UPGRADE;
const T_CHUNKED = lit("chunked");
const T_H2C = lit("h2c");
const T_100_CONTINUE = lit("100-continue");

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** Applies a Connection header's tokens to `head`. */
function applyConnection(head: MessageHead, buf: Buffer, s: number, e: number): void {
  let i = s;
  while (i < e) {
    while (i < e && (isOws(buf[i]!) || buf[i] === COMMA)) i++;
    const ts = i;
    while (i < e && !isOws(buf[i]!) && buf[i] !== COMMA) i++;
    const len = i - ts;
    if (len === 0) continue;
    if (len === 5 && eqLower(buf, ts, T_CLOSE)) head.connectionClose = true;
    else if (len === 10 && eqLower(buf, ts, T_KEEP_ALIVE)) head.connectionKeepAlive = true;
    else if (len === 7 && eqLower(buf, ts, T_UPGRADE)) head.connectionUpgrade = true;
    else head.connectionOther = true;
  }
}

/**
 * Applies a Transfer-Encoding header (RFC 9112 §6.1). Returns an error description or null.
 * Requests accept exactly one `chunked` coding and nothing else (unknown or stacked codings → 400);
 * responses may stack codings, and are chunked only when chunked is the final one.
 */
function applyTransferEncoding(head: MessageHead, buf: Buffer, s: number, e: number, isRequest: boolean): string | null {
  let i = s;
  let tokens = 0;
  while (i < e) {
    while (i < e && (isOws(buf[i]!) || buf[i] === COMMA)) i++;
    const ts = i;
    while (i < e && !isOws(buf[i]!) && buf[i] !== COMMA) {
      if (!TCHAR[buf[i]!]) return "invalid transfer-encoding";
      i++;
    }
    const len = i - ts;
    if (len === 0) continue;
    tokens++;
    const isChunked = len === 7 && eqLower(buf, ts, T_CHUNKED);
    if (head.chunked) return "chunked is not the final transfer coding";
    if (isChunked) head.chunked = true;
    else if (isRequest) return "unsupported transfer coding";
  }
  if (tokens === 0) return "empty transfer-encoding";
  if (isRequest && head.hasTransferEncoding) return "repeated transfer-encoding";
  head.hasTransferEncoding = true;
  return null;
}

/** Parses a Content-Length value (a list of identical decimal values is tolerated, RFC 9110 §8.6). */
function parseContentLength(buf: Buffer, s: number, e: number): number {
  let value = -1;
  let i = s;
  while (i < e) {
    while (i < e && (isOws(buf[i]!) || buf[i] === COMMA)) i++;
    if (i >= e) break;
    let n = 0;
    let digits = 0;
    while (i < e && buf[i]! >= 48 && buf[i]! <= 57) {
      n = n * 10 + (buf[i]! - 48);
      digits++;
      i++;
    }
    if (digits === 0 || digits > 15) return -2;
    while (i < e && isOws(buf[i]!)) i++;
    if (i < e && buf[i] !== COMMA) return -2;
    if (value !== -1 && value !== n) return -2;
    value = n;
  }
  return value === -1 ? -2 : value;
}

// === Common field parsing ===

function protocolError(isRequest: boolean, reason: string): ProxyError {
  return isRequest ? new MalformedRequestError(reason) : new UpstreamProtocolError(`invalid response: ${reason}`);
}

function framingError(isRequest: boolean, reason: string): ProxyError {
  return isRequest ? new RequestFramingError(reason) : new UpstreamProtocolError(`invalid response framing: ${reason}`);
}

/**
 * Parses header lines starting at `pos` until the blank line. Returns the index after the head,
 * -1 when more bytes are needed, or an error.
 */
function parseFields(head: MessageHead, buf: Buffer, pos: number, limits: HeadLimits, isRequest: boolean): number | ProxyError {
  const end = buf.length;
  const fields = head.fields;
  let count = 0;
  for (;;) {
    if (pos >= end) return -1;
    let c = buf[pos]!;
    if (c === CR) {
      if (pos + 1 >= end) return -1;
      if (buf[pos + 1] !== LF) return protocolError(isRequest, "bare CR");
      head.fieldCount = count;
      return pos + 2;
    }
    if (c === LF) return protocolError(isRequest, "bare LF");
    if (isOws(c)) return protocolError(isRequest, "obsolete line folding");
    // field-name
    const ns = pos;
    while (pos < end && TCHAR[buf[pos]!]) pos++;
    if (pos >= end) return -1;
    if (buf[pos] !== COLON) return protocolError(isRequest, pos === ns ? "empty header name" : "invalid header name");
    const ne = pos;
    if (ne === ns) return protocolError(isRequest, "empty header name");
    pos++;
    while (pos < end && isOws(buf[pos]!)) pos++;
    const vs = pos;
    // field-value: visible chars, SP, HTAB, obs-text; ends at CR LF.
    for (;;) {
      if (pos >= end) return -1;
      c = buf[pos]!;
      if (c < 0x20 ? c !== HTAB : c === 0x7f) break;
      pos++;
    }
    if (c !== CR) return protocolError(isRequest, c === LF ? "bare LF" : "control character in header value");
    if (pos + 1 >= end) return -1;
    if (buf[pos + 1] !== LF) return protocolError(isRequest, "bare CR");
    let ve = pos;
    while (ve > vs && isOws(buf[ve - 1]!)) ve--;
    pos += 2;
    if (++count > limits.maxHeaders) {
      return isRequest ? new TooManyHeadersError(limits.maxHeaders) : new UpstreamProtocolError("invalid response: too many headers");
    }
    const kind = classify(buf, ns, ne - ns);
    fields.push(kind, ns, ne, vs, ve);
    if (kind !== K_OTHER) {
      head.kindMask |= 1 << kind;
      const err = applyKnown(head, kind, buf, vs, ve, isRequest);
      if (err !== null) return err;
    }
  }
}

function applyKnown(head: MessageHead, kind: number, buf: Buffer, vs: number, ve: number, isRequest: boolean): ProxyError | null {
  switch (kind) {
    case K_CONTENT_LENGTH: {
      const n = parseContentLength(buf, vs, ve);
      if (n < 0) return framingError(isRequest, "invalid content-length");
      if (head.contentLength !== -1 && head.contentLength !== n) return framingError(isRequest, "conflicting content-length values");
      head.contentLength = n;
      return null;
    }
    case K_TRANSFER_ENCODING: {
      const reason = applyTransferEncoding(head, buf, vs, ve, isRequest);
      return reason === null ? null : framingError(isRequest, reason);
    }
    case K_CONNECTION:
      applyConnection(head, buf, vs, ve);
      return null;
    case K_HOST:
      head.hostCount++;
      head.hostStart = vs;
      head.hostEnd = ve;
      return null;
    case K_UPGRADE:
      head.upgrade = ve - vs === 3 && eqLower(buf, vs, T_H2C) ? UPGRADE_H2C : UPGRADE_OTHER;
      return null;
    case K_EXPECT:
      if (ve - vs === 12 && eqLower(buf, vs, T_100_CONTINUE)) head.expectContinue = true;
      return null;
    default:
      return null;
  }
}

const VERSION_MALFORMED = -1;
const VERSION_UNSUPPORTED = -2;

/**
 * Parses the 8 HTTP-version bytes at pos ("HTTP/" DIGIT "." DIGIT, RFC 9112 §2.3): the minor
 * version of HTTP/1.0 or 1.1, VERSION_UNSUPPORTED for any other well-formed version, else VERSION_MALFORMED.
 */
function parseVersion(buf: Buffer, pos: number): number {
  // "HTTP/"
  if (buf[pos] !== 72 || buf[pos + 1] !== 84 || buf[pos + 2] !== 84 || buf[pos + 3] !== 80 || buf[pos + 4] !== 47) return VERSION_MALFORMED;
  const major = buf[pos + 5]! - 48;
  const minor = buf[pos + 7]! - 48;
  if (major < 0 || major > 9 || buf[pos + 6] !== 46 || minor < 0 || minor > 9) return VERSION_MALFORMED;
  return major === 1 && minor <= 1 ? minor : VERSION_UNSUPPORTED;
}

// === Methods ===

function methodName(buf: Buffer, s: number, len: number): string {
  const c0 = buf[s];
  switch (len) {
    case 3:
      if (c0 === 71 && buf[s + 1] === 69 && buf[s + 2] === 84) return "GET";
      if (c0 === 80 && buf[s + 1] === 85 && buf[s + 2] === 84) return "PUT";
      break;
    case 4:
      if (c0 === 80 && buf[s + 1] === 79 && buf[s + 2] === 83 && buf[s + 3] === 84) return "POST";
      if (c0 === 72 && buf[s + 1] === 69 && buf[s + 2] === 65 && buf[s + 3] === 68) return "HEAD";
      break;
  }
  return buf.toString("latin1", s, s + len);
}

// === Request heads ===

/**
 * Parses a request head from `buf[start..]`. Returns the head, null when more bytes are needed,
 * or the error to rescue (400/431) — after which the connection must close. `fields`, when given, is
 * cleared and reused for the field offsets (one array per connection instead of one per request).
 */
export function parseRequestHead(buf: Buffer, start: number, limits: HeadLimits, fields?: number[]): RequestHead | ProxyError | null {
  const end = buf.length;
  let pos = start;
  // RFC 9112 §2.2: ignore at least one empty line before the request-line.
  for (let skipped = 0; skipped < 4 && pos + 1 < end && buf[pos] === CR && buf[pos + 1] === LF; skipped++) pos += 2;
  if (pos + 1 === end && buf[pos] === CR) return null;
  const lineStart = pos;
  // method
  while (pos < end && TCHAR[buf[pos]!]) pos++;
  if (pos >= end) return incomplete(buf, start, limits);
  if (buf[pos] !== SP || pos === lineStart) return new MalformedRequestError("invalid request method");
  const method = methodName(buf, lineStart, pos - lineStart);
  pos++;
  // request-target: any byte above SP except DEL (RFC 9112 §3.2: no controls; HAProxy refuses them too)
  const ts = pos;
  while (pos < end) {
    const c = buf[pos]!;
    if (c <= SP || c === 0x7f) break;
    pos++;
  }
  if (pos >= end) return incomplete(buf, start, limits);
  if (buf[pos] !== SP || pos === ts) {
    const c = buf[pos]!;
    const control = pos > ts && c !== CR && c !== LF && (c < SP || c === 0x7f);
    return new MalformedRequestError(control ? `control character 0x${c.toString(16).padStart(2, "0")} in request target` : "invalid request target");
  }
  const te = pos;
  pos++;
  if (end - pos < 10) return incomplete(buf, start, limits);
  const minor = parseVersion(buf, pos);
  if (minor === VERSION_UNSUPPORTED) return new HttpVersionNotSupportedError(buf.toString("latin1", pos, pos + 8));
  if (minor < 0) return new MalformedRequestError("invalid http version");
  if (buf[pos + 8] !== CR || buf[pos + 9] !== LF) return new MalformedRequestError("invalid request line");
  pos += 10;

  const head = new RequestHead(buf, fields);
  head.start = lineStart;
  head.method = method;
  head.minorVersion = minor;
  head.targetStart = ts;
  head.targetEnd = te;
  head.isHead = method === "HEAD";
  head.isConnect = method === "CONNECT";
  const fieldsEnd = parseFields(head, buf, pos, limits, true);
  if (typeof fieldsEnd !== "number") return fieldsEnd;
  if (fieldsEnd < 0) return incomplete(buf, start, limits);
  if (fieldsEnd - start > limits.maxHeadBytes) return new HeadTooLargeError(limits.maxHeadBytes);
  head.end = fieldsEnd;
  return validateRequest(head);
}

function incomplete(buf: Buffer, start: number, limits: HeadLimits): HeadTooLargeError | null {
  return buf.length - start > limits.maxHeadBytes ? new HeadTooLargeError(limits.maxHeadBytes) : null;
}

const SCHEME_HTTP = lit("http://");

/** Request-target form (RFC 9112 §3.2), Host rules and framing conflicts (RFC 9112 §6). */
function validateRequest(head: RequestHead): RequestHead | ProxyError {
  const buf = head.buf;
  const ts = head.targetStart;
  const te = head.targetEnd;
  if (buf[ts] === 47 /* / */) {
    head.targetForm = TARGET_ORIGIN;
    if (head.isConnect) return new MalformedRequestError("connect requires an authority-form target");
  } else if (te - ts === 1 && buf[ts] === 42 /* * */) {
    if (head.method !== "OPTIONS") return new MalformedRequestError("asterisk-form target is only valid for options");
    head.targetForm = TARGET_ASTERISK;
  } else if (head.isConnect) {
    // authority-form: host:port, no scheme, no path
    let colon = -1;
    for (let i = ts; i < te; i++) {
      const c = buf[i]!;
      if (c === 47 || c === 64 /* @ */ || c === 63 /* ? */ || c === 35 /* # */) return new MalformedRequestError("invalid connect target");
      if (c === COLON) colon = i;
    }
    if (colon <= ts || colon === te - 1) return new MalformedRequestError("connect target requires a port");
    if (head.minorVersion !== 1) return new MalformedRequestError("connect requires http/1.1");
    head.targetForm = TARGET_AUTHORITY;
    head.authorityStart = ts;
    head.authorityEnd = te;
  } else if (te - ts > 7 && eqLower(buf, ts, SCHEME_HTTP)) {
    head.targetForm = TARGET_ABSOLUTE;
    head.authorityStart = ts + 7;
    let i = ts + 7;
    while (i < te && buf[i] !== 47 && buf[i] !== 63 && buf[i] !== 35) i++;
    if (i === ts + 7) return new MalformedRequestError("absolute-form target without authority");
    for (let j = ts + 7; j < i; j++) if (buf[j] === 64) return new MalformedRequestError("userinfo in request target");
    head.authorityEnd = i;
    head.pathStart = i;
  } else {
    return new MalformedRequestError("invalid request target");
  }
  // RFC 9112 §3.2: HTTP/1.1 requires exactly one Host; more than one is always an error.
  if (head.hostCount > 1) return new MalformedRequestError("multiple host headers");
  if (head.hostCount === 0 && head.minorVersion === 1 && head.targetForm !== TARGET_ABSOLUTE) {
    return new MalformedRequestError("missing host header");
  }
  // RFC 9112 §6.1/§6.3: no smuggling through conflicting framing.
  if (head.hasTransferEncoding) {
    if (head.contentLength !== -1) return new RequestFramingError("both content-length and transfer-encoding");
    if (head.minorVersion === 0) return new RequestFramingError("transfer-encoding in an http/1.0 request");
  }
  return head;
}

// === Response heads ===

/**
 * Parses a response head from `buf[start..]`. Returns the head, null when more bytes are needed, or
 * an UpstreamProtocolError (→ 502). `fields` as for parseRequestHead.
 */
export function parseResponseHead(buf: Buffer, start: number, limits: HeadLimits, fields?: number[]): ResponseHead | ProxyError | null {
  const end = buf.length;
  if (end - start < 14) return start === end || looksLikeStatusPrefix(buf, start) ? null : new UpstreamProtocolError("invalid response: bad status line");
  const minor = parseVersion(buf, start);
  if (minor < 0 || buf[start + 8] !== SP) return new UpstreamProtocolError("invalid response: bad status line");
  const d0 = buf[start + 9]! - 48;
  const d1 = buf[start + 10]! - 48;
  const d2 = buf[start + 11]! - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return new UpstreamProtocolError("invalid response: bad status code");
  let pos = start + 12;
  const after = buf[pos];
  if (after !== SP && after !== CR) return new UpstreamProtocolError("invalid response: bad status line");
  // reason-phrase: HTAB, SP, VCHAR, obs-text
  for (;;) {
    if (pos >= end) return incompleteResponse(buf, start, limits);
    const c = buf[pos]!;
    if (c < 0x20 ? c !== HTAB : c === 0x7f) break;
    pos++;
  }
  if (buf[pos] !== CR) return new UpstreamProtocolError("invalid response: bad reason phrase");
  if (pos + 1 >= end) return incompleteResponse(buf, start, limits);
  if (buf[pos + 1] !== LF) return new UpstreamProtocolError("invalid response: bare CR");
  const head = new ResponseHead(buf, fields);
  head.start = start;
  head.minorVersion = minor;
  head.status = d0 * 100 + d1 * 10 + d2;
  head.statusEnd = start + 12;
  const fieldsEnd = parseFields(head, buf, pos + 2, limits, false);
  if (typeof fieldsEnd !== "number") return fieldsEnd;
  if (fieldsEnd < 0) return incompleteResponse(buf, start, limits);
  if (fieldsEnd - start > limits.maxHeadBytes) return new UpstreamProtocolError("invalid response: head too large");
  head.end = fieldsEnd;
  if (head.hasTransferEncoding && head.contentLength !== -1) {
    return new UpstreamProtocolError("invalid response framing: both content-length and transfer-encoding");
  }
  return head;
}

const HTTP_PREFIX = lit("HTTP/1.");

function looksLikeStatusPrefix(buf: Buffer, start: number): boolean {
  const n = Math.min(buf.length - start, HTTP_PREFIX.length);
  for (let i = 0; i < n; i++) if (buf[start + i] !== HTTP_PREFIX[i]) return false;
  return true;
}

function incompleteResponse(buf: Buffer, start: number, limits: HeadLimits): ProxyError | null {
  return buf.length - start > limits.maxHeadBytes ? new UpstreamProtocolError("invalid response: head too large") : null;
}
