// Retry budget: a faithful port of tower's `TpsBudget` (tower/src/retry/budget/tps_budget.rs), which
// Linkerd uses for ServiceProfile retries. Ten slots over `ttl`, a reserve that allows about
// minRetriesPerSecond*ttl retries per ttl, plus `retryRatio` retries per deposit. Clock injected.

import type { Clock } from "../rt/clock.ts";

export interface RetryBudgetParams {
  /** How long a deposit or withdrawal counts; 1 s to 60 s. */
  readonly ttlMs: number;
  /** Retries allowed per second regardless of traffic; < 2^31 - 1. */
  readonly minRetriesPerSecond: number;
  /** Retries allowed per deposit (per non-retried request); 0 to 1000. */
  readonly retryRatio: number;
}

/** Linkerd's controller sends this budget when a profile sets none (and tower's `Default`). */
export const DEFAULT_RETRY_BUDGET: RetryBudgetParams = Object.freeze({
  ttlMs: 10_000,
  minRetriesPerSecond: 10,
  retryRatio: 0.2,
});

export const MIN_BUDGET_TTL_MS = 1_000;
export const MAX_BUDGET_TTL_MS = 60_000;
export const MAX_RETRY_RATIO = 1000;
/** tower asserts `min_per_sec < i32::MAX`. */
export const MAX_MIN_RETRIES_PER_SECOND = 2 ** 31 - 2;

const SLOTS = 10;

/** Why a budget's parameters are invalid, or undefined when they are fine. */
export function budgetParamsError(p: RetryBudgetParams): string | undefined {
  if (!(p.ttlMs >= MIN_BUDGET_TTL_MS && p.ttlMs <= MAX_BUDGET_TTL_MS)) return "ttl must be between 1s and 60s";
  if (!(p.retryRatio >= 0 && p.retryRatio <= MAX_RETRY_RATIO)) return "retryRatio must be between 0 and 1000";
  if (!(Number.isInteger(p.minRetriesPerSecond) && p.minRetriesPerSecond >= 0)) {
    return "minRetriesPerSecond must be a non-negative integer";
  }
  if (p.minRetriesPerSecond > MAX_MIN_RETRIES_PER_SECOND) return `minRetriesPerSecond must be below ${2 ** 31 - 1}`;
  return undefined;
}

/**
 * Deposit and withdraw amounts for a ratio, exactly as tower computes them. The ratio is an f32 in
 * Linkerd (proto `float retry_ratio`), and tower divides and truncates in f32: Math.fround reproduces
 * that (an f64 quotient of two f32 values rounded to f32 equals the f32 quotient).
 */
export function budgetAmounts(retryRatio: number): { readonly deposit: number; readonly withdraw: number } {
  const ratio = Math.fround(retryRatio);
  if (ratio === 0) return { deposit: 0, withdraw: 1 }; // deposits earn nothing; only the reserve
  if (ratio <= 1) return { deposit: 1, withdraw: Math.trunc(Math.fround(1 / ratio)) };
  return { deposit: 1000, withdraw: Math.trunc(Math.fround(1000 / ratio)) };
}

/**
 * tower's TpsBudget. Not thread-safe and needs not be: the proxy's decisions run on one JS thread.
 * One budget per profile, shared by all of its retryable routes.
 */
export class TpsBudget {
  readonly params: RetryBudgetParams;
  readonly depositAmount: number;
  readonly withdrawAmount: number;
  /** Constant allowance: minRetriesPerSecond × whole seconds of ttl × withdrawAmount. */
  readonly reserve: number;
  readonly windowMs: number;

  readonly #clock: Clock;
  readonly #slots: number[] = new Array<number>(SLOTS).fill(0);
  #writer = 0;
  #genIndex = 0;
  #genTimeMs: number;

  constructor(params: RetryBudgetParams, clock: Clock) {
    const invalid = budgetParamsError(params);
    if (invalid !== undefined) throw new RangeError(`invalid retry budget: ${invalid}`);
    this.params = params;
    const { deposit, withdraw } = budgetAmounts(params.retryRatio);
    this.depositAmount = deposit;
    this.withdrawAmount = withdraw;
    // `ttl.as_secs()` drops the fraction: a ttl of 1.9s reserves for 1 second.
    this.reserve = params.minRetriesPerSecond * Math.floor(params.ttlMs / 1000) * withdraw;
    this.windowMs = params.ttlMs / SLOTS;
    this.#clock = clock;
    this.#genTimeMs = clock.nowMs();
  }

  /** Records a request that will not be retried. */
  deposit(): void {
    this.#expire();
    this.#writer += this.depositAmount;
  }

  /** Takes the cost of one retry if the balance covers it; false means "no budget". */
  withdraw(): boolean {
    this.#expire();
    if (this.#sum() >= this.withdrawAmount) {
      this.#writer -= this.withdrawAmount;
      return true;
    }
    return false;
  }

  /** Current balance (writer + slots + reserve) after expiring old windows; for tests and debugging. */
  balance(): number {
    this.#expire();
    return this.#sum();
  }

  #expire(): void {
    const now = this.#clock.nowMs();
    // A clock that goes backwards counts as no time passing (tower's saturating_duration_since).
    let diff = Math.max(0, now - this.#genTimeMs);
    if (diff < this.windowMs) return;

    this.#slots[this.#genIndex] = this.#writer;
    this.#writer = 0;

    let idx = (this.#genIndex + 1) % SLOTS;
    let zeroed = 0;
    while (diff > this.windowMs && zeroed < SLOTS) {
      this.#slots[idx] = 0;
      diff -= this.windowMs;
      idx = (idx + 1) % SLOTS;
      zeroed++;
    }
    // After a long idle period every slot is already zero; tower keeps looping one window at a time
    // (only the resulting index matters), which we compute instead of iterating.
    if (diff > this.windowMs) idx = (idx + Math.ceil(diff / this.windowMs) - 1) % SLOTS;
    this.#genIndex = idx;
    this.#genTimeMs = now;
  }

  #sum(): number {
    let windowed = 0;
    for (const slot of this.#slots) windowed += slot;
    return this.#writer + windowed + this.reserve;
  }
}
