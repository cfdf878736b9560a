// Bun socket handlers for a proxy's client connections, shared by the HTTP/1 and HTTP/2 servers: `open`
// turns the socket (accepted, or an fd adopted from the native front door with its ConnInfo) into the
// engine's connection object, every later event goes to that object, and a handler that throws closes
// only its own connection. `adoptClientFd` hands a front-door fd to Bun with those handlers.
import type { Socket, SocketHandler } from "bun";
import type { Logger } from "../log/logger.ts";
import type { ConnInfo } from "./request-ctx.ts";
import { endpointKey } from "./upstream-pool.ts";

/** What an adopted fd carries until `open` turns it into the engine's connection. */
export interface PendingConn {
  readonly pending: true;
  readonly info: ConnInfo;
}

/** The events an engine's client connection takes from its socket. */
export interface ClientConnection {
  onData(data: Buffer): void;
  onDrain(): void;
  onEnd(): void;
  onClose(err?: Error): void;
  forceClose(): void;
}

/** `socket.data` of client sockets: the connection once open, its hand-off record before. */
export type ClientSocketState<C> = C | PendingConn | undefined;

export interface ClientSocketOptions<C extends ClientConnection> {
  /** Builds the connection; `adopted` is the hand-off's ConnInfo, undefined for a socket Bun accepted. */
  open(socket: Socket<ClientSocketState<C>>, adopted: ConnInfo | undefined): C;
  /** Whether `socket.data` is already a connection (close and error can come before open). */
  isConnection(data: ClientSocketState<C>): data is C;
  readonly logger: Logger;
}

export function clientSocketHandlers<C extends ClientConnection>(options: ClientSocketOptions<C>): SocketHandler<ClientSocketState<C>> {
  const { open, isConnection, logger } = options;
  return {
    open(socket) {
      const data = socket.data;
      const adopted = data !== undefined && !isConnection(data) && data.pending === true ? data.info : undefined;
      socket.data = open(socket, adopted);
    },
    data(socket, data) {
      (socket.data as C).onData(data);
    },
    drain(socket) {
      (socket.data as C).onDrain();
    },
    end(socket) {
      (socket.data as C).onEnd();
    },
    close(socket, err) {
      const conn = socket.data;
      if (conn !== undefined && isConnection(conn)) conn.onClose(err);
    },
    error(socket, err) {
      // A handler threw (a bug) or the socket failed: only this connection pays for it.
      logger.error("connection handler failed", { error: String(err), stack: err instanceof Error ? err.stack : undefined });
      const conn = socket.data;
      if (conn !== undefined && isConnection(conn)) conn.forceClose();
    },
  };
}

/** Adopts a connected client fd handed over by the native front door; the fd then belongs to Bun. */
export function adoptClientFd<C>(fd: number, info: ConnInfo, handlers: SocketHandler<ClientSocketState<C>>, logger: Logger): void {
  const data: PendingConn = { pending: true, info };
  // allowHalfOpen: a client may send FIN right after its request and still read the response.
  (Bun.connect as unknown as (o: object) => Promise<unknown>)({ fd, socket: handlers, data, allowHalfOpen: true }).catch((err: unknown) => {
    // Not closed here: whether Bun already closed it is unknown, and closing a number that was
    // reused by then would cut an unrelated connection. A leak is the lesser harm; it is logged.
    logger.error("cannot adopt connection", { fd, client: endpointKey(info.clientAddr, info.clientPort), error: String(err) });
  });
}
