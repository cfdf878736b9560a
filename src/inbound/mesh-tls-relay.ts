// Relays the opaque plaintext of a terminated mTLS connection (Bun's TLS socket) to the app as TCP:
// Bun.connect to the target, bytes both ways with backpressure (a side that takes only part of a write
// keeps the rest and pauses the other side until its drain), FINs passed on after the last byte, and a
// reset or failure closes both.
import type { Socket } from "bun";

export interface RelayTarget {
  readonly host: string;
  readonly port: number;
}

export interface RelayOptions {
  readonly connectTimeoutMs: number;
  /** Called once when the upstream cannot be reached (the client is then closed). */
  onConnectFailed(reason: string): void;
}

/** Bytes one side has not taken yet, behind the write that took only part of them. */
class Backlog {
  private bytes: Buffer | undefined;

  add(chunk: Buffer): void {
    this.bytes = this.bytes === undefined ? chunk : Buffer.concat([this.bytes, chunk]);
  }

  /** Writes what waits to `socket`; true when all of it was taken (false, and nothing kept, once it is closed). */
  flushTo(socket: Socket<undefined>): boolean {
    if (this.bytes === undefined) return true;
    const n = socket.write(this.bytes);
    if (n < 0) {
      this.bytes = undefined; // the socket is closed: its close handler ends the relay
      return false;
    }
    if (n < this.bytes.length) {
      this.bytes = this.bytes.subarray(n);
      return false;
    }
    this.bytes = undefined;
    return true;
  }
}

/**
 * Relays `client` (a verified TLS socket whose handlers this installs; `firstBytes` were already read
 * from it, `clientEnded` if its end was seen) to `target`.
 */
export function relayOpaque(client: Socket<undefined>, firstBytes: Buffer, clientEnded: boolean, target: RelayTarget, options: RelayOptions): void {
  let upstream: Socket<undefined> | undefined;
  const toUpstream = new Backlog();
  const toClient = new Backlog();
  if (firstBytes.length > 0) toUpstream.add(firstBytes);
  /** The client sent its last byte (close_notify / FIN, or closed cleanly). */
  let clientDone = clientEnded;
  /** The client's TLS socket is closed: nothing more can reach it. */
  let clientGone = false;
  /** The app sent its last byte (FIN, or closed cleanly). */
  let upstreamDone = false;
  let reset = false;
  let upstreamShutdown = false;
  let clientShutdown = false;

  /** A side failed or was reset: the other side is reset too (Linkerd passes resets on), nothing more flows. */
  const resetBoth = () => {
    if (reset) return;
    reset = true;
    clearTimeout(connectTimer);
    upstream?.terminate();
    if (!clientGone) client.terminate();
  };
  /** Client bytes to the app, then the client's FIN after them; true when all of it was taken. */
  const flushToUpstream = (): boolean => {
    if (upstream === undefined || !toUpstream.flushTo(upstream)) return false;
    if (clientDone && !upstreamShutdown) {
      upstreamShutdown = true;
      upstream.shutdown();
    }
    return true;
  };
  /**
   * App bytes to the client, then the app's FIN after them; true when all of it was taken. Bun's TLS
   * socket has no half-close: `end()` sends close_notify and closes it once its writes are out.
   */
  const flushToClient = (): boolean => {
    if (clientGone || !toClient.flushTo(client)) return false;
    if (upstreamDone && !clientShutdown) {
      clientShutdown = true;
      client.end();
    }
    return true;
  };

  const connectTimer = setTimeout(() => {
    options.onConnectFailed(`connect timeout after ${options.connectTimeoutMs} ms`);
    resetBoth();
  }, options.connectTimeoutMs);

  client.pause(); // until the upstream is open
  client.reload({
    socket: {
      data(socket, chunk) {
        if (upstreamDone && upstream === undefined) return; // the app is gone: what the client still sends has nowhere to go
        toUpstream.add(chunk);
        if (!flushToUpstream()) socket.pause();
      },
      drain() {
        if (flushToClient()) upstream?.resume();
      },
      end() {
        clientDone = true;
        flushToUpstream();
      },
      close(_socket, err) {
        clientGone = true;
        if (err !== undefined) return resetBoth();
        // Closed cleanly (also how Bun closes a TLS socket after our end()): what the client sent still
        // reaches the app, then its FIN and the close; a graceful close never becomes a reset.
        clientDone = true;
        flushToUpstream();
      },
      error: resetBoth,
    },
  });

  Bun.connect({
    hostname: target.host,
    port: target.port,
    allowHalfOpen: true,
    socket: {
      open(socket) {
        clearTimeout(connectTimer);
        if (reset) return void socket.terminate();
        upstream = socket;
        if (flushToUpstream() && !clientDone) client.resume();
      },
      data(socket, data) {
        // Nobody can read it: reset, as the kernel answers bytes sent to a closed socket.
        if (clientGone) return void socket.terminate();
        toClient.add(data);
        if (!flushToClient()) socket.pause();
      },
      drain() {
        if (flushToUpstream() && !clientDone) client.resume();
      },
      end() {
        upstreamDone = true; // the app's FIN: the client reads to the end, its own writes go on
        flushToClient();
      },
      close(_socket, err) {
        upstream = undefined;
        if (err !== undefined) return resetBoth();
        // Closed cleanly (after its FIN, or after ours): the client still gets its last bytes, then the end.
        upstreamDone = true;
        flushToClient();
      },
      connectError(_socket, err) {
        if (reset) return;
        clearTimeout(connectTimer);
        options.onConnectFailed(String(err));
        resetBoth();
      },
    },
  }).catch((err: unknown) => {
    if (reset) return;
    options.onConnectFailed(String(err));
    resetBoth();
  });
}
