// The filter chain's phases run over one exchange, shared by the HTTP/1 engine (src/http/exchange.ts)
// and the HTTP/2 one (src/h2/exchange.ts): request head (continue / pause / reject), upstream selection,
// response head (retry asked), attempt error (retry asked), retry and completion. Plain loops over the
// chain's index lists: no closure and no allocation per request.
import type { ProxyError } from "../errors/proxy-error.ts";
import { CONTINUE, type FilterChain, type FilterState, PAUSE } from "./filter.ts";
import type { RequestCtx, ResponseView, UpstreamTarget } from "./request-ctx.ts";

/** The exchange the phases run on: the filters' context, plus what the runner must see of its state. */
export interface PhaseHost extends RequestCtx {
  /** The exchange ended (a filter cancelled it, or it failed): the phase stops at once. */
  readonly finished: boolean;
  /** A filter called resume() inside its own onRequestHead before returning PAUSE: true once, then cleared. */
  takeEarlyResume(): boolean;
}

/** runRequestHead: every filter continued (dispatch now). */
export const HEAD_PHASE_DONE = -1;
/** runRequestHead: a filter ended the exchange (nothing more to do). */
export const HEAD_PHASE_ENDED = -2;

type Slots = readonly (FilterState | undefined)[];

/**
 * Runs onRequestHead from position `from` of the chain's request-head order. Returns HEAD_PHASE_DONE,
 * HEAD_PHASE_ENDED, the position to resume at (≥ 1) after a PAUSE, or the ProxyError a filter rejected with.
 */
export function runRequestHead(chain: FilterChain, host: PhaseHost, slots: Slots, from: number): number | ProxyError {
  const order = chain.requestHead;
  for (let k = from; k < order.length; k++) {
    const i = order[k]!;
    const verdict = chain.filters[i]!.onRequestHead!(host, slots[i]);
    if (host.finished) return HEAD_PHASE_ENDED;
    if (verdict === CONTINUE) continue;
    if (verdict === PAUSE) {
      if (host.takeEarlyResume()) continue;
      return k + 1;
    }
    return verdict;
  }
  return HEAD_PHASE_DONE;
}

/** The first upstream a filter selects (or a ProxyError), undefined when none does or the exchange ended (check `finished`). */
export function runSelectUpstream(chain: FilterChain, host: PhaseHost, slots: Slots): UpstreamTarget | ProxyError | undefined {
  for (const i of chain.selectUpstream) {
    const target = chain.filters[i]!.selectUpstream!(host, slots[i]);
    if (host.finished) return undefined;
    if (target !== undefined) return target;
  }
  return undefined;
}

/** onResponseHead of every filter; true if one asks for a retry (false once the exchange ended: check `finished`). */
export function runResponseHead(chain: FilterChain, host: PhaseHost, slots: Slots, res: ResponseView): boolean {
  let retry = false;
  for (const i of chain.responseHead) {
    if (chain.filters[i]!.onResponseHead!(host, slots[i], res)) retry = true;
    if (host.finished) return false;
  }
  return retry;
}

/** onAttemptError of every filter; true if one asks for a retry (false once the exchange ended: check `finished`). */
export function runAttemptError(chain: FilterChain, host: PhaseHost, slots: Slots, err: ProxyError): boolean {
  let retry = false;
  for (const i of chain.attemptError) {
    if (chain.filters[i]!.onAttemptError!(host, slots[i], err)) retry = true;
    if (host.finished) return false;
  }
  return retry;
}

/** onRetry of every filter: the attempt whose response head had `discardedStatus` (0 after an error) is dropped. */
export function runRetry(chain: FilterChain, host: PhaseHost, slots: Slots, discardedStatus: number): void {
  for (const i of chain.retry) chain.filters[i]!.onRetry!(host, slots[i], discardedStatus);
}

/** onComplete of every filter (exactly once per exchange: the caller's duty). */
export function runComplete(chain: FilterChain, host: PhaseHost, slots: Slots): void {
  for (const i of chain.complete) chain.filters[i]!.onComplete!(host, slots[i]);
}
