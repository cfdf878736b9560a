// The session's frame output: the bytes equal the frames-writer serializers', views already taken
// never change when more is written (the slab only moves forward), and large payloads are referenced.
import { describe, expect, test } from "bun:test";
import { FLAG, FRAME } from "../../../src/h2/frame-types.ts";
import { FrameOutput } from "../../../src/h2/frame-output.ts";
import { frameHeader, rstStreamFrame, windowUpdateFrame } from "../../../src/h2/frames-writer.ts";

describe("FrameOutput", () => {
  test("frames written in place are the serializers' bytes, in order, in one view", () => {
    const out = new FrameOutput();
    expect(out.take()).toBeNull();
    out.frameHeader(3, FRAME.DATA, FLAG.END_STREAM, 5);
    out.bytes(new Uint8Array([1, 2, 3]));
    out.frameWithU32(FRAME.WINDOW_UPDATE, 0, 0, 70_000);
    out.frameWithU32(FRAME.RST_STREAM, 0, 7, 8);
    const want = Buffer.concat([frameHeader(3, FRAME.DATA, FLAG.END_STREAM, 5), Buffer.from([1, 2, 3]), windowUpdateFrame(0, 70_000), rstStreamFrame(7, 8)]);
    expect(out.pendingBytes).toBe(want.length);
    expect(Buffer.copyBytesFrom(out.take()!)).toEqual(want);
    expect(out.take()).toBeNull();
  });

  test("a view taken earlier keeps its bytes while later frames fill and outgrow the slab", () => {
    const out = new FrameOutput();
    const taken: { view: Uint8Array; copy: Uint8Array }[] = [];
    for (let i = 0; i < 200; i++) {
      out.frameHeader(100, FRAME.DATA, 0, 2 * i + 1);
      out.bytes(new Uint8Array(100).fill(i & 0xff));
      const view = out.take()!;
      taken.push({ view, copy: Buffer.copyBytesFrom(view) });
    }
    for (const { view, copy } of taken) expect(Buffer.compare(view, copy)).toBe(0);
  });

  test("copyOf copies a range byte-exact, short and long ones, and one larger than a slab gets its own", () => {
    const out = new FrameOutput();
    const src = new Uint8Array(40_000).map((_, i) => (i * 7) & 0xff);
    out.copyOf(src, 3, 3); // empty: nothing
    expect(out.take()).toBeNull();
    out.frameHeader(20, FRAME.HEADERS, FLAG.END_HEADERS, 1);
    out.copyOf(src, 5, 25);
    out.copyOf(src, 100, 1100);
    out.copyOf(src, 1000, 39_000);
    const want = Buffer.concat([frameHeader(20, FRAME.HEADERS, FLAG.END_HEADERS, 1), src.subarray(5, 25), src.subarray(100, 1100), src.subarray(1000, 39_000)]);
    const got = out.take()!;
    expect(Buffer.copyBytesFrom(got)).toEqual(want);
    src.fill(0); // copies, not references: what was taken keeps its bytes
    expect(Buffer.copyBytesFrom(got)).toEqual(want);
  });

  test("a large payload is referenced (not copied) unless the caller asks for a copy", () => {
    const out = new FrameOutput();
    const big = new Uint8Array(4096).fill(9);
    out.bytes(big);
    expect(out.take()).toBe(big);
    out.bytes(big, true);
    const copied = out.take()!;
    expect(copied).not.toBe(big);
    big.fill(1); // the caller reuses its buffer: the copy keeps the old bytes
    expect(copied.every((b) => b === 9)).toBe(true);
  });
});
