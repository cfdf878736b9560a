// The tap subscribers of one proxy process: who listens with which filter, which requests match, and
// delivery of encoded events with a per-subscriber buffer bound (a slow reader loses events, counted,
// and is told how many when it catches up). Events are encoded into the subscriber's frame buffer and
// wait there for at most TAP_FLUSH_INTERVAL_MS; they leave together, one WebSocket frame per subscriber
// and interval holding them back to back (a msgpack sequence), instead of one frame and one write per
// event. The frame buffer is reused from flush to flush: nothing is allocated per event. `version` changes
// when the first subscriber arrives or the last leaves, so the request chains add or drop the tap
// filter (src/http/filter.ts chainPerGeneration).
import type { RequestCtx } from "../http/request-ctx.ts";
import type { Direction } from "../rt/direction.ts";
import { TapEventEncoder } from "./event-encoder.ts";
import { CLOSE_LIMIT_REACHED, type TapEvent } from "./events.ts";
import type { TapFilter } from "./subscription.ts";

/** Bytes a subscriber may have queued (in its frame and its socket, unsent) before its events are dropped. */
export const SUBSCRIBER_BUFFER_LIMIT_BYTES = 1024 * 1024;

/** The longest an event waits in a subscriber's frame: events of that interval leave in one write. */
export const TAP_FLUSH_INTERVAL_MS = 20;

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
  /** Subscribers with events in their frame, and the timer that flushes them. */
  private readonly pendingFlush: TapSubscriber[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

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

  /** Queues `event` for every subscriber of `subs` that is still open. */
  publish(subs: readonly TapSubscriber[], event: TapEvent): void {
    for (const sub of subs) {
      if (!sub.closed) this.deliver(sub, event);
    }
  }

  /** The requests of `subs` are over: a subscriber that reached its limit and has nothing left to receive is closed. */
  finished(subs: readonly TapSubscriber[]): void {
    for (const sub of subs) {
      sub.outstanding--;
      if (sub.full && sub.outstanding === 0 && !sub.closed) {
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
    this.deliver(sub, { type: "dropped", count });
  }

  /** Sends every pending frame now (the flush timer calls this; tests too). */
  flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const sub of this.pendingFlush) this.flushOne(sub);
    this.pendingFlush.length = 0;
  }

  /** Encodes the event into the subscriber's frame, or drops and counts it when the subscriber is behind. */
  private deliver(sub: TapSubscriber, event: TapEvent): void {
    const frame = sub.frame;
    if (!sub.behind) {
      const before = frame.length;
      frame.encode(event);
      if (frame.length + sub.socketBufferedBytes <= SUBSCRIBER_BUFFER_LIMIT_BYTES) {
        if (before === 0) this.pendingFlush.push(sub);
        this.flushTimer ??= setTimeout(this.onFlushTimer, TAP_FLUSH_INTERVAL_MS);
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
