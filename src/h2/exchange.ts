// One HTTP/2 request stream proxied end to end: runs the request pipeline's filter phases (the same
// chain and phase order as src/http/exchange.ts), forwards the request on a pooled upstream HTTP/2
// stream, relays heads, DATA and trailers both ways with credit returned to each sender only once the
// other side's socket took the bytes, and ends in exactly one of: response complete, synthetic error
// answer (the rescue table; gRPC trailers-only for gRPC), or the client stream reset.
import { ProxyError } from "../errors/proxy-error.ts";
import type { FilterChain, FilterState, HttpFilter } from "../http/filter.ts";
import { HEAD_PHASE_DONE, HEAD_PHASE_ENDED, type PhaseHost, runAttemptError, runComplete, runRequestHead, runResponseHead, runRetry, runSelectUpstream } from "../http/filter-phases.ts";
import { K_L5D_CLIENT_ID, K_L5D_DST_CANONICAL, K_L5D_PROXY_CONNECTION, K_L5D_PROXY_ERROR, kindBit } from "../http/head-parser.ts";
import {
  ClientClosedError,
  GatewayLoopError,
  RouteTimeoutError,
  UpstreamResetError,
  metricErrorLabel,
  rescue,
} from "../http/proxy-errors.ts";
import {
  type ConnInfo,
  DEFAULT_CLASSIFIER,
  type RequestTiming,
  type ResponseClassifier,
  type ResponseView,
} from "../http/request-ctx.ts";
import { defaultRoute } from "../http/upstream-router.ts";
import type { HttpTargetStats } from "../metrics/http.ts";
import type { H2ClientConnection, H2StreamOwner } from "./client-connection.ts";
import { H2_ERROR, h2ErrorName } from "./errors.ts";
import { GRPC_DEADLINE_EXCEEDED, GRPC_UNKNOWN, grpcStatusForSynthetic, grpcStatusOf, grpcTimeoutMs, isGrpcContentType, isGrpcFailure, syntheticH2Head } from "./grpc.ts";
import type { HeaderBlockKind } from "./header-validation.ts";
import type { H2ServerConnection } from "./server-connection.ts";
import type { H2ServerEnv } from "./server-env.ts";
import type { H2Endpoint, H2PoolWaiter } from "./upstream-pool.ts";

const HEAD_RUNNING = 0;
const HEAD_PAUSED = 1;
const HEAD_DONE = 2;

/** Bound on transparent re-sends of a stream the upstream refused (REFUSED_STREAM / GOAWAY: never processed). */
const MAX_REFUSED_RESENDS = 4;

/** The l5d-* header kinds the pipeline's filters test in kind masks. */
const KIND_OF_NAME: ReadonlyMap<string, number> = new Map([
  ["l5d-client-id", K_L5D_CLIENT_ID],
  ["l5d-proxy-error", K_L5D_PROXY_ERROR],
  ["l5d-proxy-connection", K_L5D_PROXY_CONNECTION],
  ["l5d-dst-canonical", K_L5D_DST_CANONICAL],
]);

function kindMaskOf(headers: readonly string[]): number {
  let mask = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (!name.startsWith("l5d-")) continue; // every kind's name does; most fields are not looked up
    const k = KIND_OF_NAME.get(name);
    if (k !== undefined) mask |= kindBit(k);
  }
  return mask;
}

function firstValue(headers: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === lowerName) return headers[i + 1];
  return undefined;
}

function pairsOf(headers: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.charCodeAt(0) !== 58 /* : */) out.push([headers[i]!, headers[i + 1]!]);
  return out;
}

/** The body chunks of an exchange that has none waiting (shared; replaced by an own array before a push). */
const NO_CHUNKS: readonly Uint8Array[] = Object.freeze([]) as readonly Uint8Array[];

/** Drop-by-name and added lines over a flat header list; pseudo-headers stay first. */
function applyEdits(headers: readonly string[], drops: Set<string> | null, adds: string[] | null): string[] {
  if (drops === null && adds === null) return headers as string[];
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (drops === null || !drops.has(headers[i]!)) out.push(headers[i]!, headers[i + 1]!);
  if (adds !== null) out.push(...adds);
  return out;
}

