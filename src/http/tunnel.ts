// A byte tunnel between a client connection and an upstream connection, after a successful Upgrade
// (101) or CONNECT (2xx): bytes flow both ways with backpressure; when either side ends, the other is
// flushed and closed; a client's FIN is passed on while upstream bytes keep flowing (half-close).
import type { ServerConnection } from "./server-connection.ts";
import type { UpstreamConnection, UpstreamOwner } from "./upstream-connection.ts";

export class Tunnel implements UpstreamOwner {
  private closed = false;

  constructor(private readonly client: ServerConnection, private readonly upstream: UpstreamConnection) {
    upstream.owner = this;
  }

  /** Client → upstream. */
  fromClient(data: Buffer, start: number): void {
    if (this.closed) return;
    if (!this.upstream.write(data, start, data.length, true)) this.client.pauseForTunnel();
  }

  /** The client socket drained: let the upstream talk again. */
  onClientDrain(): void {
    this.upstream.resume();
  }

  /** The client half-closed: pass the FIN on and keep relaying the upstream's bytes until it closes. */
  onClientEnded(): void {
    if (!this.closed) this.upstream.shutdownAfterFlush();
  }

  /** The client went away: close the upstream once what it was sent is out. */
  onClientClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.upstream.owner = null;
    // Deliver what the client sent last, then let the upstream's next byte or FIN close it.
    if (this.upstream.writer.pending) this.upstream.shutdownAfterFlush();
    else this.upstream.destroy();
  }

  // === UpstreamOwner ===

  onUpstreamData(conn: UpstreamConnection, data: Buffer): void {
    if (!this.client.writeToClient(data, 0, data.length, true)) conn.pause();
  }

  onUpstreamDrain(_conn: UpstreamConnection): void {
    this.client.resumeForTunnel();
  }

  onUpstreamClose(_conn: UpstreamConnection, _err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.client.closeAfterFlush();
  }
}
