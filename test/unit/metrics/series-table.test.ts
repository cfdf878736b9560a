// SeriesTable: idle series expire at scrape (never early) with the evicted flag set, the cap folds new
// label sets into one overflow series and counts the folds, and the map really shrinks.
import { describe, expect, test } from "bun:test";
import { CoarseClock } from "../../../src/rt/coarse-clock.ts";
import type { SeriesLimits } from "../../../src/metrics/series-limits.ts";
import { type Series, SeriesTable } from "../../../src/metrics/series-table.ts";

class FakeSeries implements Series {
  lastTouchedMs = 0;
  evicted = false;
  count = 0;
  constructor(
    readonly name: string,
    private readonly clock: CoarseClock,
  ) {}
  record(): void {
    this.lastTouchedMs = this.clock.nowMs;
    this.count++;
  }
}

const TICK_MS = 250;

function setup(limits: SeriesLimits) {
  let now = 1_000;
  const clock = new CoarseClock({ nowMs: () => now }, TICK_MS);
  const table = new SeriesTable<FakeSeries>(clock, limits, () => new FakeSeries("overflow", clock));
  const get = (key: string) => table.get(key, () => new FakeSeries(key, clock));
  /** Advances the fake time and lets the coarse clock see it (as its timer would). */
  const advance = (ms: number) => {
    now += ms;
    clock.tick();
  };
  /** What a scrape does: one sweep per synchronous turn, then reading the series. */
  const scrape = async () => {
    await Promise.resolve();
    table.expireIdle();
    return [...table.values()].map((s) => s.name);
  };
  return { table, get, advance, scrape };
}

describe("SeriesTable", () => {
  test("the same key gives the same series; new keys get their own", () => {
    const { get, table } = setup({ retainIdleMs: 10_000, maxSeriesPerFamily: 10 });
    const a = get("a");
    expect(get("a")).toBe(a);
    expect(get("b")).not.toBe(a);
    expect(table.size).toBe(2);
  });

  test("a series idle for longer than the window is absent from the next scrape, flagged evicted, and its slot freed", async () => {
    const { get, advance, scrape, table } = setup({ retainIdleMs: 10_000, maxSeriesPerFamily: 10 });
    const idle = get("idle");
    const busy = get("busy");
    idle.record();
    busy.record();
    advance(10_000);
    busy.record();
    // Idle for exactly the window: kept (never dropped early, whatever the tick).
    expect(await scrape()).toEqual(["idle", "busy"]);
    expect(idle.evicted).toBe(false);
    advance(TICK_MS + 1);
    expect(await scrape()).toEqual(["busy"]);
    expect(idle.evicted).toBe(true);
    expect(busy.evicted).toBe(false);
    expect(table.size).toBe(1);
    // A holder that sees the flag re-fetches: a fresh series, counting from zero.
    const again = get("idle");
    expect(again).not.toBe(idle);
    expect(again.count).toBe(0);
    expect(again.evicted).toBe(false);
  });

  test("a series created but not yet recorded counts as touched at creation", async () => {
    const { get, advance, scrape } = setup({ retainIdleMs: 1_000, maxSeriesPerFamily: 10 });
    advance(60_000);
    get("new");
    expect(await scrape()).toEqual(["new"]);
  });

  test("beyond the cap new label sets fold into one overflow series, and each fold is counted", async () => {
    const { get, table, scrape } = setup({ retainIdleMs: 10_000, maxSeriesPerFamily: 3 });
    const held = ["a", "b", "c"].map(get);
    const d = get("d");
    const e = get("e");
    expect(d.name).toBe("overflow");
    expect(e).toBe(d);
    expect(table.folds).toBe(2);
    expect(table.size).toBe(3);
    // Keys already held keep their own series at the cap.
    expect(get("a")).toBe(held[0]!);
    expect(table.folds).toBe(2);
    expect(await scrape()).toEqual(["a", "b", "c", "overflow"]);
    expect(table.overflow).toBe(d);
  });

  test("expiry makes room again; an idle overflow series expires like any other", async () => {
    const { get, advance, scrape, table } = setup({ retainIdleMs: 1_000, maxSeriesPerFamily: 2 });
    get("a").record();
    get("b").record();
    const overflow = get("c");
    overflow.record();
    expect(overflow.name).toBe("overflow");
    advance(1_000 + TICK_MS + 1);
    get("a").record();
    expect(await scrape()).toEqual(["a"]);
    expect(overflow.evicted).toBe(true);
    expect(table.overflow).toBeUndefined();
    expect(get("c").name).toBe("c");
  });

  test("100,000 label sets through a small cap: memory stays at the cap, then drains to nothing", async () => {
    const { get, advance, scrape, table } = setup({ retainIdleMs: 1_000, maxSeriesPerFamily: 100 });
    for (let i = 0; i < 100_000; i++) get(`host-${i}`).record();
    expect(table.size).toBe(100);
    expect(table.folds).toBe(100_000 - 100);
    expect((await scrape()).length).toBe(101);
    advance(1_000 + TICK_MS + 1);
    expect(await scrape()).toEqual([]);
    expect(table.size).toBe(0);
  });

  test("the families of one scrape share one sweep", async () => {
    const { get, advance, table } = setup({ retainIdleMs: 1_000, maxSeriesPerFamily: 10 });
    get("a");
    await Promise.resolve();
    table.expireIdle(); // first family of a scrape: nothing idle yet
    advance(5_000);
    table.expireIdle(); // a later family of the same scrape: the same series
    expect(table.size).toBe(1);
    await Promise.resolve();
    table.expireIdle(); // the next scrape
    expect(table.size).toBe(0);
  });

  test("limits are read live: a later configuration applies to a table already created", () => {
    const limits: SeriesLimits = { retainIdleMs: 1_000, maxSeriesPerFamily: 1 };
    const clock = new CoarseClock({ nowMs: () => 0 }, TICK_MS);
    const table = new SeriesTable<FakeSeries>(clock, limits, () => new FakeSeries("overflow", clock));
    table.get("a", () => new FakeSeries("a", clock));
    expect(table.get("b", () => new FakeSeries("b", clock)).name).toBe("overflow");
    limits.maxSeriesPerFamily = 2;
    expect(table.get("b", () => new FakeSeries("b", clock)).name).toBe("b");
  });
});

describe("CoarseClock", () => {
  test("reads the source only on tick; the timer is unref'd and stops", async () => {
    let now = 5;
    const clock = new CoarseClock({ nowMs: () => now }, 10);
    now = 7;
    expect(clock.nowMs).toBe(5);
    expect(clock.tick()).toBe(7);
    now = 9;
    clock.start();
    for (let waited = 0; clock.nowMs !== 9 && waited < 5_000; waited += 10) await Bun.sleep(10);
    expect(clock.nowMs).toBe(9);
    clock.stop();
  });
});