/** A header value as HTTP/2 may carry it: CR, LF, NUL and non-latin1 become spaces (as HeaderEditor does). */
const cleanValue = (v: string): string => v.replace(/[\r\n\0]|[^\x00-\xff]/g, " ");

/** An upstream response head as filters see it. */
class H2ResponseView implements ResponseView {
  readonly kindMask: number;
  constructor(
    readonly status: number,
    private readonly headers: readonly string[],
  ) {
    this.kindMask = kindMaskOf(headers);
  }
  header(lowerName: string): string | undefined {
    return firstValue(this.headers, lowerName);
  }
  headerList(): [string, string][] {
    return pairsOf(this.headers);
  }
}

export class H2Exchange implements PhaseHost, RequestTiming, H2PoolWaiter, H2StreamOwner {
  // === RequestCtx (public, for filters) ===
  route: string | undefined = undefined;
  classifier: ResponseClassifier = DEFAULT_CLASSIFIER;
  upstreamStatus = 0;
  requestBodyBytes = 0;
  responseBytes = 0;
  responseTimeoutMs = 0;
  timeoutError: ((timeoutMs: number) => ProxyError) | undefined = undefined;
  retainBodyBytes = 0;
  attempt = 1;
  status = 0;
  error: ProxyError | undefined = undefined;
  startMs = 0;
  dispatchMs = 0;
  responseHeadMs = 0;
  endMs = 0;

  readonly method: string;
  readonly target: string;
  readonly authority: string | undefined;
  readonly requestKindMask: number;
  readonly contentLength: number;
  /** The request is gRPC (content-type application/grpc…): errors are answered in gRPC form. */
  readonly grpc: boolean;
  /** RequestCtx.grpcStatus: the response's grpc-status (trailers-only head or trailers); gRPC requests only. */
  grpcStatus: number | undefined = undefined;

  // === pipeline ===
  private headPhase = HEAD_RUNNING;
  private headResumeAt = 0;
  private resumedEarly = false;
  private reqDrops: Set<string> | null = null;
  private reqAdds: string[] | null = null;
  private resDrops: Set<string> | null = null;
  private resAdds: string[] | null = null;
  private dispatched = false;

  // === request side ===
  reqComplete: boolean;
  private reqTrailers: string[] | null = null;
  private reqTrailersNeverIndexed: readonly string[] | null = null;
  /** Body chunks received before the upstream stream opened (views of received chunks). */
  private pending: Uint8Array[] = NO_CHUNKS as Uint8Array[];
  private retained: Uint8Array[] | null = null;
  private retainedBytes = 0;
  private retainLost = false;
  /** Request bytes handed to the upstream session and not yet returned to the client as credit. */
  private reqInFlight = 0;
  private endpoint: H2Endpoint | null = null;
  private stats: HttpTargetStats | null = null;

  // === upstream ===
  private upstream: H2ClientConnection | null = null;
  private upId = 0;
  private waiting = false;
  private refusedResends = 0;
  private responseTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  // === response side ===
  private gotHead = false;
  private responseStarted = false;
  /** Response bytes handed to the client session and not yet returned to the upstream as credit. */
  private resInFlight = 0;
  private closeRequested = false;
  finished = false;
  /** The client stream closed (both ends): once finished too, the filter slots go back to the connection. */
  private clientStreamClosed = false;
  /** complete() ran the filters' onComplete. */
  private completed = false;
  private slotsRecycled = false;

