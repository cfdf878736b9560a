// One HTTP/2 stream's state inside a session (RFC 9113 §5.1): which sides are still open, both flow-
// control windows, the bytes delivered but not yet consumed, and the queue of DATA waiting for window.
// Plain data owned by H2Session; nothing here talks to the wire.

/** The queue of every stream that has not queued DATA yet; H2Session gives a stream its own array before pushing. */
export const NO_QUEUED_DATA: readonly Uint8Array[] = Object.freeze([]) as readonly Uint8Array[];

export class H2Stream {
  /** We have not sent END_STREAM (open or half-closed remote). */
  localOpen = true;
  /** The peer has not sent END_STREAM (open or half-closed local). */
  remoteOpen = true;
  /** How much DATA we may still send (the peer's window for this stream; may go negative, §6.9.2). */
  sendWindow: number;
  /** How much DATA the peer may still send before we return credit. */
  recvWindow: number;
  /** DATA bytes delivered to the handler that it has not yet reported consumed. */
  unconsumed = 0;
  /** Consumed bytes not yet returned to the peer with WINDOW_UPDATE. */
  pendingCredit = 0;
  /**
   * DATA waiting for window, in order; `queueOffset` bytes of the first chunk are already sent. Until
   * something waits, the shared empty NO_QUEUED_DATA (never pushed to): most streams never queue.
   */
  queue: Uint8Array[] = NO_QUEUED_DATA as Uint8Array[];
  queueOffset = 0;
  queuedBytes = 0;
  /** No more DATA will be queued: END_STREAM goes on the last frame (or on `trailers`). */
  endQueued = false;
  /** Trailers to send once the queue is empty. */
  trailers: string[] | null = null;
  /** Names to encode never-indexed in `trailers`. */
  trailersNeverIndexed: readonly string[] | null = null;
  /** Client side: a final (non-1xx) response head has arrived. Server side: the request head has. */
  headReceived = false;
  /** The peer's declared content-length (-1 if none or if the message has no body by definition). */
  contentLength = -1;
  dataBytesReceived = 0;
  /** We sent a header block on it (server: the response has begun; a reset by the peer is no longer "rapid"). */
  headSent = false;
  /** Client side: the request was HEAD, so the response has no body whatever its content-length says. */
  headRequest = false;
  /** What the session's user attached to the stream (the proxy's exchange), passed back with its events. */
  owner: unknown = undefined;

  constructor(
    readonly id: number,
    /** Opened by the peer (a request to this server) rather than by us. */
    readonly peerInitiated: boolean,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }
}
