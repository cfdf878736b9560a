// Serializes the heads the proxy forwards: its own HTTP/1.1 version, origin-form targets, hop-by-hop
// fields removed (RFC 9110 §7.6.1; Linkerd's list plus TE and Trailer) and connection fields re-added.
// Copies runs of kept header lines with one memcpy each; never decodes field values. Filters' header
// edits (drop by kind or name, added lines) are applied while copying, so untouched bytes stay as sent.
import {
  FIELD_STRIDE,
  K_CONNECTION,
  K_HOST,
  K_HTTP2_SETTINGS,
  K_KEEP_ALIVE,
  K_PROXY_CONNECTION,
  K_TE,
  K_TRAILER,
  K_TRANSFER_ENCODING,
  K_UPGRADE,
  TARGET_ABSOLUTE,
  type MessageHead,
  type RequestHead,
  type ResponseHead,
} from "./head-parser.ts";

/** Fields never forwarded in either direction. */
const HOP_BY_HOP = (1 << K_CONNECTION) | (1 << K_KEEP_ALIVE) | (1 << K_PROXY_CONNECTION) | (1 << K_TE) | (1 << K_TRAILER) | (1 << K_HTTP2_SETTINGS);
const DROP_UPGRADE = 1 << K_UPGRADE;
const DROP_HOST = 1 << K_HOST;
const DROP_TRANSFER_ENCODING = 1 << K_TRANSFER_ENCODING;

const HTTP11_CRLF = Buffer.from(" HTTP/1.1\r\n", "latin1");
const HTTP11 = Buffer.from("HTTP/1.1", "latin1");
const CONN_CLOSE = Buffer.from("connection: close\r\n", "latin1");
const CONN_KEEP_ALIVE = Buffer.from("connection: keep-alive\r\n", "latin1");
const CONN_UPGRADE = Buffer.from("connection: upgrade\r\n", "latin1");
const HOST_PREFIX = Buffer.from("host: ", "latin1");
const CRLF = Buffer.from("\r\n", "latin1");
const SLASH = Buffer.from("/", "latin1");

/**
 * Header edits asked for by the request pipeline's filters, applied as the head is copied. Reused per
 * exchange; `NO_EDITS` when nothing was asked (the common case costs nothing).
 */
export interface HeaderEdits {
  /** kindBit(K_*) of recognised header kinds to drop. */
  readonly dropMask: number;
  /** Lowercase names of other headers to drop; null when none. */
  readonly dropNames: readonly string[] | null;
  /** Complete lines (`name: value\r\n`) to add after the copied fields, latin1; "" when none. */
  readonly addLines: string;
}

export const NO_EDITS: HeaderEdits = Object.freeze({ dropMask: 0, dropNames: null, addLines: "" });

/** Upper bound of the bytes writeRequestHead/writeResponseHead add beyond the source head. */
export function forwardHeadCapacity(head: MessageHead, hostFallback: string, edits: HeaderEdits = NO_EDITS): number {
  return head.end - head.start + hostFallback.length * 3 + edits.addLines.length + 96;
}

/** Lowercase names listed in Connection (other than close/keep-alive/upgrade): hop-by-hop for this message. */
function connectionNamed(head: MessageHead): Set<string> {
  const names = new Set<string>();
  const f = head.fields;
  for (let i = 0; i < head.fieldCount * FIELD_STRIDE; i += FIELD_STRIDE) {
    if (f[i] !== K_CONNECTION) continue;
    for (const token of head.buf.toString("latin1", f[i + 3]!, f[i + 4]!).split(",")) {
      const name = token.trim().toLowerCase();
      if (name !== "" && name !== "close" && name !== "keep-alive" && name !== "upgrade") names.add(name);
    }
  }
  return names;
}

/** Whether a field's name is in `names` (lowercase); only for the rare heads a filter edits by name. */
function nameIn(buf: Buffer, start: number, end: number, names: readonly string[]): boolean {
  const name = buf.toString("latin1", start, end).toLowerCase();
  return names.includes(name);
}

/**
 * Copies header lines except those whose kind is in `dropMask`, named by Connection, or named in
 * `dropNames`; returns the new offset.
 */