  constructor(
    private readonly server: H2ServerConnection,
    private readonly env: H2ServerEnv,
    readonly streamId: number,
    private readonly reqHeaders: string[],
    /** Names the client sent never-indexed: forwarded never-indexed (RFC 7541 §7.1.3). */
    private readonly reqNeverIndexed: readonly string[] | null,
    endStream: boolean,
    readonly chain: FilterChain,
    /** The filters' state slots; the connection reuses them once the stream has closed and this exchange finished. */
    readonly slots: (FilterState | undefined)[],
  ) {
    this.reqComplete = endStream;
    let method = "";
    let path = "";
    let authority: string | undefined;
    let host: string | undefined;
    let contentType: string | undefined;
    let contentLength = -1;
    for (let i = 0; i < reqHeaders.length; i += 2) {
      const name = reqHeaders[i]!;
      const value = reqHeaders[i + 1]!;
      if (name === ":method") method = value;
      else if (name === ":path") path = value;
      else if (name === ":authority") authority = value;
      else if (name === "host") host ??= value;
      else if (name === "content-type") contentType ??= value;
      else if (name === "content-length") contentLength = Number(value);
    }
    this.method = method;
    this.target = path;
    this.authority = authority ?? host;
    this.contentLength = contentLength;
    this.grpc = isGrpcContentType(contentType);
    this.requestKindMask = kindMaskOf(reqHeaders);
  }

  // === RequestCtx accessors ===

  get timing(): RequestTiming {
    return this;
  }

  get conn(): ConnInfo {
    return this.server.info;
  }

  get httpVersion(): string {
    return "HTTP/2.0";
  }

