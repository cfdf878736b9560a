// One request/response exchange on a client connection: run the request pipeline's filter phases,
// dispatch to an upstream connection, stream both bodies with backpressure, relay the response head,
// and end in exactly one of: response complete, synthetic error response (the rescue table), or
// client connection aborted.
import { ProxyError } from "../errors/proxy-error.ts";
import type { HttpTargetStats } from "../metrics/http.ts";
import { BODY_CHUNKED, BODY_EOF, BODY_ERROR, BODY_NONE, BodyReader, NO_BODY, requestBodyKind, responseBodyKind } from "./body-framing.ts";
import type { ChunkDataSink } from "./chunked-decoder.ts";
import type { FilterChain, FilterState, HttpFilter } from "./filter.ts";
import { HEAD_PHASE_DONE, HEAD_PHASE_ENDED, type PhaseHost, runAttemptError, runComplete, runRequestHead, runResponseHead, runRetry, runSelectUpstream } from "./filter-phases.ts";
import { HeaderEditor } from "./header-editor.ts";
import { TARGET_ABSOLUTE, TARGET_AUTHORITY, UPGRADE_OTHER, parseResponseHead, type RequestHead, type ResponseHead } from "./head-parser.ts";
import {
  CONN_HEADER_CLOSE,
  CONN_HEADER_KEEP_ALIVE,
  CONN_HEADER_NONE,
  CONN_HEADER_UPGRADE,
  forwardHeadCapacity,
  NO_EDITS,
  writeRequestHead,
  writeResponseHead,
} from "./head-writer.ts";
import {
  ClientClosedError,
  GatewayLoopError,
  RequestFramingError,
  RouteTimeoutError,
  UpstreamClosedError,
  UpstreamProtocolError,
  UpstreamResetError,
  metricErrorLabel,
  renderSyntheticResponse,
  rescue,
} from "./proxy-errors.ts";
import {
  type ConnInfo,
  DEFAULT_CLASSIFIER,
  type RequestTiming,
  type ResponseClassifier,
  type UpstreamTarget,
} from "./request-ctx.ts";
import { defaultRoute } from "./upstream-router.ts";
import type { ServerConnection } from "./server-connection.ts";
import type { ServerEnv } from "./server-env.ts";
import { type EndpointPool, type PoolWaiter, endpointKey } from "./upstream-pool.ts";
import type { UpstreamConnection, UpstreamOwner } from "./upstream-connection.ts";

/** Bodies up to this size are copied behind the head so head and body leave in one write. */
const INLINE_BODY_MAX_BYTES = 16 * 1024;

/** Methods a stale pooled connection may be re-dialed for even if the request already left (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Bound on transparent re-dials after stale pooled connections, per request. */
const MAX_STALE_REDIALS = 2;

const CONNECT_ESTABLISHED = Buffer.from("HTTP/1.1 200 Connection Established\r\n\r\n", "latin1");

/** Where the request-head phase stands. */
const HEAD_RUNNING = 0;
const HEAD_PAUSED = 1;
const HEAD_DONE = 2;

export class Exchange implements PhaseHost, RequestTiming, PoolWaiter, UpstreamOwner, ChunkDataSink {
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
  // RequestTiming, inline to save an allocation per request
  startMs = 0;
  dispatchMs = 0;
  responseHeadMs = 0;
  endMs = 0;

  // === pipeline ===
  private headPhase = HEAD_RUNNING;
  /** Index into chain.requestHead where a paused head phase resumes. */
  private headResumeAt = 0;
  /** resume() was called inside the filter call that is about to return PAUSE. */
  private resumedEarly = false;
  private requestEdits: HeaderEditor | null = null;
  private responseEdits: HeaderEditor | null = null;
  /** The exchange reached upstream selection: body retention is tracked from here on. */
  private dispatched = false;

  // === request side ===
  private readonly reqBody: BodyReader;
  /** The whole request has been read from the client. */
  reqComplete: boolean;
  private readonly isUpgrade: boolean;
  private upstreamTarget: UpstreamTarget | null = null;
  private endpoint: EndpointPool | null = null;
  private stats: HttpTargetStats | null = null;
  /** Body bytes in the same chunk as the head: [segStart, segEnd) of req.buf; kept by reference for re-sends. */
  private segStart = 0;
  private segEnd = 0;
  /** Later body chunks received before an upstream connection was assigned. */
  private pendingBody: Uint8Array[] | null = null;
  /** Later body chunks kept for re-sends (retries, stale re-dials), by reference. */
  private retained: Uint8Array[] | null = null;
  private retainedBytes = 0;
  /** Some body bytes were not retained: the request can no longer be re-sent. */
  private retainLost = false;
  private authorityCache: string | undefined | null = null;

