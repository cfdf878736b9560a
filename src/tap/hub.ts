// The tap subscribers of one proxy process: who listens with which filter, which requests match, and
// delivery of encoded events with a per-subscriber buffer bound (a slow reader loses events, counted,
// and is told how many when it catches up). A published event is only queued (the request path stores a
// reference); at most TAP_FLUSH_INTERVAL_MS later the whole queue is encoded at once into each subscriber's
// frame — the encoder runs hot over hundreds of events instead of cold between two requests — and the
// frames leave, one WebSocket frame per subscriber and interval holding its events back to back (a
// msgpack sequence). Request, response and end events come from pools and return to them once encoded,
// and frame buffers are reused: nothing is allocated per event. `version` changes when the first
// subscriber arrives or the last leaves, so the request chains add or drop the tap filter
// (src/http/filter.ts chainPerGeneration).
import type { RequestCtx } from "../http/request-ctx.ts";
import type { Direction } from "../rt/direction.ts";
import { TapEventEncoder } from "./event-encoder.ts";
import { CLOSE_LIMIT_REACHED, type TapEndEvent, type TapEvent, type TapRequestEvent, type TapResponseEvent } from "./events.ts";
import type { TapFilter } from "./subscription.ts";

/** Bytes a subscriber may have queued (in its frame and its socket, unsent) before its events are dropped. */
export const SUBSCRIBER_BUFFER_LIMIT_BYTES = 1024 * 1024;

/** The longest an event waits before it is sent: events of that interval leave in one write. */
export const TAP_FLUSH_INTERVAL_MS = 20;

/** Events queued before the interval is over are encoded at once beyond this many (a bound on what waits). */
const MAX_QUEUED_EVENTS = 8192;
/** Spare events kept per kind; more are left to the collector. */
const MAX_SPARE_EVENTS = 1024;

/** Events the tap filter fills in and publishes; the hub takes them back once encoded (see spareRequest). */
class PooledRequestEvent implements TapRequestEvent {
  readonly type = "request";
  id = 0;
  tsMs = 0;
  direction: TapRequestEvent["direction"] = "inbound";
  tls = "";
  clientId: string | undefined = undefined;
  source = "";
  destination = "";
  method = "";
  authority = "";
  path = "";
  route: string | undefined = undefined;
  headers: TapRequestEvent["headers"] = undefined;
}

class PooledResponseEvent implements TapResponseEvent {
  readonly type = "response";
  id = 0;
  sinceRequestMs = 0;
  status = 0;
  headers: TapResponseEvent["headers"] = undefined;
}

class PooledEndEvent implements TapEndEvent {
  readonly type = "end";
  id = 0;
  sinceRequestMs = 0;
  status: number | undefined = undefined;
  grpcStatus: number | undefined = undefined;
  error: string | undefined = undefined;
  requestBytes = 0;
  responseBytes = 0;
}

/** Where a subscriber's frames go: the server's WebSocket (Bun's ServerWebSocket fits), or a test double. */
export interface TapSink {
  /** Bun's send status: bytes sent (> 0), -1 queued under backpressure, 0 dropped. Copies `data` before it returns. */
  sendBinary(data: Uint8Array): number;
  getBufferedAmount(): number;
  close(code?: number, reason?: string): void;
}

export class TapSubscriber {
  /** Requests matched so far (counts towards the filter's limit). */
  requests = 0;
  /** Matched requests whose end event is still to come. */
  outstanding = 0;
  /** The limit was reached: no new request matches. */
  full = false;
  closed = false;
  /** Its queue passed the bound: events are dropped until the socket drains. */
  behind = false;
  /** Events dropped since the last `dropped` notice. */
  droppedSinceNotice = 0;
  /** Events encoded since the last flush: the next frame. */
  readonly frame = new TapEventEncoder();
  /** The socket's own unsent bytes as of the last flush. */
  socketBufferedBytes = 0;

  constructor(
    readonly sink: TapSink,
    readonly filter: TapFilter,
  ) {}
}

