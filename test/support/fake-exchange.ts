// A request context that runs a filter chain's phases the way the HTTP engine does, without sockets:
// for unit tests of filters (what each phase sets, retries, completion), driven step by step.
import type { ProxyError } from "../../src/errors/proxy-error.ts";
import { CONTINUE, type FilterChain, type FilterState, type HttpFilter, PAUSE } from "../../src/http/filter.ts";
import { HeaderEditor } from "../../src/http/header-editor.ts";
import {
  type ConnInfo,
  DEFAULT_CLASSIFIER,
  type RequestCtx,
  type RequestTiming,
  type ResponseClassifier,
  type ResponseView,
  type UpstreamTarget,
} from "../../src/http/request-ctx.ts";

export class FakeExchange implements RequestCtx {
  readonly conn: ConnInfo;
  route: string | undefined = undefined;
  classifier: ResponseClassifier = DEFAULT_CLASSIFIER;
  responseTimeoutMs = 0;
  timeoutError: ((timeoutMs: number) => ProxyError) | undefined = undefined;
  retainBodyBytes = 0;
  attempt = 1;
  replayable = true;
  timing: RequestTiming = { startMs: 10, dispatchMs: 11, responseHeadMs: 0, endMs: 0 };
  upstreamStatus = 0;
  requestBodyBytes = 0;
  responseBytes = 0;
  status = 0;
  error: ProxyError | undefined = undefined;
  requestKindMask = 0;
  httpVersion = "HTTP/1.1";
  readonly target: string;
  readonly requestEdits = new HeaderEditor();
  responseEdits = new HeaderEditor();
  closeRequested = false;
  paused = false;
  /** What requestHead() ended with: "dispatched", "paused" or the rejecting error. */
  outcome: "dispatched" | "paused" | ProxyError | undefined = undefined;
  /** The upstream a filter selected, if any. */
  selected: UpstreamTarget | ProxyError | undefined = undefined;
  private readonly slots: (FilterState | undefined)[];
  private resumeAt = 0;

  constructor(
    private readonly chain: FilterChain,
    direction: "inbound" | "outbound",
    readonly method: string,
    readonly path: string,
    readonly authority: string | undefined,
    private readonly headers: Record<string, string> = {},
    connInfo: Partial<ConnInfo> = {},
  ) {
    this.conn = { clientAddr: "127.0.0.1", clientPort: 1, dst: null, direction, ...connInfo };
    this.target = path;
    this.slots = chain.newSlots();
  }

  get contentLength(): number {
    const v = this.headers["content-length"];
    return v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : -1;
  }
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }
  headerList(): [string, string][] {
    return Object.entries(this.headers);
  }
  dropRequestHeader(n: string): void {
    this.requestEdits.drop(n);
  }
  addRequestHeader(n: string, v: string): void {
    this.requestEdits.add(n, v);
  }
  dropResponseHeader(n: string): void {
    this.responseEdits.drop(n);
  }
  addResponseHeader(n: string, v: string): void {
    this.responseEdits.add(n, v);
  }
  closeClientAfterResponse(): void {
    this.closeRequested = true;
  }
  stateOf<S extends FilterState | undefined>(filter: HttpFilter<S>): S | undefined {
    const i = this.chain.slotOf(filter);
    return i < 0 ? undefined : (this.slots[i] as S);
  }
  cancel(err: ProxyError): void {
    this.outcome = err;
  }
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.runHead(this.resumeAt);
  }

  /** The request-head phase, then upstream selection. */
  requestHead(): this {
    for (const i of this.chain.stateful) this.slots[i]!.reset();
    this.runHead(0);
    return this;
  }

  private runHead(from: number): void {
    const order = this.chain.requestHead;
    for (let k = from; k < order.length; k++) {
      const i = order[k]!;
      const v = this.chain.filters[i]!.onRequestHead!(this, this.slots[i]);
      if (v === CONTINUE) continue;
      if (v === PAUSE) {
        this.paused = true;
        this.resumeAt = k + 1;
        this.outcome = "paused";
        return;
      }
      this.outcome = v;
      return;
    }
    for (const i of this.chain.selectUpstream) {
      this.selected = this.chain.filters[i]!.selectUpstream!(this, this.slots[i]);
      if (this.selected !== undefined) break;
    }
    this.outcome = "dispatched";
  }

  /** An attempt's final head arrives at `atMs`: returns true when it is retried (a filter asked and it is replayable). */
  responseHead(status: number, atMs = 20, headers: Record<string, string> = {}, kindMask = 0): boolean {
    this.timing = { ...this.timing, responseHeadMs: atMs };
    this.responseEdits = new HeaderEditor();
    const view: ResponseView = { status, kindMask, header: (n) => headers[n], headerList: () => Object.entries(headers) };
    let retry = false;
    for (const i of this.chain.responseHead) if (this.chain.filters[i]!.onResponseHead!(this, this.slots[i], view)) retry = true;
    if (retry && this.replayable) {
      this.attempt++;
      for (const i of this.chain.retry) this.chain.filters[i]!.onRetry!(this, this.slots[i], status);
      return true;
    }
    this.status = status;
    this.upstreamStatus = status;
    return false;
  }

  /** An attempt fails before a head: true when a filter asks for a retry. */
  attemptError(err: ProxyError): boolean {
    let retry = false;
    for (const i of this.chain.attemptError) if (this.chain.filters[i]!.onAttemptError!(this, this.slots[i], err)) retry = true;
    return retry;
  }

  /** The request ends: with `error` (and the synthetic `status`), or as the last head left it. */
  complete(error?: ProxyError, status?: number): void {
    this.error = error;
    if (error !== undefined && status !== undefined) {
      this.status = status;
      this.upstreamStatus = 0;
    } else if (status !== undefined) this.status = status;
    for (const i of this.chain.complete) this.chain.filters[i]!.onComplete!(this, this.slots[i]);
  }
}
