// HTTP/2 protocol errors (RFC 9113 §7): the error code registry and the one typed failure every h2
// module raises — a connection error (answered with GOAWAY) or a stream error (answered with RST_STREAM).
import type { H2AbuseKind } from "./abuse-limits.ts";

/** RFC 9113 §7 error codes, as sent in RST_STREAM and GOAWAY. */
export const H2_ERROR = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

export type H2ErrorName = keyof typeof H2_ERROR;

const NAMES: string[] = [];
for (const [name, code] of Object.entries(H2_ERROR)) NAMES[code] = name;

/** The registry name of an error code ("PROTOCOL_ERROR"), or "UNKNOWN_0x…" for codes outside it. */
export function h2ErrorName(code: number): string {
  return NAMES[code] ?? `UNKNOWN_0x${code.toString(16)}`;
}

/** Whether the failure ends the whole connection (GOAWAY) or one stream (RST_STREAM). */
export type H2ErrorScope = "connection" | "stream";

/**
 * A protocol failure with its RFC 9113 code. `streamId` is the stream it concerns (0 for the
 * connection). Raised by the frame reader, the HPACK decoder and the session; the session is the one
 * place that turns it into GOAWAY or RST_STREAM.
 */
export class H2Error extends Error {
  override readonly name = "H2Error";
  /** Set when the peer broke an abuse limit (abuse-limits.ts): the kind the engine counts. */
  readonly abuse: H2AbuseKind | undefined;
  constructor(
    readonly scope: H2ErrorScope,
    readonly code: number,
    readonly streamId: number,
    readonly reason: string,
    options?: { cause?: unknown; abuse?: H2AbuseKind },
  ) {
    super(`${h2ErrorName(code)} (${scope}${scope === "stream" ? ` ${streamId}` : ""}): ${reason}`, options);
    this.abuse = options?.abuse;
  }
}

/** A connection error: the session answers it with GOAWAY(code) and stops. */
export function connectionError(code: number, reason: string): H2Error {
  return new H2Error("connection", code, 0, reason);
}

/** A stream error: the session answers it with RST_STREAM(code) on `streamId` and goes on. */
export function streamError(streamId: number, code: number, reason: string): H2Error {
  return new H2Error("stream", code, streamId, reason);
}
