// msgpackr for the tap stream, loaded only when the first subscriber arrives (the sidecar that nobody
// taps never pays for it). Plain objects only: no records/structures extension, so a browser decoder
// with default options reads every frame (obs-contract §2). A frame holds one or more packed events
// back to back: decode with unpackMultiple.
import type { Packr } from "msgpackr";
import { onFirstUse } from "../rt/on-first-use.ts";

/**
 * The packer, loaded on first use. `msgpackr/pack` resolves to the pure-JS build under Bun's import
 * condition (the package root's Node build would also load its optional native string extractor).
 */
export const tapPackr: () => Promise<Packr> = onFirstUse(async () => {
  const { Packr } = await import("msgpackr/pack");
  return new Packr({ useRecords: false });
});

/** The decoder for tap clients (CLI): every event of one frame (a frame holds one or more); same pure-JS build. */
export const tapUnpack: () => Promise<(bytes: Uint8Array) => unknown[]> = onFirstUse(async () => {
  const { unpackMultiple } = await import("msgpackr/unpack");
  return (bytes: Uint8Array) => unpackMultiple(bytes) as unknown[];
});
