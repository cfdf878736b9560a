// Relays the opaque plaintext of a terminated mTLS connection to the app as TCP: Bun.connect to the
// target, bytes both ways with backpressure (a full side pauses the other), half-close passed on (a
// client FIN ends the upstream's writes and the other way round), a reset or failure closes both.
import type { Socket } from "bun";
import type { TLSSocket } from "node:tls";

export interface RelayTarget {
  readonly host: string;
  readonly port: number;
}

export interface RelayOptions {
  readonly connectTimeoutMs: number;
  /** Called once when the upstream cannot be reached (the client is then closed). */
  onConnectFailed(reason: string): void;
}

/** Relays `tls` (paused, `firstBytes` already read from it, `clientEnded` if its end was seen) to `target`. */
export function relayOpaque(tls: TLSSocket, firstBytes: Buffer, clientEnded: boolean, target: RelayTarget, options: RelayOptions): void {
  let upstream: Socket<undefined> | undefined;
  /** Client bytes the upstream has not taken yet (the client is paused meanwhile). */
  let toUpstream: Buffer | undefined = firstBytes.length > 0 ? firstBytes : undefined;
  let clientDone = clientEnded;
  let finished = false;
  let shutdownSent = false;

  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(connectTimer);
    upstream?.terminate();
    tls.destroy();
  };
  /** Writes what waits for the upstream; true when all of it was taken. */
  const flushToUpstream = (): boolean => {
    if (upstream === undefined) return false;
    if (toUpstream !== undefined) {
      const n = upstream.write(toUpstream);
      if (n < toUpstream.length) {
        toUpstream = toUpstream.subarray(n);
        return false;
      }
      toUpstream = undefined;
    }
    if (clientDone && !shutdownSent) {
      shutdownSent = true;
      upstream.shutdown(); // the client's FIN, after its last byte
    }
    return true;
  };

  const connectTimer = setTimeout(() => {
    options.onConnectFailed(`connect timeout after ${options.connectTimeoutMs} ms`);
    finish();
  }, options.connectTimeoutMs);

  tls.on("data", (chunk: Buffer) => {
    toUpstream = toUpstream === undefined ? chunk : Buffer.concat([toUpstream, chunk]);
    if (!flushToUpstream()) tls.pause();
  });
  tls.on("end", () => {
    clientDone = true;
    flushToUpstream();
  });
  tls.on("drain", () => upstream?.resume());
  tls.on("error", () => finish());
  tls.on("close", () => finish());

  Bun.connect({
    hostname: target.host,
    port: target.port,
    allowHalfOpen: true,
    socket: {
      open(socket) {
        clearTimeout(connectTimer);
        if (finished) return void socket.terminate();
        upstream = socket;
        if (flushToUpstream() && !clientDone) tls.resume();
      },
      data(socket, data) {
        if (!tls.write(data)) socket.pause();
      },
      drain() {
        if (flushToUpstream() && !clientDone) tls.resume();
      },
      end() {
        tls.end(); // the app's FIN: the client reads to the end, its own writes go on
      },
      close() {
        upstream = undefined;
        if (!tls.writableEnded) return finish(); // closed without FIN (a reset): nothing more will come
        if (clientDone) return; // both FINs passed on: the TLS socket closes by itself once flushed
        // The app is gone while the client still sends: close once the app's last bytes are written.
        if (tls.writableFinished) finish();
        else tls.once("finish", finish);
      },
      connectError(_socket, err) {
        if (finished) return;
        clearTimeout(connectTimer);
        options.onConnectFailed(String(err));
        finish();
      },
    },
  }).catch((err: unknown) => {
    if (finished) return;
    options.onConnectFailed(String(err));
    finish();
  });
}