export class TapHub {
  private readonly subscribers: TapSubscriber[] = [];
  private active = 0;
  private nextRequestId = 1;
  /** tap_dropped_events_total. */
  droppedEvents = 0;
  /** Whether a subscriber of the last match() asked for headers. */
  matchedWantHeaders = false;
  /** Published events not yet encoded, each with its subscriber (one) or subscribers (a copied list). */
  private readonly queuedEvents: TapEvent[] = [];
  private readonly queuedFor: (TapSubscriber | TapSubscriber[])[] = [];
  /** Subscribers with events in their frame, and the timer that flushes them. */
  private readonly pendingFlush: TapSubscriber[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly spareRequests: PooledRequestEvent[] = [];
  private readonly spareResponses: PooledResponseEvent[] = [];
  private readonly spareEnds: PooledEndEvent[] = [];

  /** Changes when the first subscriber arrives and when the last leaves (see chainPerGeneration). */
  get version(): number {
    return this.active;
  }

  /** Whether anybody listens: the chains include the tap filter only then. */
  get listening(): boolean {
    return this.subscribers.length > 0;
  }

  get subscriberCount(): number {
    return this.subscribers.length;
  }

  /** Adds a subscriber. */
  subscribe(sink: TapSink, filter: TapFilter): TapSubscriber {
    const sub = new TapSubscriber(sink, filter);
    this.subscribers.push(sub);
    if (this.subscribers.length === 1) this.active++;
    return sub;
  }

  /** Removes a subscriber (its socket closed); idempotent. */
  unsubscribe(sub: TapSubscriber): void {
    sub.closed = true;
    sub.frame.clear();
    const i = this.subscribers.indexOf(sub);
    if (i < 0) return;
    this.subscribers.splice(i, 1);
    if (this.subscribers.length === 0) this.active++;
  }

  /** A new request id, unique in this process. */
  nextId(): number {
    return this.nextRequestId++;
  }

  /**
   * Appends to `out` the subscribers whose filter matches the request, counting it against their
   * limits. Reads the path and lower-cased authority only when a filter asks, once.
   */
  match(ctx: RequestCtx, direction: Direction, out: TapSubscriber[]): void {
    this.matchedWantHeaders = false;
    let path: string | undefined;
    let authority: string | null = null;
    for (const sub of this.subscribers) {
      if (sub.full || sub.closed) continue;
      const f = sub.filter;
      if (f.direction !== undefined && f.direction !== direction) continue;
      if (f.method !== undefined && f.method !== ctx.method) continue;
      if (f.authority !== undefined) {
        if (authority === null) authority = ctx.authority?.toLowerCase() ?? "";
        if (f.authority !== authority) continue;
      }
      if (f.path !== undefined && !f.path((path ??= ctx.path))) continue;
      out.push(sub);
      if (f.headers) this.matchedWantHeaders = true;
      sub.requests++;
      sub.outstanding++;
      if (f.limit > 0 && sub.requests >= f.limit) sub.full = true;
    }
  }

  /** A request event to fill in and publish (it belongs to the hub again once published). */
  spareRequest(): TapRequestEvent {
    return this.spareRequests.pop() ?? new PooledRequestEvent();
  }

  /** A response event to fill in and publish. */
  spareResponse(): TapResponseEvent {
    return this.spareResponses.pop() ?? new PooledResponseEvent();
  }

  /** An end event to fill in and publish. */
  spareEnd(): TapEndEvent {
    return this.spareEnds.pop() ?? new PooledEndEvent();
  }

  /** Queues `event` for every subscriber of `subs` (the caller may reuse the list, not the event). */
  publish(subs: readonly TapSubscriber[], event: TapEvent): void {
    if (subs.length === 0) return;
    this.queuedEvents.push(event);
    this.queuedFor.push(subs.length === 1 ? subs[0]! : subs.slice());
    if (this.queuedEvents.length >= MAX_QUEUED_EVENTS) this.encodeQueued();
    else this.flushTimer ??= setTimeout(this.onFlushTimer, TAP_FLUSH_INTERVAL_MS);
  }

  /** The requests of `subs` are over: a subscriber that reached its limit and has nothing left to receive is closed. */
  finished(subs: readonly TapSubscriber[]): void {
    for (const sub of subs) {
      sub.outstanding--;
      if (sub.full && sub.outstanding === 0 && !sub.closed) {
        this.encodeQueued(); // its last events go out before the close
        this.flushOne(sub);
        this.unsubscribe(sub);
        sub.sink.close(CLOSE_LIMIT_REACHED, "limit reached");
      }
    }
  }

  /** The subscriber's socket drained: if it lost events, tell it how many, and resume sending. */
  drained(sub: TapSubscriber): void {
    if (sub.closed) return;
    sub.socketBufferedBytes = sub.sink.getBufferedAmount();
    if (!sub.behind || sub.socketBufferedBytes + sub.frame.length > SUBSCRIBER_BUFFER_LIMIT_BYTES / 2) return;
    sub.behind = false;
    const count = sub.droppedSinceNotice;
    if (count === 0) return;
    sub.droppedSinceNotice = 0;
    this.publish([sub], { type: "dropped", count });
  }

  /** Encodes what is queued and sends every pending frame now (the flush timer calls this; tests too). */
  flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.encodeQueued();
    for (const sub of this.pendingFlush) this.flushOne(sub);
    this.pendingFlush.length = 0;
  }

