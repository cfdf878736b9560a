// Base class of every proxy failure: a stable code, the side that failed, whether a retry may help,
// and an ES2022 cause chain. Match errors with isCausedBy/causeOf, never by message text.
import type { ProxyErrorCode } from "./codes.ts";

/** Which side of the proxy the failure came from. */
export type ErrorSide = "downstream" | "upstream" | "internal";

/** Whether re-sending the request may succeed: always, never, or only when a reused connection failed. */
export type Retryable = boolean | "if-reused";

const BRAND = Symbol.for("meshlet.ProxyError");

export abstract class ProxyError extends Error {
  abstract readonly code: ProxyErrorCode;
  abstract readonly side: ErrorSide;
  readonly retryable: Retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** `instanceof` that survives duplicate module copies (undici's Symbol.for brand). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === ProxyError) {
      return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}
(ProxyError.prototype as unknown as Record<symbol, unknown>)[BRAND] = true;

type Ctor<T> = abstract new (...args: never[]) => T;

/** Walks `err` and its `cause` chain; returns the first link that is an instance of `ctor`. */
export function causeOf<T>(err: unknown, ctor: Ctor<T>): T | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 32; depth++) {
    if (cur instanceof ctor) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when `err` or anything in its cause chain is an instance of `ctor`. */
export function isCausedBy(err: unknown, ctor: Ctor<unknown>): boolean {
  return causeOf(err, ctor) !== undefined;
}