  // === upstream ===
  private upstream: UpstreamConnection | null = null;
  private waiting = false;
  /** Any byte of this attempt was written upstream. */
  private sentAny = false;
  private staleRedials = 0;
  private responseTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  // === response side ===
  private resPartial: Buffer | null = null;
  private gotResponseBytes = false;
  private res: ResponseHead | null = null;
  private resBody: BodyReader | null = null;
  private responseStarted = false;
  private upstreamReusable = false;
  private closeClientAfter = false;
  /** A filter asked to close the client connection after this response. */
  private closeRequested = false;
  private clientBackpressure = false;
  finished = false;

  constructor(
    private readonly server: ServerConnection,
    private readonly env: ServerEnv,
    readonly req: RequestHead,
    private readonly chain: FilterChain,
    private readonly slots: readonly (FilterState | undefined)[],
  ) {
    const kind = requestBodyKind(req);
    this.reqBody = kind === BODY_NONE ? NO_BODY : new BodyReader(kind, req.contentLength);
    this.reqComplete = this.reqBody.done;
    this.isUpgrade = req.isConnect || (req.minorVersion === 1 && req.upgrade === UPGRADE_OTHER && req.connectionUpgrade);
  }

  // === RequestCtx accessors ===

  get timing(): RequestTiming {
    return this;
  }

  get conn(): ConnInfo {
    return this.server.info;
  }

  get method(): string {
    return this.req.method;
  }

  get target(): string {
    return this.req.target();
  }

  get httpVersion(): string {
    return this.req.minorVersion === 1 ? "HTTP/1.1" : "HTTP/1.0";
  }

  get path(): string {
    const req = this.req;
    const start = req.targetForm === TARGET_ABSOLUTE ? req.pathStart : req.targetStart;
    let end = start;
    while (end < req.targetEnd && req.buf[end] !== 63 /* ? */ && req.buf[end] !== 35) end++;
    return end === start ? "/" : req.buf.toString("latin1", start, end);
  }

  get authority(): string | undefined {
    if (this.authorityCache === null) {
      const req = this.req;
      this.authorityCache =
        req.targetForm === TARGET_ABSOLUTE || req.targetForm === TARGET_AUTHORITY
          ? req.buf.toString("latin1", req.authorityStart, req.authorityEnd)
          : req.host();
    }
    return this.authorityCache;
  }

  header(name: string): string | undefined {
    return this.req.header(name);
  }

  headerList(): [string, string][] {
    return this.req.headerList();
  }

  get requestKindMask(): number {
    return this.req.kindMask;
  }

  get contentLength(): number {
    return this.req.contentLength;
  }

  get replayable(): boolean {
    return this.reqComplete && !this.responseStarted && !this.retainLost && !this.finished;
  }

  dropRequestHeader(lowerName: string): void {
    (this.requestEdits ??= new HeaderEditor()).drop(lowerName);
  }

  addRequestHeader(name: string, value: string): void {
    (this.requestEdits ??= new HeaderEditor()).add(name, value);
  }

  dropResponseHeader(lowerName: string): void {
    (this.responseEdits ??= new HeaderEditor()).drop(lowerName);
  }

  addResponseHeader(name: string, value: string): void {
    (this.responseEdits ??= new HeaderEditor()).add(name, value);
  }

  closeClientAfterResponse(): void {
    this.closeClientAfter = true;
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
    this.runHeadPhase(this.headResumeAt);
  }

  // === start ===

  /**
   * Starts the exchange with the chunk that held the head; body bytes from `bodyStart` on are fed.
   * Returns the index after the request's end in `buf` (pipelined bytes follow), or buf.length.
   */
  start(bodyStart: number): number {
    const buf = this.req.buf;
    this.startMs = this.env.nowMs();
    this.chain.resetSlots(this.slots);

    let consumedTo = bodyStart;
    if (!this.reqComplete) {
      const r = this.reqBody.feed(buf, bodyStart, buf.length);
      if (r === BODY_ERROR) {
        this.fail(new RequestFramingError(this.reqBody.error));
        return buf.length;
      }
      consumedTo = r >= 0 ? r : buf.length;
      this.reqComplete = this.reqBody.done;
    }
    this.segStart = bodyStart;
    this.segEnd = consumedTo;
    this.requestBodyBytes = consumedTo - bodyStart;
    this.runHeadPhase(0);
    return consumedTo;
  }

