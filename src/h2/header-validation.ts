// HTTP/2 message checks (RFC 9113 §8.1–§8.3): which decoded header lists are well-formed requests,
// responses and trailers. A malformed message is a stream error PROTOCOL_ERROR (§8.1.1); each check
// names what is wrong. Also reads content-length for the DATA-sum check.
import { H2_ERROR, streamError } from "./errors.ts";

/** What a header block is, from its place in the stream. */
export type HeaderBlockKind = "request" | "response" | "informational" | "trailers";

/** Headers that only mean something on one HTTP/1 connection (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC: ReadonlySet<string> = new Set(["connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade"]);

/** Field-name octets allowed (RFC 9113 §8.2.1): visible ASCII except uppercase; ':' only as pseudo prefix. */
const NAME_OK = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) NAME_OK[c] = c >= 0x41 && c <= 0x5a ? 0 : 1;
NAME_OK[0x3a] = 0;

function malformed(streamId: number, why: string): never {
  throw streamError(streamId, H2_ERROR.PROTOCOL_ERROR, `malformed message: ${why}`);
}

function checkName(streamId: number, name: string, from: number): void {
  if (name.length === from) malformed(streamId, "empty field name");
  for (let i = from; i < name.length; i++) {
    if (!NAME_OK[name.charCodeAt(i)]) malformed(streamId, `invalid character in field name ${JSON.stringify(name)}`);
  }
}

function checkValue(streamId: number, name: string, value: string): void {
  const n = value.length;
  if (n === 0) return;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(n - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) malformed(streamId, `field ${name} has leading or trailing whitespace`);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    // NUL, LF and CR are the only octets below 0x0e to check (a loop: cheaper than a regex per short value).
    if (c < 0x0e && (c === 0x00 || c === 0x0a || c === 0x0d)) malformed(streamId, `field ${name} contains NUL, CR or LF`);
  }
}

/** The pseudo-header values of one block (undefined = absent). Reused: one per session. */
export interface PseudoHeaders {
  method?: string;
  scheme?: string;
  authority?: string;
  path?: string;
  protocol?: string;
  status?: string;
}

type PseudoKey = keyof PseudoHeaders;
const REQUEST_PSEUDO: ReadonlyMap<string, PseudoKey> = new Map([
  [":method", "method"],
  [":scheme", "scheme"],
  [":authority", "authority"],
  [":path", "path"],
  [":protocol", "protocol"],
]);
const RESPONSE_PSEUDO: ReadonlyMap<string, PseudoKey> = new Map([[":status", "status"]]);

/**
 * Checks the fields common to every block: names, values, no connection-specific fields, `te` only
 * "trailers", pseudo-headers first and only those `allowed` (each once), collected into `pseudo`.
 * Returns the content-length (or -1).
 */
function checkFields(streamId: number, headers: readonly string[], allowed: ReadonlyMap<string, PseudoKey> | null, pseudo: PseudoHeaders): number {
  pseudo.method = pseudo.scheme = pseudo.authority = pseudo.path = pseudo.protocol = pseudo.status = undefined;
  let regularSeen = false;
  let contentLength = -1;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (allowed === null) malformed(streamId, `pseudo-header ${name} in trailers`);
      if (regularSeen) malformed(streamId, `pseudo-header ${name} after a regular field`);
      const key = allowed.get(name);
      if (key === undefined) malformed(streamId, `pseudo-header ${name} not allowed here`);
      if (pseudo[key] !== undefined) malformed(streamId, `pseudo-header ${name} repeated`);
      pseudo[key] = value;
    } else {
      regularSeen = true;
      checkName(streamId, name, 0);
      if (CONNECTION_SPECIFIC.has(name)) malformed(streamId, `connection-specific field ${name}`);
      if (name === "te" && value !== "trailers") malformed(streamId, `te: ${JSON.stringify(value)} (only "trailers" is allowed)`);
      if (name === "content-length") {
        if (!/^[0-9]{1,15}$/.test(value)) malformed(streamId, `content-length ${JSON.stringify(value)}`);
        const n = Number(value);
        if (contentLength >= 0 && contentLength !== n) malformed(streamId, "conflicting content-length values");
        contentLength = n;
      }
    }
    checkValue(streamId, name, value);
  }
  return contentLength;
}

export interface CheckedHead {
  /** Declared content-length, or -1. */
  contentLength: number;
  /** Request :method ("" for responses). */
  method: string;
  /** Response :status as a number (0 for requests). */
  status: number;
  /** Scratch for the pseudo-header values of the last block checked. */
  pseudo: PseudoHeaders;
}

/** RFC 9113 §8.3.1: a request's pseudo-headers and fields. */
export function checkRequest(streamId: number, headers: readonly string[], out: CheckedHead): void {
  const pseudo = out.pseudo;
  out.contentLength = checkFields(streamId, headers, REQUEST_PSEUDO, pseudo);
  const method = pseudo.method;
  if (method === undefined || method === "") malformed(streamId, "request without :method");
  out.method = method;
  out.status = 0;
  if (method === "CONNECT" && pseudo.protocol === undefined) {
    if (pseudo.scheme !== undefined || pseudo.path !== undefined) malformed(streamId, "CONNECT with :scheme or :path");
    if (!pseudo.authority) malformed(streamId, "CONNECT without :authority");
    return;
  }
  if (!pseudo.scheme) malformed(streamId, "request without :scheme");
  if (!pseudo.path) malformed(streamId, "request without :path");
}

/** RFC 9113 §8.3.2: a response (final or 1xx) with a valid three-digit :status. */
export function checkResponse(streamId: number, headers: readonly string[], out: CheckedHead): void {
  out.contentLength = checkFields(streamId, headers, RESPONSE_PSEUDO, out.pseudo);
  const status = out.pseudo.status;
  if (status === undefined || !/^[1-9][0-9][0-9]$/.test(status)) malformed(streamId, `response :status ${JSON.stringify(status ?? null)}`);
  out.status = Number(status);
  out.method = "";
  if (out.status === 101) malformed(streamId, "101 Switching Protocols is not allowed in HTTP/2");
}

/** RFC 9113 §8.1: trailers carry no pseudo-headers. */
export function checkTrailers(streamId: number, headers: readonly string[], scratch: PseudoHeaders): void {
  checkFields(streamId, headers, null, scratch);
}
