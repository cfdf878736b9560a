// The tap stream's decoder for clients (`meshlet tap`, `meshlet top`). The proxy encodes with
// src/tap/event-encoder.ts: plain MessagePack maps, no records/structures extension, so a browser decoder
// with default options (the dashboard's msgpackr) reads every frame too (obs-contract §2). A frame holds
// one or more events back to back; the CLI reads them with the encoder's counterpart, event-decoder.ts.
import { TapEventDecoder } from "./event-decoder.ts";

/** A reader of frames: every event of one frame, in order (throws TapFrameError on bytes it cannot read). */
export function tapFrameReader(): (bytes: Uint8Array) => unknown[] {
  const decoder = new TapEventDecoder();
  return (bytes) => decoder.decodeAll(bytes);
}