  /** PhaseHost: a filter resumed inside its own onRequestHead (true once). */
  takeEarlyResume(): boolean {
    if (!this.resumedEarly) return false;
    this.resumedEarly = false;
    return true;
  }

  /** Runs the filters' request-head phase from `from` on; pauses, rejects, or dispatches. */
  private runHeadPhase(from: number): void {
    const r = runRequestHead(this.chain, this, this.slots, from);
    if (r === HEAD_PHASE_ENDED) return; // a filter cancelled the request
    if (r === HEAD_PHASE_DONE) {
      this.headPhase = HEAD_DONE;
      this.dispatch();
    } else if (typeof r === "number") {
      this.headPhase = HEAD_PAUSED;
      this.headResumeAt = r;
      if (!this.reqComplete) this.server.pauseReading(PAUSE_WAIT_UPSTREAM);
    } else {
      this.fail(r);
    }
  }

  /** Picks the upstream (filters first, the default route last) and asks its pool for a connection. */
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
    this.upstreamTarget = target;
    const endpoint = target === info.dst ? this.server.dstEndpoint() : this.env.pool.endpoint(target.host, target.port, target.identity);
    this.endpoint = endpoint;
    const direction = info.direction;
    const stats = this.env.statsFor(endpoint, direction, direction === "outbound" ? this.authority : undefined, info.tls);
    this.stats = stats;
    stats.recordRequest();

    // Body retention starts now that every filter has said how much it needs. The head's chunk is kept
    // by reference for re-sends but counts against the cap: without this, a chunked body above the cap
    // that arrived with its head stayed replayable.
    this.dispatched = true;
    this.retainedBytes = this.segEnd - this.segStart;
    if (this.retainBodyBytes > 0 && this.retainedBytes > this.retainBodyBytes) this.retainLost = true;
    if (this.pendingBody !== null) for (const chunk of this.pendingBody) this.retain(chunk);