  /** Encodes the queued events, in order, into their subscribers' frames, and takes pooled events back. */
  private encodeQueued(): void {
    const events = this.queuedEvents;
    const targets = this.queuedFor;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const target = targets[i]!;
      if (Array.isArray(target)) {
        for (const sub of target) if (!sub.closed) this.deliver(sub, event);
      } else if (!target.closed) this.deliver(target, event);
      this.recycle(event);
    }
    events.length = 0;
    targets.length = 0;
  }

  private recycle(event: TapEvent): void {
    if (event instanceof PooledRequestEvent) {
      event.headers = undefined;
      if (this.spareRequests.length < MAX_SPARE_EVENTS) this.spareRequests.push(event);
    } else if (event instanceof PooledResponseEvent) {
      event.headers = undefined;
      if (this.spareResponses.length < MAX_SPARE_EVENTS) this.spareResponses.push(event);
    } else if (event instanceof PooledEndEvent && this.spareEnds.length < MAX_SPARE_EVENTS) this.spareEnds.push(event);
  }

  /** Encodes the event into the subscriber's frame, or drops and counts it when the subscriber is behind. */
  private deliver(sub: TapSubscriber, event: TapEvent): void {
    const frame = sub.frame;
    if (!sub.behind) {
      const before = frame.length;
      frame.encode(event);
      if (frame.length + sub.socketBufferedBytes <= SUBSCRIBER_BUFFER_LIMIT_BYTES) {
        // Sent by the flush that encoded it, or (encoded early: a long queue, a subscriber's close) by the
        // timer publish() armed when the queue took its first event.
        if (before === 0) this.pendingFlush.push(sub);
        return;
      }
      frame.dropLast(before);
      sub.behind = true;
    }
    sub.droppedSinceNotice++;
    this.droppedEvents++;
  }

  private readonly onFlushTimer = (): void => {
    this.flushTimer = undefined;
    this.flush();
  };

  /** Sends one subscriber's frame; when the socket refuses it, its events are dropped and counted. */
  private flushOne(sub: TapSubscriber): void {
    const frame = sub.frame;
    if (sub.closed || frame.length === 0) return;
    const events = frame.events;
    const refused = sub.sink.sendBinary(frame.bytes.subarray(0, frame.length)) === 0 ? events : 0;
    frame.clear();
    sub.socketBufferedBytes = sub.sink.getBufferedAmount();
    if (refused > 0 || sub.socketBufferedBytes > SUBSCRIBER_BUFFER_LIMIT_BYTES) sub.behind = true;
    sub.droppedSinceNotice += refused;
    this.droppedEvents += refused;
  }
}
