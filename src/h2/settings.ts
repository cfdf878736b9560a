// HTTP/2 SETTINGS (RFC 9113 §6.5.2) as this codec uses them: what we advertise by default, what the
// peer is assumed to allow until it says otherwise, and how a SETTINGS payload updates the latter.
import { forEachSetting } from "./frames-reader.ts";
import { DEFAULT_HEADER_TABLE_BYTES, DEFAULT_MAX_FRAME_BYTES, DEFAULT_WINDOW_BYTES, SETTING } from "./frame-types.ts";

/** The limits one endpoint announces. */
export interface H2Settings {
  /** SETTINGS_HEADER_TABLE_SIZE: HPACK dynamic table bound for the blocks this side decodes. */
  headerTableBytes: number;
  /** SETTINGS_ENABLE_PUSH (a client of this codec always sends 0). */
  enablePush: boolean;
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams the other side may open at once. */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window before any WINDOW_UPDATE. */
  initialWindowBytes: number;
  /** SETTINGS_MAX_FRAME_SIZE: the largest frame payload accepted. */
  maxFrameBytes: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: decoded header list bound (name + value + 32 per field). */
  maxHeaderListBytes: number;
}

/** What this codec advertises unless told otherwise. */
export const DEFAULT_LOCAL_SETTINGS: Readonly<H2Settings> = {
  headerTableBytes: DEFAULT_HEADER_TABLE_BYTES,
  enablePush: false,
  maxConcurrentStreams: 100,
  initialWindowBytes: DEFAULT_WINDOW_BYTES,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxHeaderListBytes: 65_536,
};

/** RFC 9113 initial values: what a peer allows before its first SETTINGS frame. */
export function initialPeerSettings(): H2Settings {
  return {
    headerTableBytes: DEFAULT_HEADER_TABLE_BYTES,
    enablePush: true,
    maxConcurrentStreams: Number.POSITIVE_INFINITY,
    initialWindowBytes: DEFAULT_WINDOW_BYTES,
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    maxHeaderListBytes: Number.POSITIVE_INFINITY,
  };
}

/** The (id, value) pairs announcing `s` (ENABLE_PUSH only when `withPush`, as servers omit it). */
export function settingsPairs(s: H2Settings, withPush: boolean): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  if (s.headerTableBytes !== DEFAULT_HEADER_TABLE_BYTES) pairs.push([SETTING.HEADER_TABLE_SIZE, s.headerTableBytes]);
  if (withPush) pairs.push([SETTING.ENABLE_PUSH, s.enablePush ? 1 : 0]);
  pairs.push([SETTING.MAX_CONCURRENT_STREAMS, s.maxConcurrentStreams]);
  if (s.initialWindowBytes !== DEFAULT_WINDOW_BYTES) pairs.push([SETTING.INITIAL_WINDOW_SIZE, s.initialWindowBytes]);
  if (s.maxFrameBytes !== DEFAULT_MAX_FRAME_BYTES) pairs.push([SETTING.MAX_FRAME_SIZE, s.maxFrameBytes]);
  pairs.push([SETTING.MAX_HEADER_LIST_SIZE, s.maxHeaderListBytes]);
  return pairs;
}

/** Applies a validated SETTINGS payload (ranges were checked by the frame reader) to `s`. */
export function applySettings(s: H2Settings, payload: Uint8Array): void {
  forEachSetting(payload, (id, value) => {
    switch (id) {
      case SETTING.HEADER_TABLE_SIZE:
        s.headerTableBytes = value;
        break;
      case SETTING.ENABLE_PUSH:
        s.enablePush = value === 1;
        break;
      case SETTING.MAX_CONCURRENT_STREAMS:
        s.maxConcurrentStreams = value;
        break;
      case SETTING.INITIAL_WINDOW_SIZE:
        s.initialWindowBytes = value;
        break;
      case SETTING.MAX_FRAME_SIZE:
        s.maxFrameBytes = value;
        break;
      case SETTING.MAX_HEADER_LIST_SIZE:
        s.maxHeaderListBytes = value;
        break;
    }
  });
}
