// Gives a verified mTLS socket (Bun's own TLS socket, adopted-tls-server.ts) to an HTTP engine: the
// engine's Bun socket handlers are installed on it, then `open`, the bytes read for detection and the
// client's end are replayed in order — from then on Bun drives the engine as for a plaintext client.
import type { Socket, SocketHandler } from "bun";

/**
 * Installs `handlers` on `socket` with `data` as its state and replays `open`, then `data` with
 * `firstBytes` (read before the hand-over), then `end` if the client already ended. A handler that
 * throws closes only this connection, as Bun's `error` handler contract says.
 */
export function handOverToEngine<T>(socket: Socket<unknown>, handlers: SocketHandler<T>, data: T, firstBytes: Buffer, clientEnded: boolean): void {
  const engineSocket = socket as Socket<T>;
  const live = () => engineSocket.readyState !== 0 && engineSocket.readyState !== -1; // not closed nor detached
  engineSocket.data = data;
  engineSocket.reload({ socket: handlers });
  try {
    handlers.open?.(engineSocket);
    if (firstBytes.length > 0 && live()) handlers.data?.(engineSocket, firstBytes);
    if (clientEnded && live()) handlers.end?.(engineSocket);
  } catch (err) {
    try {
      handlers.error?.(engineSocket, err as Error);
    } finally {
      engineSocket.terminate();
    }
  }
}
