// Raw TCP helpers for integration tests, on node:net (half-close needs allowHalfOpen): echo and
// scripted servers, and a client that sends bytes, optionally half-closes, and collects the reply.
import net from "node:net";

export interface TestServer {
  readonly port: number;
  readonly accepted: () => number;
  close(): Promise<void>;
}

export function listen(onConnection: (socket: net.Socket) => void): Promise<TestServer> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onConnection(socket);
  });
  return new Promise((resolve) => {
    server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        accepted: () => accepted,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Echoes everything and half-closes after the client does. */
export function echoServer(): Promise<TestServer> {
  return listen((socket) => {
    socket.pipe(socket);
  });
}

export interface Exchange {
  readonly received: Buffer;
  readonly closedBy: "end" | "error";
  readonly error?: string;
}

/** Connects, writes `payload`, half-closes if asked, and resolves with everything read until close. */
export function exchange(port: number, payload: Uint8Array | string, options: { halfClose?: boolean; timeoutMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`exchange on ${port} did not finish within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    socket.on("connect", () => {
      socket.write(payload);
      if (options.halfClose ?? true) socket.end();
    });
    socket.on("data", (d) => chunks.push(d as Buffer));
    socket.on("end", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks), closedBy: "end" });
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks), closedBy: "error", error: err.message });
    });
  });
}