function copyFields(head: MessageHead, out: Buffer, pos: number, dropMask: number, dropNames: readonly string[] | null): number {
  const f = head.fields;
  const n = head.fieldCount * FIELD_STRIDE;
  const buf = head.buf;
  const named = head.connectionOther ? connectionNamed(head) : null;
  const fieldsEnd = head.end - 2;
  let runStart = n > 0 ? f[1]! : fieldsEnd;
  for (let i = 0; i < n; i += FIELD_STRIDE) {
    const lineStart = f[i + 1]!;
    let drop = ((1 << f[i]!) & dropMask) !== 0;
    if (!drop && named !== null) drop = named.has(buf.toString("latin1", lineStart, f[i + 2]!).toLowerCase());
    if (!drop && dropNames !== null) drop = nameIn(buf, lineStart, f[i + 2]!, dropNames);
    if (!drop) continue;
    if (lineStart > runStart) pos += buf.copy(out, pos, runStart, lineStart);
    runStart = i + FIELD_STRIDE < n ? f[i + FIELD_STRIDE + 1]! : fieldsEnd;
  }
  if (fieldsEnd > runStart) pos += buf.copy(out, pos, runStart, fieldsEnd);
  return pos;
}

function firstFieldOrEnd(head: MessageHead): number {
  return head.fieldCount > 0 ? head.fields[1]! : head.end - 2;
}

/**
 * Writes the head to send upstream into `out` at 0 and returns its length. `out` must hold
 * forwardHeadCapacity(req, hostFallback) bytes. `upgrade`: keep Upgrade and send `connection:
 * upgrade` (a real upgrade; h2c is never one). `hostFallback`: the Host to send when the request has
 * none (HTTP/1.0), i.e. the destination authority.
 */
export function writeRequestHead(
  req: RequestHead,
  out: Buffer,
  upgrade: boolean,
  hostFallback: string,
  edits: HeaderEdits = NO_EDITS,
): number {
  const buf = req.buf;
  // "METHOD "
  let pos = buf.copy(out, 0, req.start, req.targetStart);
  let dropMask = HOP_BY_HOP | edits.dropMask;
  if (!upgrade) dropMask |= DROP_UPGRADE;
  if (req.targetForm === TARGET_ABSOLUTE) {
    // RFC 9112 §3.2.2: the absolute-form authority replaces Host; upstream gets origin-form.
    if (req.pathStart === req.targetEnd || buf[req.pathStart] !== 47) pos += SLASH.copy(out, pos);
    pos += buf.copy(out, pos, req.pathStart, req.targetEnd);
    dropMask |= DROP_HOST;
  } else {
    pos += buf.copy(out, pos, req.targetStart, req.targetEnd);
  }
  pos += HTTP11_CRLF.copy(out, pos);
  if (req.targetForm === TARGET_ABSOLUTE) {
    pos += HOST_PREFIX.copy(out, pos);
    pos += buf.copy(out, pos, req.authorityStart, req.authorityEnd);
    pos += CRLF.copy(out, pos);
  } else if (req.hostCount === 0) {
    pos += HOST_PREFIX.copy(out, pos);
    pos += out.write(hostFallback, pos, "latin1");
    pos += CRLF.copy(out, pos);
  }
  pos = copyFields(req, out, pos, dropMask, edits.dropNames);
  if (edits.addLines !== "") pos += out.write(edits.addLines, pos, "latin1");
  if (upgrade) pos += CONN_UPGRADE.copy(out, pos);
  pos += CRLF.copy(out, pos);
  return pos;
}

/** How the response's connection fields are rewritten for the client. */
export const CONN_HEADER_NONE = 0;
export const CONN_HEADER_CLOSE = 1;
export const CONN_HEADER_KEEP_ALIVE = 2;
export const CONN_HEADER_UPGRADE = 3;

/**
 * Writes the head to send to the client into `out` at `pos` and returns the new offset.
 * `dechunk` drops Transfer-Encoding (the body is de-chunked for an HTTP/1.0 client).
 */
export function writeResponseHead(
  res: ResponseHead,
  out: Buffer,
  pos: number,
  connHeader: number,
  dechunk: boolean,
  edits: HeaderEdits = NO_EDITS,
): number {
  const buf = res.buf;
  pos += HTTP11.copy(out, pos);
  // " 200 OK\r\n" as the upstream sent it
  pos += buf.copy(out, pos, res.start + 8, firstFieldOrEnd(res));
  let dropMask = HOP_BY_HOP | edits.dropMask;
  if (connHeader !== CONN_HEADER_UPGRADE) dropMask |= DROP_UPGRADE;
  if (dechunk) dropMask |= DROP_TRANSFER_ENCODING;
  pos = copyFields(res, out, pos, dropMask, edits.dropNames);
  if (edits.addLines !== "") pos += out.write(edits.addLines, pos, "latin1");
  switch (connHeader) {
    case CONN_HEADER_CLOSE: pos += CONN_CLOSE.copy(out, pos); break;
    case CONN_HEADER_KEEP_ALIVE: pos += CONN_KEEP_ALIVE.copy(out, pos); break;
    case CONN_HEADER_UPGRADE: pos += CONN_UPGRADE.copy(out, pos); break;
  }
  pos += CRLF.copy(out, pos);
  return pos;
}