    this.waiting = true;
    this.armResponseTimer();
    endpoint.acquire(this, target.terminateConnect === true);
    if (this.waiting && !this.reqComplete) this.server.pauseReading(PAUSE_WAIT_UPSTREAM);
  }

  /** Later request body bytes from the client; returns the index after the request's end, or buf.length. */
  feedRequestBody(buf: Buffer, start: number): number {
    const r = this.reqBody.feed(buf, start, buf.length);
    if (r === BODY_ERROR) {
      // Framing broke mid-body: nothing sensible can follow on this connection.
      this.fail(new RequestFramingError(this.reqBody.error));
      this.closeClientAfter = true;
      return buf.length;
    }
    const end = r >= 0 ? r : buf.length;
    this.reqComplete = this.reqBody.done;
    this.requestBodyBytes += end - start;
    if (end > start) {
      const chunk = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
      if (this.dispatched) this.retain(chunk);
      const conn = this.upstream;
      if (conn !== null && !this.waiting) {
        if (!conn.write(chunk, 0, chunk.length, true)) this.server.pauseReading(PAUSE_UPSTREAM_FULL);
      } else if (!this.finished) {
        (this.pendingBody ??= []).push(chunk);
        this.server.pauseReading(PAUSE_WAIT_UPSTREAM);
      }
    }
    return end;
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

  // === PoolWaiter ===

  onPoolConnection(conn: UpstreamConnection): void {
    this.waiting = false;
    if (this.finished) {
      this.endpoint!.release(conn);
      return;
    }
    this.upstream = conn;
    conn.owner = this;
    this.dispatchMs = this.env.nowMs();
    if (this.upstreamTarget!.terminateConnect === true) {
      this.establishConnectTunnel(conn);
      return;
    }
    this.send(conn);
  }

  onPoolError(err: ProxyError): void {
    this.waiting = false;
    if (!this.finished) this.attemptFailed(err);
  }

  /** Writes the head and every body byte received so far to `conn`. */
  private send(conn: UpstreamConnection): void {
    const env = this.env;
    const req = this.req;
    const segLen = this.segEnd - this.segStart;
    const target = this.upstreamTarget!;
    const hostFallback = req.hostCount > 0 ? "" : target.port === 80 ? target.host : `${target.host}:${target.port}`;
    const edits = this.requestEdits ?? NO_EDITS;
    const cap = forwardHeadCapacity(req, hostFallback, edits);
    const inline = segLen > 0 && segLen <= INLINE_BODY_MAX_BYTES;
    const out = env.scratch(cap + (inline ? segLen : 0));
    let len = writeRequestHead(req, out, this.isUpgrade, hostFallback, edits);
    let ok: boolean;
    if (inline) {
      len += req.buf.copy(out, len, this.segStart, this.segEnd);
      ok = conn.write(out, 0, len, false);
    } else {
      conn.write(out, 0, len, false);
      ok = conn.write(req.buf, this.segStart, this.segEnd, true);
    }
    // A re-send replays the retained later chunks; a first send flushes what arrived while waiting.
    const later = this.attempt > 1 || this.staleRedials > 0 ? this.retained : this.pendingBody;
    if (later !== null) for (const chunk of later) ok = conn.write(chunk, 0, chunk.length, true);
    this.pendingBody = null;
    this.sentAny = true;
    this.server.resumeReading(PAUSE_WAIT_UPSTREAM);
    if (!ok) this.server.pauseReading(PAUSE_UPSTREAM_FULL);
  }

  /**
   * Starts the attempt's response timer. Armed when the attempt asks for a connection, not once it has
   * one: a route deadline must also cover a slow connect or a wait in the pool queue (Linkerd's timeout
   * wraps the whole dispatch). A stale-connection re-dial is the same attempt and keeps its timer.
   */
  private armResponseTimer(): void {
    clearTimeout(this.responseTimer);
    this.responseTimer = undefined;
    if (this.responseTimeoutMs > 0) {
      const ms = this.responseTimeoutMs;
      this.responseTimer = setTimeout(() => this.onResponseTimeout(ms), ms);
    }
  }

  private onResponseTimeout(ms: number): void {
    this.responseTimer = undefined;
    if (this.finished || this.res !== null) return;
    const err = this.timeoutError !== undefined ? this.timeoutError(ms) : new RouteTimeoutError(ms);
    if (this.waiting) {
      // Still dialing or queued: withdraw from the pool so a retry cannot hold two places in it.
      this.waiting = false;
      this.endpoint?.cancel(this);
    }
    this.dropUpstream();
    this.attemptFailed(err);
  }

  // === UpstreamOwner ===

  onUpstreamData(conn: UpstreamConnection, data: Buffer): void {
    if (this.res === null) this.onResponseHeadBytes(conn, data);
    else this.feedResponseBody(data, 0);
  }

  onUpstreamDrain(_conn: UpstreamConnection): void {
    this.server.resumeReading(PAUSE_UPSTREAM_FULL);
  }

  onUpstreamClose(conn: UpstreamConnection, err: Error | undefined): void {
    if (this.upstream === conn) this.upstream = null;
    if (this.finished) return;
    const resBody = this.resBody;
    if (this.res !== null && resBody !== null) {
      if (resBody.endOfInput()) {
        this.upstreamReusable = false;
        this.finishResponse();
      } else {
        this.abort(new UpstreamClosedError(conn.addr));
      }
      return;
    }
    // No response head yet. A reused connection that the server closed while idle (the race with its
    // keep-alive timeout) must not fail the request: re-dial when a re-send is safe.
    if (
      conn.requests > 1 && !this.gotResponseBytes && this.staleRedials < MAX_STALE_REDIALS && this.replayable &&
      (IDEMPOTENT.has(this.req.method) || !this.sentAny) && !this.isUpgrade
    ) {
      this.staleRedials++;
      this.sentAny = false;
      this.waiting = true;
      this.endpoint!.acquire(this, true);
      return;
    }
    this.attemptFailed(err !== undefined ? new UpstreamResetError(conn.addr, { cause: err }) : new UpstreamClosedError(conn.addr));
  }

  // === response ===

  private onResponseHeadBytes(conn: UpstreamConnection, data: Buffer): void {
    let buf = data;
    if (this.resPartial !== null) {
      buf = Buffer.concat([this.resPartial, data]);
      this.resPartial = null;
    }
    this.gotResponseBytes = true;
    let pos = 0;
    for (;;) {
      // The response head's fields are only read synchronously (to write the client's head), so
      // every exchange of this server shares one array for them.
      const head = parseResponseHead(buf, pos, this.env.limits, this.env.responseFields);
      if (head === null) {
        this.resPartial = pos === 0 ? buf : buf.subarray(pos);
        return;
      }
      if (head instanceof ProxyError) {
        this.dropUpstream();
        this.fail(head);
        return;
      }
      const status = head.status;
      if (status >= 200 || status === 101) {
        this.onFinalHead(conn, head, buf);
        return;
      }
      // Interim 1xx (100 Continue, 103 Early Hints): relay to HTTP/1.1 clients (RFC 9110 §15.2).
      if (this.req.minorVersion === 1) this.writeToClient(buf, head.start, head.end, true);
      pos = head.end;
      if (pos >= buf.length) return;
    }
  }

  private onFinalHead(conn: UpstreamConnection, res: ResponseHead, buf: Buffer): void {
    const env = this.env;
    const req = this.req;
    clearTimeout(this.responseTimer);
    this.responseTimer = undefined;
    this.responseHeadMs = env.nowMs();
    const status = res.status;
    const stats = this.stats!;
    stats.recordLatency(status, this.responseHeadMs - this.attemptStartMs());
    if (this.runResponseHeadPhase(res) && this.replayable) {
      // Linkerd's endpoint metrics sit below the retry layer: a discarded attempt is a response too.
      stats.recordResponse(status, this.classifier.isFailure(status));
      this.retry(status);
      return;
    }
    if (this.finished) return; // a filter cancelled the request
    this.res = res;
    this.status = status;
    this.upstreamStatus = status;

    if (this.isUpgrade && (status === 101 || (req.isConnect && status < 300))) {
      this.upgradeToTunnel(conn, res, buf);
      return;
    }
    if (status === 101) {
      this.dropUpstream();
      this.fail(new UpstreamProtocolError("invalid response: 101 without an upgrade request"));
      return;
    }

    const kind = responseBodyKind(req, res);
    const clientMinor = req.minorVersion;
    const dechunk = clientMinor === 0 && kind === BODY_CHUNKED;
    const resBody = new BodyReader(kind, res.contentLength, dechunk ? this : null);
    this.resBody = resBody;
    this.upstreamReusable = kind !== BODY_EOF && (res.minorVersion === 1 ? !res.connectionClose : res.connectionKeepAlive);
    const keepAlive =
      !env.draining && !this.isUpgrade && (clientMinor === 1 ? !req.connectionClose : req.connectionKeepAlive) &&
      kind !== BODY_EOF && !dechunk;
    this.closeClientAfter = !keepAlive || this.closeRequested;
    const connHeader = this.closeClientAfter ? CONN_HEADER_CLOSE : clientMinor === 0 ? CONN_HEADER_KEEP_ALIVE : CONN_HEADER_NONE;

    const bodyStart = res.end;
    const edits = this.responseEdits ?? NO_EDITS;
    const capacity = forwardHeadCapacity(res, "", edits);
    if (dechunk) {
      const out = env.scratch(capacity);
      const len = writeResponseHead(res, out, 0, connHeader, true, edits);
      this.responseStarted = true;
      this.writeToClient(out, 0, len, false);
      this.feedResponseBody(buf, bodyStart);
      return;
    }
    const r = resBody.feed(buf, bodyStart, buf.length);
    if (r === BODY_ERROR) {
      this.dropUpstream();
      this.fail(new UpstreamProtocolError(`invalid response body: ${resBody.error}`));
      return;
    }
    const segEnd = r >= 0 ? r : buf.length;
    const segLen = segEnd - bodyStart;
    const inline = segLen <= INLINE_BODY_MAX_BYTES;
    const out = env.scratch(capacity + (inline ? segLen : 0));
    let len = writeResponseHead(res, out, 0, connHeader, false, edits);
    this.responseStarted = true;
    let ok: boolean;
    if (inline) {
      if (segLen > 0) len += buf.copy(out, len, bodyStart, segEnd);
      ok = this.writeToClient(out, 0, len, false);
    } else {
      this.writeToClient(out, 0, len, false);
      ok = this.writeToClient(buf, bodyStart, segEnd, true);
    }
    if (r >= 0) {
      if (r < buf.length) this.upstreamReusable = false; // bytes beyond the response: not trustworthy
      this.finishResponse();
    } else if (!ok) {
      conn.pause();
    }
  }

  /** Runs the filters' response-head phase on a fresh set of response edits; true if one asks for a retry. */
  private runResponseHeadPhase(res: ResponseHead): boolean {
    this.responseEdits = null;
    return runResponseHead(this.chain, this, this.slots, res);
  }

  private feedResponseBody(buf: Buffer, start: number): void {
    const resBody = this.resBody!;
    const r = resBody.feed(buf, start, buf.length);
    if (r === BODY_ERROR) {
      this.abort(new UpstreamProtocolError(`invalid response body: ${resBody.error}`));
      return;
    }
    const end = r >= 0 ? r : buf.length;
    let ok = true;
    if (this.resBody!.kind === BODY_CHUNKED && this.req.minorVersion === 0) ok = !this.clientBackpressure;
    else ok = this.writeToClient(buf, start, end, true);
    if (r >= 0) {
      if (r < buf.length) this.upstreamReusable = false;
      this.finishResponse();
    } else if (!ok) {
      this.upstream?.pause();
    }
  }

  /** ChunkDataSink: de-chunked data for an HTTP/1.0 client. */
  onChunkData(buf: Buffer, start: number, end: number): void {
    if (!this.writeToClient(buf, start, end, true)) this.clientBackpressure = true;
  }

  private writeToClient(data: Uint8Array, start: number, end: number, owned: boolean): boolean {
    this.responseBytes += end - start;
    return this.server.writeToClient(data, start, end, owned);
  }

  /** The client's socket drained its queue. */
  onClientDrain(): void {
    this.clientBackpressure = false;
    this.upstream?.resume();
  }

  // === tunnels ===

  private upgradeToTunnel(conn: UpstreamConnection, res: ResponseHead, buf: Buffer): void {
    const env = this.env;
    const edits = this.responseEdits ?? NO_EDITS;
    const out = env.scratch(forwardHeadCapacity(res, "", edits));
    const len = writeResponseHead(res, out, 0, res.status === 101 ? CONN_HEADER_UPGRADE : CONN_HEADER_NONE, false, edits);
    this.responseStarted = true;
    this.writeToClient(out, 0, len, false);
    if (res.end < buf.length) this.writeToClient(buf, res.end, buf.length, true);
    this.handOverToTunnel(conn);
  }

  private establishConnectTunnel(conn: UpstreamConnection): void {
    this.status = 200;
    this.upstreamStatus = 200;
    this.responseHeadMs = this.env.nowMs();
    this.stats!.recordLatency(200, this.responseHeadMs - this.startMs);
    this.responseStarted = true;
    this.writeToClient(CONNECT_ESTABLISHED, 0, CONNECT_ESTABLISHED.length, true);
    this.handOverToTunnel(conn);
  }

  private handOverToTunnel(conn: UpstreamConnection): void {
    this.upstream = null;
    this.stats!.recordResponse(this.status, this.classifier.isFailure(this.status));
    // The tunnel exists before the exchange completes, so the connection does not parse the bytes that
    // follow as another request.
    this.server.startTunnel(conn);
    this.complete();
  }

  // === endings ===

  /** When the current attempt began: the request head for the first, the dispatch for retries. */
  private attemptStartMs(): number {
    return this.attempt === 1 ? this.startMs : this.dispatchMs;
  }

  /** Discards the current attempt (its response head had `discardedStatus`; 0 after an error) and re-sends. */
  private retry(discardedStatus: number): void {
    this.attempt++;
    runRetry(this.chain, this, this.slots, discardedStatus);
    this.stats!.recordRequest(); // each attempt is a request at the endpoint level
    this.dropUpstream();
    this.resPartial = null;
    this.gotResponseBytes = false;
    this.res = null;
    this.resBody = null;
    this.status = 0;
    this.sentAny = false;
    this.waiting = true;
    this.armResponseTimer();
    this.endpoint!.acquire(this);
  }

  /** An attempt failed before a response head: retry if a filter asks and it is safe, else rescue. */
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

  private dropUpstream(): void {
    const conn = this.upstream;
    this.upstream = null;
    conn?.destroy();
  }

  private finishResponse(): void {
    const conn = this.upstream;
    this.upstream = null;
    if (conn !== null) {
      if (this.upstreamReusable && this.reqComplete && !conn.writer.pending) this.endpoint!.release(conn);
      else conn.destroy();
    }
    if (!this.reqComplete) this.closeClientAfter = true; // the rest of the request body is unframed noise now
    this.stats!.recordResponse(this.status, this.classifier.isFailure(this.status));
    this.complete();
  }

  /**
   * Fails the exchange. Before anything reached the client, the rescue table answers; afterwards the
   * client connection is aborted so the client sees a truncated response, never a hang.
   */
  fail(err: ProxyError): void {
    if (this.finished) return;
    if (this.responseStarted) {
      this.abort(err);
      return;
    }
    this.error = err;
    this.upstreamStatus = 0; // whatever head arrived, the client gets the proxy's answer instead
    if (this.waiting) {
      this.waiting = false;
      this.endpoint?.cancel(this);
    }
    this.dropUpstream();
    const env = this.env;
    const req = this.req;
    const syn = rescue(err);
    if (syn.status >= 502 && syn.status <= 504) this.logFailure("request failed", syn.status, err);
    const clientMinor = req.minorVersion;
    const close =
      syn.closeConnection || this.closeRequested || !this.reqComplete || env.draining || this.isUpgrade ||
      (clientMinor === 1 ? req.connectionClose : !req.connectionKeepAlive);
    const bytes = renderSyntheticResponse(syn, {
      closeConnection: close,
      keepAliveHeader: clientMinor === 0 && !close,
      informational: this.server.informationalErrors,
    });
    this.status = syn.status;
    this.responseStarted = true;
    this.writeToClient(bytes, 0, bytes.length, true);
    this.closeClientAfter = close;
    // The proxy's own answer is not an upstream response: Linkerd counts the dispatch error, no status.
    this.stats?.recordError(metricErrorLabel(err));
    this.complete();
  }

  /** The response is partly sent and cannot finish: cut the client connection. */
  private abort(err: ProxyError): void {
    if (this.finished) return;
    this.error = err;
    if (err.side === "upstream") this.logFailure("response aborted", this.status, err);
    this.dropUpstream();
    this.stats?.recordResponse(this.status, true, metricErrorLabel(err));
    this.closeClientAfter = true;
    this.complete();
    this.server.abort();
  }

  /** The client connection closed under us. */
  onClientClosed(): void {
    if (this.finished) return;
    this.error = new ClientClosedError("client closed the connection");
    if (this.waiting) {
      this.waiting = false;
      this.endpoint?.cancel(this);
    }
    this.dropUpstream();
    // A response body the client dropped is classified by its status; before any response, nothing
    // is recorded (Linkerd's metrics see a dropped response future).
    if (this.upstreamStatus !== 0) this.stats?.recordResponse(this.upstreamStatus, this.classifier.isFailure(this.upstreamStatus));
    this.complete();
  }

  private complete(): void {
    this.finished = true;
    clearTimeout(this.responseTimer);
    this.responseTimer = undefined;
    this.endMs = this.env.nowMs();
    const chain = this.chain;
    runComplete(chain, this, this.slots);
    if (this.env.log.traceExchanges) this.traceDone();
    // The slot states let go of this exchange now: an idle keep-alive connection does not keep its last
    // request (heads, buffers, ~2 KB) alive until the next one. exchangeDone may start that one at once.
    chain.resetSlots(this.slots);
    this.server.exchangeDone(this, this.closeClientAfter);
  }

  /** Warn (rate limited) about a failure the proxy answered or cut; the target is the upstream, else the authority. */
  private logFailure(message: "request failed" | "response aborted", status: number, err: ProxyError): void {
    const log = this.env.log;
    if (!log.failuresEnabled) return;
    const info = this.server.info;
    const authority = this.authority;
    const target = this.endpoint !== null ? this.endpoint.key : info.dst !== null ? endpointKey(info.dst.host, info.dst.port) : (authority ?? "");
    log.proxyFailed(message, status, err, info, target, authority);
  }

  private traceDone(): void {
    this.env.log.exchangeDone({
      conn: this.server.info,
      method: this.req.method,
      authority: this.authority,
      target: this.endpoint?.key,
      status: this.status,
      code: this.error?.code,
      attempts: this.attempt,
      durationMs: this.endMs - this.startMs,
    });
  }
}

/** Reasons the client socket is paused (bit flags). */
export const PAUSE_UPSTREAM_FULL = 1;
export const PAUSE_WAIT_UPSTREAM = 2;
export const PAUSE_PIPELINE = 4;
export const PAUSE_TUNNEL = 8;
