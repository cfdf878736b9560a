// The tap stream's decoder for clients (`meshlet tap`, `meshlet top`): msgpackr, loaded on first use. The
// proxy encodes with src/tap/event-encoder.ts: plain MessagePack maps, no records/structures extension,
// so a browser decoder with default options reads every frame too (obs-contract §2). A frame holds one
// or more events back to back: decode with unpackMultiple.
import { onFirstUse } from "../rt/on-first-use.ts";

/**
 * Every event of one frame, in order. `msgpackr/unpack` resolves to the pure-JS build under Bun's import
 * condition (the package root's Node build would also load its optional native string extractor).
 */
export const tapUnpack: () => Promise<(bytes: Uint8Array) => unknown[]> = onFirstUse(async () => {
  const { unpackMultiple } = await import("msgpackr/unpack");
  return (bytes: Uint8Array) => unpackMultiple(bytes) as unknown[];
});
