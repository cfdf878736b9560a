// The request pipeline: every per-request feature (profiles, retries, l5d-* header rules, and later
// authorization, tap, access log) is an HttpFilter in one ordered chain, compiled once per
// configuration generation. The engine runs the phases; it knows no feature (DESIGN.md §6).
import type { ProxyError } from "../errors/proxy-error.ts";
import type { RequestCtx, ResponseView, UpstreamTarget } from "./request-ctx.ts";

/** What a filter's request-head phase decides: go on, or wait for `ctx.resume()` / `ctx.cancel(err)`. */
export const CONTINUE = 0;
export const PAUSE = 1;
/** CONTINUE, PAUSE, or a ProxyError that rejects the request before any body byte is forwarded. */
export type HeadVerdict = typeof CONTINUE | typeof PAUSE | ProxyError;

/**
 * Per-filter, per-exchange state. One object per filter and client connection on HTTP/1 (one per
 * stream on HTTP/2), reset before each request: a filter keeps request state without allocating.
 */
export interface FilterState {
  reset(): void;
}

/**
 * One per-request feature. Every phase is optional; a phase no filter implements is skipped. Phases,
 * in order: onRequestHead → selectUpstream → (per attempt) onResponseHead | onAttemptError, and
 * onRetry when an attempt is discarded → onComplete, exactly once per request whatever happened
 * (also after a rejection in onRequestHead by this or another filter).
 */
export interface HttpFilter<S extends FilterState | undefined = FilterState | undefined> {
  /** For logs and tests. */
  readonly name: string;
  /** Creates this filter's state slot; absent when the filter keeps no per-request state. */
  newState?(): S;
  /** The request head is parsed; no body byte has moved. May edit request headers, set timeouts, reject or pause. */
  onRequestHead?(ctx: RequestCtx, state: S): HeadVerdict;
  /** Chooses the upstream: the first filter that returns a target (or an error) wins; undefined passes. */
  selectUpstream?(ctx: RequestCtx, state: S): UpstreamTarget | ProxyError | undefined;
  /** An attempt's final response head arrived. May edit response headers; true asks for a retry. */
  onResponseHead?(ctx: RequestCtx, state: S, res: ResponseView): boolean;
  /** An attempt failed before a response head (connect error, reset, timeout). True asks for a retry. */
  onAttemptError?(ctx: RequestCtx, state: S, err: ProxyError): boolean;
  /** The current attempt is discarded and the request is sent again (`ctx.attempt` is the new attempt). */
  onRetry?(ctx: RequestCtx, state: S, discardedStatus: number): void;
  /** Once per request, when it is over: ctx.status, ctx.error, ctx.timing and byte counts are final. */
  onComplete?(ctx: RequestCtx, state: S): void;
}

type AnyFilter = HttpFilter<FilterState | undefined>;
/** A filter of any state type, as a chain lists them (state types are invariant, so `any` here). */
// biome-ignore lint/suspicious/noExplicitAny: each filter's state type is only known to that filter.
export type SomeHttpFilter = HttpFilter<any>;

/**
 * An ordered list of filters with, per phase, the indexes of the filters that implement it. Built
 * once per configuration generation; an exchange keeps the chain it started with.
 */
export class FilterChain {
  readonly filters: readonly AnyFilter[];
  readonly requestHead: readonly number[];
  readonly selectUpstream: readonly number[];
  readonly responseHead: readonly number[];
  readonly attemptError: readonly number[];
  readonly retry: readonly number[];
  readonly complete: readonly number[];
  /** Indexes of filters with state: the slots an exchange must reset. */
  readonly stateful: readonly number[];
  private readonly indexOf: ReadonlyMap<AnyFilter, number>;

  constructor(filters: readonly SomeHttpFilter[]) {
    const list = filters as readonly AnyFilter[];
    this.filters = list;
    const having = (phase: keyof AnyFilter): number[] => list.flatMap((f, i) => (f[phase] !== undefined ? [i] : []));
    this.requestHead = having("onRequestHead");
    this.selectUpstream = having("selectUpstream");
    this.responseHead = having("onResponseHead");
    this.attemptError = having("onAttemptError");
    this.retry = having("onRetry");
    this.complete = having("onComplete");
    this.stateful = having("newState");
    this.indexOf = new Map(list.map((f, i) => [f, i]));
  }

  /** The slot index of `filter` in this chain, or -1 when it is not part of it. */
  slotOf(filter: SomeHttpFilter): number {
    return this.indexOf.get(filter as AnyFilter) ?? -1;
  }

  /** A fresh set of state slots for this chain (index = filter index; undefined for stateless filters). */
  newSlots(): (FilterState | undefined)[] {
    return this.filters.map((f) => f.newState?.());
  }

  /** Resets every state in `slots` (a set this chain made) for the next request: they let go of the last one. */
  resetSlots(slots: readonly (FilterState | undefined)[]): void {
    for (const i of this.stateful) slots[i]!.reset();
  }

  get names(): string[] {
    return this.filters.map((f) => f.name);
  }
}

export const EMPTY_CHAIN = new FilterChain([]);

/** Where the engine reads the chain in force: per request, so a reload applies from the next request. */
export interface FilterChainSource {
  get(): FilterChain;
}

export const staticChain = (chain: FilterChain): FilterChainSource => ({ get: () => chain });

/** A counter that changes when a chain built from it must be rebuilt (e.g. the tap's first subscriber arrived). */
export interface ChainVersion {
  readonly version: number;
}

const NO_VERSION: ChainVersion = { version: 0 };

/**
 * A chain compiled from each configuration generation, on the first request that sees it: `build`
 * runs once per generation (so a filter nobody needs in that generation is not in the chain at all),
 * and again whenever `version` changes (a filter that is needed only while someone listens).
 */
export function chainPerGeneration<T>(
  generations: { get(): T },
  build: (generation: T) => FilterChain,
  version: ChainVersion = NO_VERSION,
): FilterChainSource {
  let seen: T | undefined;
  let seenVersion = -1;
  let chain = EMPTY_CHAIN;
  return {
    get() {
      const current = generations.get();
      const v = version.version;
      if (current !== seen || v !== seenVersion) {
        chain = build(current);
        seen = current;
        seenVersion = v;
      }
      return chain;
    },
  };
}
