// The bounded memory of a session's closed streams: the last CLOSED_STREAMS_REMEMBERED ids in a ring,
// each with whether we reset it. Remembering is O(1) and allocates nothing (it happens per stream);
// looking up scans the ring, which only frames on streams that are no longer open do.

/** Closed streams remembered, to tell "closed" (STREAM_CLOSED, or ignore after our RST) from "never opened". */
export const CLOSED_STREAMS_REMEMBERED = 512;

export class ClosedStreams {
  private readonly ids = new Int32Array(CLOSED_STREAMS_REMEMBERED); // 0: empty slot (no stream has id 0)
  private readonly resetByUs = new Uint8Array(CLOSED_STREAMS_REMEMBERED);
  private next = 0;

  remember(id: number, resetByUs: boolean): void {
    const i = this.next;
    this.ids[i] = id;
    this.resetByUs[i] = resetByUs ? 1 : 0;
    this.next = i + 1 === CLOSED_STREAMS_REMEMBERED ? 0 : i + 1;
  }

  /** The stream is among the remembered closed ones. */
  has(id: number): boolean {
    return this.slotOf(id) >= 0;
  }

  /** The stream is remembered as reset by us (frames still in flight on it are ignored). */
  wasResetByUs(id: number): boolean {
    const i = this.slotOf(id);
    return i >= 0 && this.resetByUs[i] === 1;
  }

  /** The slot of the newest record of `id`, -1 if none. */
  private slotOf(id: number): number {
    const ids = this.ids;
    for (let k = 0, i = this.next; k < CLOSED_STREAMS_REMEMBERED; k++) {
      i = i === 0 ? CLOSED_STREAMS_REMEMBERED - 1 : i - 1;
      if (ids[i] === id) return i;
    }
    return -1;
  }
}
