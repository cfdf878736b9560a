// msgpackr for the tap stream, loaded only when the first subscriber arrives (the sidecar that nobody
// taps never pays for it). Plain objects only: no records/structures extension, so a browser decoder
// with default options reads every frame (obs-contract §2).
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

/** The decoder for tap clients (CLI); same pure-JS build. */
export const tapUnpack: () => Promise<(bytes: Uint8Array) => unknown> = onFirstUse(async () => {
  const { unpack } = await import("msgpackr/unpack");
  return (bytes: Uint8Array) => unpack(bytes);
});
