// Collects the header edits filters ask for on one message (drop by name, add a line) in the form the
// head writer applies while copying: recognised names become kind bits, others a short name list.
import { K_L5D_CLIENT_ID, K_L5D_DST_CANONICAL, K_L5D_PROXY_CONNECTION, K_L5D_PROXY_ERROR, kindBit } from "./head-parser.ts";
import type { HeaderEdits } from "./head-writer.ts";

/** Names the parser recognises, so dropping them is a mask bit instead of a name compare per line. */
const KIND_BY_NAME: ReadonlyMap<string, number> = new Map([
  ["l5d-client-id", K_L5D_CLIENT_ID],
  ["l5d-proxy-error", K_L5D_PROXY_ERROR],
  ["l5d-proxy-connection", K_L5D_PROXY_CONNECTION],
  ["l5d-dst-canonical", K_L5D_DST_CANONICAL],
]);

/** RFC 9110 field-name (token). */
const FIELD_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

export class HeaderEditor implements HeaderEdits {
  dropMask = 0;
  dropNames: string[] | null = null;
  addLines = "";

  drop(lowerName: string): void {
    const kind = KIND_BY_NAME.get(lowerName);
    if (kind !== undefined) this.dropMask |= kindBit(kind);
    else (this.dropNames ??= []).push(lowerName);
  }

  /** Adds `name: value`; an invalid name throws (a filter bug), CR/LF/NUL and non-latin1 become spaces. */
  add(name: string, value: string): void {
    if (!FIELD_NAME.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    this.addLines += `${name}: ${value.replace(/[^\t\x20-\x7e\x80-\xff]/g, " ")}\r\n`;
  }
}