  get path(): string {
    const t = this.target;
    let end = 0;
    while (end < t.length && t.charCodeAt(end) !== 63 /* ? */ && t.charCodeAt(end) !== 35 /* # */) end++;
    return end === 0 ? "/" : t.slice(0, end);
  }

  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    if (lower === "host") return this.authority;
    return firstValue(this.reqHeaders, lower);
  }

  headerList(): [string, string][] {
    return pairsOf(this.reqHeaders);
  }

  get replayable(): boolean {
    return this.reqComplete && !this.responseStarted && !this.retainLost && !this.finished;
  }

  dropRequestHeader(lowerName: string): void {
    (this.reqDrops ??= new Set()).add(lowerName);
  }

  addRequestHeader(name: string, value: string): void {
    (this.reqAdds ??= []).push(name.toLowerCase(), cleanValue(value));
  }

  dropResponseHeader(lowerName: string): void {
    (this.resDrops ??= new Set()).add(lowerName);
  }

  addResponseHeader(name: string, value: string): void {
    (this.resAdds ??= []).push(name.toLowerCase(), cleanValue(value));
  }

  closeClientAfterResponse(): void {
    this.closeRequested = true;
  }

  cancel(err: ProxyError): void {
    this.fail(err);
  }

  stateOf<S extends FilterState | undefined>(filter: HttpFilter<S>): S | undefined {
    const i = this.chain.slotOf(filter);
    return i < 0 ? undefined : (this.slots[i] as S);
  }

  resume(): void {
    if (this.finished) return;
    if (this.headPhase === HEAD_RUNNING) {
      this.resumedEarly = true;
      return;
    }
    if (this.headPhase !== HEAD_PAUSED) return;
    this.headPhase = HEAD_RUNNING;
    this.server.session.batch(() => this.runHeadPhase(this.headResumeAt));
  }

  // === start ===

  start(): void {
    this.startMs = this.env.nowMs();
    // grpc-timeout: the client's deadline for the whole call (gRPC over HTTP/2).
    const deadlineMs = this.grpc ? grpcTimeoutMs(firstValue(this.reqHeaders, "grpc-timeout")) : undefined;
    if (deadlineMs !== undefined) this.deadlineTimer = setTimeout(() => this.onDeadline(deadlineMs), deadlineMs);
    this.runHeadPhase(0);
  }

  /** PhaseHost: a filter resumed inside its own onRequestHead (true once). */
  takeEarlyResume(): boolean {
    if (!this.resumedEarly) return false;
    this.resumedEarly = false;
    return true;
  }

  private runHeadPhase(from: number): void {
    const r = runRequestHead(this.chain, this, this.slots, from);
    if (r === HEAD_PHASE_ENDED) return;
    if (r === HEAD_PHASE_DONE) {
      this.headPhase = HEAD_DONE;
      this.dispatch();
    } else if (typeof r === "number") {
      this.headPhase = HEAD_PAUSED;
      this.headResumeAt = r;
    } else {
      this.fail(r);
    }
  }

  private dispatch(): void {
    const info = this.server.info;
    let target = runSelectUpstream(this.chain, this, this.slots);
    if (this.finished) return;
    target ??= defaultRoute(this, info);
    if (target instanceof ProxyError) {
      this.fail(target);
      return;
    }
    if (target.port === this.server.socket.localPort && this.server.isOwnAddress(target.host)) {
      this.fail(new GatewayLoopError(`${target.host}:${target.port}`));
      return;
    }
    const endpoint = this.env.pool.endpoint(target.host, target.port, target.identity);
    this.endpoint = endpoint;
    const stats = this.env.statsFor(endpoint, info.direction === "outbound" ? this.authority : undefined, info.tls);
    this.stats = stats;
    stats.recordRequest();
    this.dispatched = true;
    for (const chunk of this.pending) this.retain(chunk);
    this.acquire();
  }

  private acquire(): void {
    this.waiting = true;
    this.armResponseTimer();
    this.endpoint!.acquire(this);
  }

  private retain(chunk: Uint8Array): void {
    if (this.retainLost) return;
    if (this.retainedBytes + chunk.length > this.retainBodyBytes) {
      this.retainLost = true;
      this.retained = null;
      return;
    }
    (this.retained ??= []).push(chunk);
    this.retainedBytes += chunk.length;
  }

  // === request body from the client ===

  onRequestData(data: Uint8Array, endStream: boolean): void {
    if (endStream) this.reqComplete = true;
    if (this.finished) {
      this.server.session.consume(this.streamId, data.length);
      return;
    }
    this.requestBodyBytes += data.length;
    if (data.length > 0 && this.dispatched) this.retain(data);
    const conn = this.upstream;
    if (conn !== null && this.upId !== 0) {
      this.reqInFlight += data.length;
      conn.session!.sendData(this.upId, data, endStream);
      this.returnRequestCredit();
    } else if (data.length > 0) {
      if (this.pending === NO_CHUNKS) this.pending = [];
      this.pending.push(data);
    }
  }

  onRequestTrailers(trailers: string[], neverIndexed: readonly string[] | null): void {
    this.reqComplete = true;
    if (this.finished) return;
    this.reqTrailers = trailers;
    this.reqTrailersNeverIndexed = neverIndexed;
    const conn = this.upstream;
    if (conn !== null && this.upId !== 0) conn.session!.sendTrailers(this.upId, trailers, neverIndexed);
  }

  /** Client credit for request bytes the upstream socket took (queued in the upstream session = not yet). */
  private returnRequestCredit(): void {
    const conn = this.upstream;
    if (this.reqInFlight === 0 || conn === null || !conn.flushed) return;
    const sent = this.reqInFlight - conn.session!.queuedBytes(this.upId);
    if (sent <= 0) return;
    this.reqInFlight -= sent;
    this.server.session.consume(this.streamId, sent);
  }

  // === H2PoolWaiter ===

  onPoolConnection(conn: H2ClientConnection): void {
    this.waiting = false;
    if (this.finished) return;
    this.upstream = conn;
    this.dispatchMs = this.env.nowMs();
    const headers = applyEdits(this.reqHeaders, this.reqDrops, this.reqAdds);
    const resend = this.attempt > 1 || this.refusedResends > 0;
    const body = resend ? (this.retained ?? NO_CHUNKS) : this.pending;
    const endWithHead = this.reqComplete && body.length === 0 && this.reqTrailers === null;
    try {
      this.upId = conn.open(this, headers, endWithHead, this.reqNeverIndexed);
    } catch (err) {
      // No stream could open (a GOAWAY or SETTINGS arrived meanwhile): nothing was sent, ask again.
      this.upstream = null;
      if (this.refusedResends < MAX_REFUSED_RESENDS) {
        this.refusedResends++;
        this.acquire();
      } else {
        this.attemptFailed(new UpstreamResetError(conn.addr, { cause: err }));
      }
      return;
    }
    const session = conn.session!;
    if (body.length > 0 || this.reqTrailers !== null) {
      session.batch(() => {
        for (let i = 0; i < body.length; i++) {
          const last = i === body.length - 1 && this.reqComplete && this.reqTrailers === null;
          if (!resend) this.reqInFlight += body[i]!.length;
          session.sendData(this.upId, body[i]!, last);
        }
        if (this.reqTrailers !== null) session.sendTrailers(this.upId, this.reqTrailers, this.reqTrailersNeverIndexed);
      });
    }
    this.pending = NO_CHUNKS as Uint8Array[];
    this.returnRequestCredit();
  }

  onPoolError(err: ProxyError): void {
    this.waiting = false;
    if (!this.finished) this.attemptFailed(err);
  }

  // === H2StreamOwner (upstream stream events) ===

  onUpstreamHeaders(headers: string[], kind: HeaderBlockKind, endStream: boolean, neverIndexed: readonly string[] | null): void {
    if (this.finished) return;
    if (kind === "informational") {
      if (!this.responseStarted) this.server.session.respond(this.streamId, headers, false, neverIndexed);
      return;
    }
    if (kind === "trailers") {
      if (this.grpc) this.grpcStatus = grpcStatusOf(headers);
      this.server.session.sendTrailers(this.streamId, headers, neverIndexed);
      this.finishResponse();
      return;
    }
    this.onFinalHead(headers, endStream, neverIndexed);
  }

  private onFinalHead(headers: string[], endStream: boolean, neverIndexed: readonly string[] | null): void {
    if (this.responseTimer !== undefined) clearTimeout(this.responseTimer);
    this.responseTimer = undefined;
    this.responseHeadMs = this.env.nowMs();
    const status = Number(firstValue(headers, ":status"));
    const stats = this.stats!;
    stats.recordLatency(status, this.responseHeadMs - (this.attempt === 1 ? this.startMs : this.dispatchMs));
    if (endStream && this.grpc) this.grpcStatus = grpcStatusOf(headers); // trailers-only
    this.resDrops = null;
    this.resAdds = null;
    const view = new H2ResponseView(status, headers);
    const retry = runResponseHead(this.chain, this, this.slots, view);
    if (this.finished) return;
    if (retry && this.replayable) {
      stats.recordResponse(status, this.isFailure(status), "", this.grpcStatus);
      this.retry(status);
      return;
    }
    this.gotHead = true;
    this.status = status;
    this.upstreamStatus = status;
    this.responseStarted = true;
    this.server.session.respond(this.streamId, applyEdits(headers, this.resDrops, this.resAdds), endStream, neverIndexed);
    if (endStream) this.finishResponse();
  }

  onUpstreamData(data: Uint8Array, endStream: boolean): void {
    if (this.finished || !this.gotHead) {
      this.upstream?.session?.consume(this.upId, data.length);
      return;
    }
    this.responseBytes += data.length;
    this.resInFlight += data.length;
    this.server.session.sendData(this.streamId, data, endStream);
    this.returnResponseCredit();
    if (endStream) this.finishResponse();
  }

  /** Upstream credit for response bytes the client socket took. */
  private returnResponseCredit(): void {
    const conn = this.upstream;
    if (this.resInFlight === 0 || conn === null || !this.server.flushed) return;
    const sent = this.resInFlight - this.server.session.queuedBytes(this.streamId);
    if (sent <= 0) return;
    this.resInFlight -= sent;
    conn.session!.consume(this.upId, sent);
  }

  onUpstreamWritable(): void {
    this.returnRequestCredit();
  }

  onClientWritable(): void {
    this.returnResponseCredit();
  }

  onUpstreamReset(code: number, byPeer: boolean, refused: boolean): void {
    const conn = this.upstream;
    this.upstream = null;
    this.upId = 0;
    this.reqInFlight = this.returnAllRequestCredit();
    if (this.finished) return;
    const addr = conn?.addr ?? this.endpoint?.key ?? "";
    if (!this.gotHead) {
      // Refused streams were never processed: send again on another stream when the body allows.
      if (refused && this.refusedResends < MAX_REFUSED_RESENDS && this.replayable) {
        this.refusedResends++;
        this.acquire();
        return;
      }
      const err = new UpstreamResetError(addr, { cause: new Error(`stream reset: ${h2ErrorName(code)}${byPeer ? "" : " (local)"}`) });
      this.attemptFailed(err);
      return;
    }
    // Mid-response: the client's stream is reset with the upstream's reason (Linkerd passes h2 resets on).
    this.error = new UpstreamResetError(addr, { cause: new Error(`stream reset: ${h2ErrorName(code)}`) });
    this.stats?.recordResponse(this.status, true, `h2(${h2ErrorName(code)})`);
    this.server.session.reset(this.streamId, code === H2_ERROR.NO_ERROR ? H2_ERROR.CANCEL : code);
    this.complete();
  }

  /** Everything the client sent that is still counted in flight goes back as credit (the upstream stream is gone). */
  private returnAllRequestCredit(): number {
    if (this.reqInFlight > 0) this.server.session.consume(this.streamId, this.reqInFlight);
    return 0;
  }

  // === client stream events ===

  onClientReset(code: number): void {
    if (this.finished) return;
    this.error = new ClientClosedError(`client reset the stream: ${h2ErrorName(code)}`);
    this.endUpstream(H2_ERROR.CANCEL);
    if (this.upstreamStatus !== 0) this.stats?.recordResponse(this.upstreamStatus, this.isFailure(this.upstreamStatus));
    this.complete();
  }

  onClientStreamClosed(): void {
    // The stream often closes inside the call that sent the response's end, before complete() runs.
    this.clientStreamClosed = true;
    this.recycleSlotsIfDone();
  }

  /** Once the stream closed and the filters' onComplete ran: the slots go back to the connection, once. */
  private recycleSlotsIfDone(): void {
    if (!this.clientStreamClosed || !this.completed || this.slotsRecycled) return;
    this.slotsRecycled = true;
    this.server.recycleSlots(this.chain, this.slots);
  }

  onClientClosed(): void {
    if (this.finished) return;
    this.error = new ClientClosedError("client closed the connection");
    this.endUpstream(H2_ERROR.CANCEL);
    if (this.upstreamStatus !== 0) this.stats?.recordResponse(this.upstreamStatus, this.isFailure(this.upstreamStatus));
    this.complete();
  }

  // === timeouts ===

  private armResponseTimer(): void {
    clearTimeout(this.responseTimer);
    this.responseTimer = undefined;
    if (this.responseTimeoutMs > 0) {
      const ms = this.responseTimeoutMs;
      this.responseTimer = setTimeout(() => this.server.session.batch(() => this.onResponseTimeout(ms)), ms);
    }
  }

  private onResponseTimeout(ms: number): void {
    this.responseTimer = undefined;
    if (this.finished || this.gotHead) return;
    const err = this.timeoutError !== undefined ? this.timeoutError(ms) : new RouteTimeoutError(ms);
    this.endUpstream(H2_ERROR.CANCEL);
    this.attemptFailed(err);
  }

  /** The client's grpc-timeout expired: DEADLINE_EXCEEDED, before or after the response head. */
  private onDeadline(ms: number): void {
    this.deadlineTimer = undefined;
    if (this.finished) return;
    this.server.session.batch(() => {
      const err = new RouteTimeoutError(ms);
      if (!this.responseStarted) {
        this.fail(err);
        return;
      }
      this.error = err;
      this.endUpstream(H2_ERROR.CANCEL);
      this.grpcStatus = GRPC_DEADLINE_EXCEEDED;
      this.server.session.sendTrailers(this.streamId, ["grpc-status", String(GRPC_DEADLINE_EXCEEDED), "grpc-message", "deadline exceeded"]);
      this.stats?.recordResponse(this.status, true, metricErrorLabel(err));
      this.complete();
    });
  }

  // === endings ===

  private isFailure(status: number): boolean {
    if (this.classifier.isFailure(status)) return true;
    return this.grpc && status === 200 && isGrpcFailure(this.grpcStatus);
  }

  private retry(discardedStatus: number): void {
    this.attempt++;
    runRetry(this.chain, this, this.slots, discardedStatus);
    this.stats!.recordRequest();
    this.endUpstream(H2_ERROR.CANCEL);
    this.status = 0;
    this.grpcStatus = undefined;
    this.acquire();
  }

  private attemptFailed(err: ProxyError): void {
    if (this.replayable && this.endpoint !== null) {
      const retry = runAttemptError(this.chain, this, this.slots, err);
      if (this.finished) return;
      if (retry) {
        this.stats!.recordError(metricErrorLabel(err));
        this.retry(0);
        return;
      }
    }
    this.fail(err);
  }

  /** Gives up the upstream stream (reset with `code` if it is still open) or the place in the pool queue. */
  private endUpstream(code: number): void {
    if (this.waiting) {
      this.waiting = false;
      this.endpoint?.cancel(this);
    }
    const conn = this.upstream;
    if (conn !== null && this.upId !== 0) {
      conn.release(this.upId);
      conn.session?.reset(this.upId, code);
    }
    this.upstream = null;
    this.upId = 0;
    this.returnAllRequestCredit();
    this.reqInFlight = 0;
  }

  private finishResponse(): void {
    const conn = this.upstream;
    if (conn !== null && this.upId !== 0) {
      conn.release(this.upId);
      // The upstream answered before the request ended: it needs no more of it (RFC 9113 §8.1).
      if (!this.reqComplete) conn.session?.reset(this.upId, H2_ERROR.NO_ERROR);
    }
    // gRPC: a stream that ended without grpc-status is UNKNOWN (linkerd-behavior §2.4).
    if (this.grpc && this.grpcStatus === undefined) this.grpcStatus = GRPC_UNKNOWN;
    this.stats!.recordResponse(this.status, this.isFailure(this.status), "", this.grpcStatus);
    this.complete();
  }

  /** Fails the stream: before the response head the rescue table answers; afterwards the stream is reset. */
  fail(err: ProxyError): void {
    if (this.finished) return;
    if (this.responseStarted) {
      this.error = err;
      this.endUpstream(H2_ERROR.CANCEL);
      this.stats?.recordResponse(this.status, true, metricErrorLabel(err));
      this.server.session.reset(this.streamId, H2_ERROR.INTERNAL_ERROR);
      this.complete();
      return;
    }
    this.error = err;
    this.upstreamStatus = 0;
    this.endUpstream(H2_ERROR.CANCEL);
    const syn = rescue(err);
    if (syn.status >= 502 && syn.status <= 504) this.logFailure(syn.status, err);
    const head = syntheticH2Head(syn, this.grpc, this.server.informationalErrors);
    this.status = this.grpc ? 200 : syn.status;
    if (this.grpc) this.grpcStatus = grpcStatusForSynthetic(syn);
    this.responseStarted = true;
    this.server.session.respond(this.streamId, head, true);
    if (!this.reqComplete) this.server.session.reset(this.streamId, H2_ERROR.NO_ERROR);
    // Deliberately no GOAWAY for the table's "close" rows: one failed stream does not end its siblings.
    this.stats?.recordError(metricErrorLabel(err));
    this.complete();
  }

  private complete(): void {
    this.finished = true;
    if (this.responseTimer !== undefined) clearTimeout(this.responseTimer);
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.responseTimer = undefined;
    this.deadlineTimer = undefined;
    this.endMs = this.env.nowMs();
    runComplete(this.chain, this, this.slots);
    this.completed = true;
    this.recycleSlotsIfDone();
    this.pending = NO_CHUNKS as Uint8Array[];
    this.retained = null;
    if (this.closeRequested) this.server.goAway();
  }

  private logFailure(status: number, err: ProxyError): void {
    const log = this.env.log;
    if (!log.failuresEnabled) return;
    const info = this.server.info;
    log.proxyFailed("request failed", status, err, info, this.endpoint?.key ?? this.authority ?? "", this.authority);
  }
}
