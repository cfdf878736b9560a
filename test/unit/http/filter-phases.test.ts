// The filter-phase runner both HTTP engines use (src/http/filter-phases.ts): the request-head verdicts
// (continue, pause with the position to resume at, a resume inside the pausing call, rejection, a
// filter ending the exchange), the first selected upstream, retry votes, and stopping once finished.
import { describe, expect, test } from "bun:test";
import { CONTINUE, FilterChain, type HttpFilter, PAUSE } from "../../../src/http/filter.ts";
import {
  HEAD_PHASE_DONE,
  HEAD_PHASE_ENDED,
  type PhaseHost,
  runAttemptError,
  runComplete,
  runRequestHead,
  runResponseHead,
  runRetry,
  runSelectUpstream,
} from "../../../src/http/filter-phases.ts";
import { InternalError } from "../../../src/http/proxy-errors.ts";
import type { ResponseView } from "../../../src/http/request-ctx.ts";
import { FakeExchange } from "../../support/fake-exchange.ts";

class Host extends FakeExchange implements PhaseHost {
  finished = false;
  earlyResume = false;
  takeEarlyResume(): boolean {
    const r = this.earlyResume;
    this.earlyResume = false;
    return r;
  }
}

const calls: string[] = [];
const named = (name: string, f: Omit<HttpFilter<undefined>, "name">): HttpFilter<undefined> => ({ name, ...f });
const cont = (name: string) => named(name, { onRequestHead: () => (calls.push(name), CONTINUE) });
const VIEW: ResponseView = { status: 503, kindMask: 0, header: () => undefined, headerList: () => [] };

function host(chain: FilterChain): Host {
  calls.length = 0;
  return new Host(chain, "outbound", "GET", "/", "example.test");
}

describe("runRequestHead", () => {
  test("all continue: DONE, each filter once in order", () => {
    const chain = new FilterChain([cont("a"), cont("b")]);
    const h = host(chain);
    expect(runRequestHead(chain, h, chain.newSlots(), 0)).toBe(HEAD_PHASE_DONE);
    expect(calls).toEqual(["a", "b"]);
  });

  test("PAUSE returns the position after the pausing filter; running from there finishes the phase", () => {
    const chain = new FilterChain([cont("a"), named("p", { onRequestHead: () => (calls.push("p"), PAUSE) }), cont("c")]);
    const h = host(chain);
    const slots = chain.newSlots();
    expect(runRequestHead(chain, h, slots, 0)).toBe(2);
    expect(calls).toEqual(["a", "p"]);
    expect(runRequestHead(chain, h, slots, 2)).toBe(HEAD_PHASE_DONE);
    expect(calls).toEqual(["a", "p", "c"]);
  });

  test("a filter that resumed before returning PAUSE does not pause the phase", () => {
    const chain = new FilterChain([named("p", { onRequestHead: (ctx) => ((ctx as Host).earlyResume = true, PAUSE) }), cont("c")]);
    expect(runRequestHead(chain, host(chain), chain.newSlots(), 0)).toBe(HEAD_PHASE_DONE);
    expect(calls).toEqual(["c"]);
  });

  test("a rejection returns its error and stops; a filter that ends the exchange stops it with ENDED", () => {
    const err = new InternalError("no");
    const reject = new FilterChain([named("r", { onRequestHead: () => err }), cont("never")]);
    expect(runRequestHead(reject, host(reject), reject.newSlots(), 0)).toBe(err);
    expect(calls).toEqual([]);
    const end = new FilterChain([named("e", { onRequestHead: (ctx) => (((ctx as Host).finished = true), CONTINUE) }), cont("never")]);
    expect(runRequestHead(end, host(end), end.newSlots(), 0)).toBe(HEAD_PHASE_ENDED);
    expect(calls).toEqual([]);
  });
});

describe("the other phases", () => {
  test("runSelectUpstream: the first filter that selects wins; none → undefined", () => {
    const target = { host: "10.0.0.1", port: 80 };
    const chain = new FilterChain([
      named("none", { selectUpstream: () => (calls.push("none"), undefined) }),
      named("pick", { selectUpstream: () => (calls.push("pick"), target) }),
      named("late", { selectUpstream: () => (calls.push("late"), { host: "x", port: 1 }) }),
    ]);
    expect(runSelectUpstream(chain, host(chain), chain.newSlots())).toBe(target);
    expect(calls).toEqual(["none", "pick"]);
    const empty = new FilterChain([cont("a")]);
    expect(runSelectUpstream(empty, host(empty), empty.newSlots())).toBeUndefined();
  });

  test("runResponseHead and runAttemptError: one vote for a retry is enough, every filter still sees it; finished stops them", () => {
    const vote = (name: string, yes: boolean) =>
      named(name, { onResponseHead: () => (calls.push(name), yes), onAttemptError: () => (calls.push(name), yes) });
    const chain = new FilterChain([vote("no", false), vote("yes", true), vote("after", false)]);
    const h = host(chain);
    expect(runResponseHead(chain, h, chain.newSlots(), VIEW)).toBe(true);
    expect(runAttemptError(chain, h, chain.newSlots(), new InternalError("x"))).toBe(true);
    expect(calls).toEqual(["no", "yes", "after", "no", "yes", "after"]);

    const ending = new FilterChain([named("end", { onResponseHead: (ctx) => (((ctx as Host).finished = true), true) }), vote("never", true)]);
    calls.length = 0;
    expect(runResponseHead(ending, host(ending), ending.newSlots(), VIEW)).toBe(false);
    expect(calls).toEqual([]);
  });

  test("runRetry passes the discarded status; runComplete calls every filter once", () => {
    const seen: unknown[] = [];
    const chain = new FilterChain([
      named("a", { onRetry: (_c, _s, status) => seen.push(["retry", status]), onComplete: () => seen.push("a") }),
      named("b", { onComplete: () => seen.push("b") }),
    ]);
    const h = host(chain);
    runRetry(chain, h, chain.newSlots(), 503);
    runComplete(chain, h, chain.newSlots());
    expect(seen).toEqual([["retry", 503], "a", "b"]);
  });
});
