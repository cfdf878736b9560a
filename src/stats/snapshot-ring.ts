// The ring of counter snapshots the proxy keeps for `GET /stats.json` and `meshlet stat`: one every
// SNAPSHOT_INTERVAL_MS, as many as the longest window needs (bounded memory: capacity × rows), plus a
// zero snapshot at process start so a window longer than the process's life counts exactly.
import type { Clock } from "../rt/clock.ts";
import { type CounterSnapshot, type CounterSources, emptySnapshot, takeSnapshot } from "./counter-snapshot.ts";

/** How often the ring copies the counters: the resolution of windows and history points. */
export const SNAPSHOT_INTERVAL_MS = 5_000;
/** The longest window /stats.json accepts. */
export const MAX_WINDOW_MS = 10 * 60_000;

export interface RingClocks {
  /** Orders snapshots and measures windows. */
  readonly monotonic: Clock;
  /** Stamps history points. */
  readonly wall: Clock;
}

/** What a window covers: `base` (the newest snapshot at least the window old, or the oldest kept), the snapshots after it, and now. */
export interface WindowSnapshots {
  readonly base: CounterSnapshot;
  /** Snapshots strictly between base and now, oldest first. */
  readonly between: readonly CounterSnapshot[];
  readonly now: CounterSnapshot;
}

export class SnapshotRing {
  readonly #snapshots: CounterSnapshot[] = [];
  readonly #capacity: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly sources: CounterSources,
    private readonly clocks: RingClocks,
    readonly intervalMs: number = SNAPSHOT_INTERVAL_MS,
    readonly maxWindowMs: number = MAX_WINDOW_MS,
  ) {
    // One more than the window needs, so a full window always has a base at least that old.
    this.#capacity = Math.ceil(maxWindowMs / intervalMs) + 2;
    this.#snapshots.push(emptySnapshot(clocks.monotonic.nowMs(), clocks.wall.nowMs()));
  }

  /** Starts the snapshot timer (unref'd: it never keeps the process alive). */
  start(): this {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.record(), this.intervalMs);
      this.#timer.unref();
    }
    return this;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Copies the counters now into the ring, dropping the oldest snapshot when full. The timer calls it. */
  record(): void {
    this.#snapshots.push(this.current());
    if (this.#snapshots.length > this.#capacity) this.#snapshots.shift();
  }

  /** Snapshots held now (the zero one at start included until it falls out). */
  get size(): number {
    return this.#snapshots.length;
  }

  /** The snapshots that make a window of `windowMs` ending now. */
  window(windowMs: number): WindowSnapshots {
    if (!(windowMs > 0) || windowMs > this.maxWindowMs) throw new RangeError(`window must be > 0 and at most ${this.maxWindowMs} ms (got ${windowMs})`);
    const now = this.current();
    const cutoff = now.atMs - windowMs;
    let baseIndex = 0;
    for (let i = this.#snapshots.length - 1; i >= 0; i--) {
      if (this.#snapshots[i]!.atMs <= cutoff) {
        baseIndex = i;
        break;
      }
    }
    return { base: this.#snapshots[baseIndex]!, between: this.#snapshots.slice(baseIndex + 1), now };
  }

  private current(): CounterSnapshot {
    return takeSnapshot(this.sources, this.clocks.monotonic.nowMs(), this.clocks.wall.nowMs());
  }
}
