// The plaintext of a terminated mTLS connection as the HTTP engines see a client socket: the subset of
// Bun's Socket they use (write returning the bytes taken, end, terminate, pause, resume, data, the local
// address) over a node:tls TLSSocket, driving the engine's Bun SocketHandler (open, data, drain, end, close).
import type { Socket, SocketHandler } from "bun";
import type { TLSSocket } from "node:tls";
import type { LocalAddress } from "./adopted-tls-server.ts";

/**
 * Bun's write semantics over a node stream: a write while the TLS socket is above its high-water mark
 * takes nothing (the engine keeps the bytes and waits for `drain`), otherwise it takes every byte (copied:
 * the engine may reuse its buffer) and a full buffer then arms `drain` for the next writes.
 */
export class PlaintextSocket<T> {
  data: T;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  private waitingForDrain = false;
  private paused = false;
  private closed = false;

  constructor(
    private readonly tls: TLSSocket,
    private readonly handlers: SocketHandler<T>,
    data: T,
    local: LocalAddress,
    remote: { readonly host: string; readonly port: number },
  ) {
    this.data = data;
    this.localAddress = local.localAddress;
    this.localPort = local.localPort;
    this.remoteAddress = remote.host;
    this.remotePort = remote.port;
  }

  /**
   * Calls the handlers' `open`, then `data` with `firstBytes` (read for detection while `tls` was
   * paused) and `end` if the client already ended, then follows the stream (resumed unless the engine paused it).
   */
  start(firstBytes: Buffer, clientEnded: boolean): void {
    const tls = this.tls;
    const self = this.asSocket();
    tls.on("data", (chunk: Buffer) => this.call(() => this.handlers.data?.(self, chunk)));
    tls.on("drain", () => {
      if (!this.waitingForDrain) return;
      this.waitingForDrain = false;
      this.call(() => this.handlers.drain?.(self));
    });
    tls.on("end", () => this.call(() => this.handlers.end?.(self)));
    tls.on("error", () => tls.destroy()); // the reason reaches `close` below
    tls.on("close", (hadError: boolean) => {
      if (this.closed) return;
      this.closed = true;
      this.call(() => this.handlers.close?.(self, hadError ? new Error("the mTLS connection failed") : undefined));
    });
    this.call(() => this.handlers.open?.(self));
    if (firstBytes.length > 0 && !this.closed) this.call(() => this.handlers.data?.(self, firstBytes));
    if (clientEnded && !this.closed) this.call(() => this.handlers.end?.(self));
    if (!this.paused && !this.closed) tls.resume();
  }

  write(data: string | Uint8Array, byteOffset = 0, byteLength?: number): number {
    if (this.closed || this.tls.destroyed || this.tls.writableEnded) return 0;
    if (this.tls.writableNeedDrain) {
      this.waitingForDrain = true;
      return 0;
    }
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    const end = byteLength === undefined ? bytes.length : byteOffset + byteLength;
    const copy = Buffer.from(bytes.subarray(byteOffset, end));
    if (!this.tls.write(copy)) this.waitingForDrain = true;
    return copy.length;
  }

  end(): void {
    if (!this.tls.writableEnded) this.tls.end();
  }

  terminate(): void {
    this.tls.destroy();
  }

  pause(): void {
    this.paused = true;
    this.tls.pause();
  }

  resume(): void {
    this.paused = false;
    this.tls.resume();
  }

  /** This object where the engine expects a Bun socket: it only touches the members above. */
  asSocket(): Socket<T> {
    return this as unknown as Socket<T>;
  }

  /** A handler that throws closes only this connection, as Bun's `error` handler contract says. */
  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      try {
        this.handlers.error?.(this.asSocket(), err as Error);
      } finally {
        this.tls.destroy();
      }
    }
  }
}
