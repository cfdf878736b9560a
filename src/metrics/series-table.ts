// A keyed table of metric series objects bounded in time and count: a series idle for longer than
// retainIdleMs is dropped at scrape time (Linkerd's METRICS_RETAIN_IDLE), and beyond maxSeriesPerFamily
// new label sets share one overflow series, so memory and scrape size stay flat whatever the traffic.
//
// Contract with series and their holders:
// - Recording touches a series with one field write: `series.lastTouchedMs = clock.nowMs`, where clock
//   is the table's CoarseClock (a number refreshed by a timer), never a clock call per request.
// - A dropped series gets `evicted = true` and is forgotten by the table; counts recorded into it later
//   are never scraped. A holder that caches a series must re-fetch it when `series.evicted` is true
//   (one field read per use), and should not keep a cache that grows with label sets the table dropped.
// - A series is dropped only after it has been idle for retainIdleMs plus one coarse-clock tick (never
//   early); an idle series is absent from the first scrape after that. Counters of a label set that
//   comes back start again from zero, as Linkerd's do (Prometheus reads it as a counter reset).
// - The overflow series is created on the first fold and expires like any other when folds stop.
import type { CoarseClock } from "../rt/coarse-clock.ts";
import type { SeriesLimits } from "./series-limits.ts";

/**
 * The label value that marks a family's overflow series. Each family puts it in a label whose real
 * values always contain a colon (`host:port`: target_addr, dst), so it never names a real series.
 */
export const OVERFLOW_LABEL_VALUE = "overflow";

/** How a metrics object bounds its series; the process-wide clock and limits when left out. */
export interface SeriesOptions {
  readonly clock?: CoarseClock;
  readonly limits?: Readonly<SeriesLimits>;
}

/** What a table needs of a series object. */
export interface Series {
  /** Coarse monotonic ms of the last record; the series' record methods set it from the table's clock. */
  lastTouchedMs: number;
  /** Set once, when the table drops the series: a holder must re-fetch (see the module header). */
  evicted: boolean;
}

export class SeriesTable<S extends Series> {
  readonly #series = new Map<string, S>();
  #overflow: S | undefined;
  #sweptThisTurn = false;
  /** Lookups of a new label set that found the table full and returned the overflow series. */
  folds = 0;

  /**
   * `limits` is read at every insert and sweep (a live object: see configureMetrics). `newOverflow`
   * makes the one series that folded label sets share; its labels must not collide with real ones.
   */
  constructor(
    readonly clock: CoarseClock,
    private readonly limits: Readonly<SeriesLimits>,
    private readonly newOverflow: () => S,
  ) {}

  /**
   * The series for `key`; `create` makes it when the key is new and the table has room, otherwise the
   * overflow series is returned (and the fold counted). Holders cache the result (see the header).
   */
  get(key: string, create: () => S): S {
    let s = this.#series.get(key);
    if (s !== undefined) return s;
    if (this.#series.size >= this.limits.maxSeriesPerFamily) {
      this.folds++;
      s = this.#overflow;
      if (s === undefined) {
        s = this.newOverflow();
        s.lastTouchedMs = this.clock.nowMs;
        this.#overflow = s;
      }
      return s;
    }
    s = create();
    s.lastTouchedMs = this.clock.nowMs;
    this.#series.set(key, s);
    return s;
  }

  /**
   * Drops every series idle for longer than retainIdleMs. Call it at scrape, before rendering. The
   * families of one table render in the same synchronous turn of one scrape: only the turn's first call
   * sweeps, so all of them show the same series.
   */
  expireIdle(): void {
    if (this.#sweptThisTurn) return;
    this.#sweptThisTurn = true;
    queueMicrotask(() => {
      this.#sweptThisTurn = false;
    });
    // lastTouchedMs is up to one tick behind the real touch: adding a tick never drops a series early.
    const touchedBefore = this.clock.tick() - this.limits.retainIdleMs - this.clock.tickMs;
    for (const [key, s] of this.#series) {
      if (s.lastTouchedMs < touchedBefore) {
        s.evicted = true;
        this.#series.delete(key);
      }
    }
    const overflow = this.#overflow;
    if (overflow !== undefined && overflow.lastTouchedMs < touchedBefore) {
      overflow.evicted = true;
      this.#overflow = undefined;
    }
  }

  /** Series held now, the overflow series last. */
  *values(): Generator<S> {
    yield* this.#series.values();
    if (this.#overflow !== undefined) yield this.#overflow;
  }

  /** Label sets held now, not counting the overflow series. */
  get size(): number {
    return this.#series.size;
  }

  /** The overflow series, while it exists. */
  get overflow(): S | undefined {
    return this.#overflow;
  }
}
