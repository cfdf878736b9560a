// A meshed endpoint for the outbound mTLS tests: a Bun.listen server on 127.0.0.1, with mTLS (client
// certificate required, chained to the trust anchors) or plaintext, answering each HTTP/1.1 request
// with what it saw of the connection (the client certificate's SAN and fingerprint, or the first bytes).
import type { Socket, TCPSocketListener } from "bun";
import { readFileSync } from "node:fs";

/** What one connection looked like to the server. */
export interface SeenConnection {
  /** TLS: the handshake completed and the client certificate verified. */
  readonly handshake: boolean;
  /** The client certificate's subjectAltName ("" in plaintext). */
  readonly clientSan: string;
  /** The client certificate's SHA-256 fingerprint, "AB:CD:…" ("" in plaintext). */
  readonly clientFingerprint256: string;
  /** The first bytes received (the request line once decrypted). */
  readonly firstBytes: string;
  /** The request's header names, lowercase, in order. */
  readonly headerNames: string[];
}

export interface PeerReportServer {
  readonly port: number;
  /** Every connection that carried a request, in order. */
  readonly seen: SeenConnection[];
  /** TLS handshakes the server completed (a refused client never counts). */
  handshakes: number;
  stop(): void;
}

/** The three files `meshlet identity issue` writes. */
export interface IdentityFiles {
  readonly anchors: string;
  readonly cert: string;
  readonly key: string;
}

interface ConnState {
  handshake: boolean;
  san: string;
  fingerprint: string;
  buffered: string;
}

/**
 * Answers every request `200` with a JSON body of SeenConnection and `connection: close`, so each
 * request through the proxy opens a new upstream connection. `tls`: the server's identity files.
 */
export function startPeerReportServer(tls?: IdentityFiles): PeerReportServer {
  const state: PeerReportServer = { port: 0, seen: [], handshakes: 0, stop: () => listener.stop(true) };
  const handlers = {
    open(socket: Socket<ConnState>) {
      socket.data = { handshake: false, san: "", fingerprint: "", buffered: "" };
    },
    handshake(socket: Socket<ConnState>, success: boolean, authorizationError: Error | null) {
      if (!success || authorizationError !== null) return;
      const cert = (socket as unknown as { getPeerCertificate(): { subjectaltname?: string; fingerprint256?: string } | null }).getPeerCertificate();
      socket.data.handshake = true;
      socket.data.san = cert?.subjectaltname ?? "";
      socket.data.fingerprint = cert?.fingerprint256 ?? "";
      state.handshakes++;
    },
    data(socket: Socket<ConnState>, data: Buffer) {
      const conn = socket.data;
      conn.buffered += data.toString("latin1");
      if (!conn.buffered.includes("\r\n\r\n")) return;
      const lines = conn.buffered.slice(0, conn.buffered.indexOf("\r\n\r\n")).split("\r\n");
      const headerNames = lines.slice(1).map((line) => line.slice(0, line.indexOf(":")).toLowerCase());
      const seen: SeenConnection = { handshake: conn.handshake, clientSan: conn.san, clientFingerprint256: conn.fingerprint, firstBytes: lines[0]!, headerNames };
      state.seen.push(seen);
      const body = JSON.stringify(seen);
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    },
  };
  const listener: TCPSocketListener<ConnState> = Bun.listen<ConnState>({
    hostname: "127.0.0.1",
    port: 0,
    socket: handlers,
    ...(tls !== undefined
      ? {
          tls: {
            cert: readFileSync(tls.cert, "utf8"),
            key: readFileSync(tls.key, "utf8"),
            ca: readFileSync(tls.anchors, "utf8"),
            requestCert: true,
            rejectUnauthorized: true,
          },
        }
      : {}),
  });
  (state as { port: number }).port = listener.port;
  return state;
}
