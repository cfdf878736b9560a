// Terminates mTLS on a connection the native front door accepted and handed over by fd. Bun can be a
// TLS server only on sockets it accepted itself, so Bun adopts the fd as a plain socket and node:tls
// runs the server side over a Duplex around it; backpressure holds both ways, and the client is judged
// by handshake-verdict.ts before a single plaintext byte is delivered.
import type { Socket } from "bun";
import { Duplex } from "node:stream";
import { type SecureContext, TLSSocket } from "node:tls";
import { type RefusalCode, verifyMeshClient } from "./handshake-verdict.ts";
import type { MeshIdentity } from "./peer-identity.ts";

/** The adopted socket's own address (the listener's), as a Bun socket reports it. */
export interface LocalAddress {
  readonly localAddress: string;
  readonly localPort: number;
}

export interface MeshTlsSessionHandlers {
  /** The client is verified: `tls` carries the plaintext (a node stream: data, write, end, pause). */
  onSession(tls: TLSSocket, identity: MeshIdentity, local: LocalAddress): void;
  /** The client was refused or the handshake failed; the connection is already being closed. */
  onRefused(code: RefusalCode, detail: string): void;
}

// X.509 verification failures as node:tls names them (OpenSSL's verify error names: UNABLE_TO_GET_ISSUER_
// CERT_LOCALLY, CERT_HAS_EXPIRED, SELF_SIGNED_CERT_IN_CHAIN, ...).
const VERIFY_ERROR = /^(UNABLE_TO_|CERT_|SELF_SIGNED_|DEPTH_ZERO_|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_|CRL_)/;

/** The refusal code of a node:tls error raised before the handshake completed. */
function handshakeRefusal(code: string): RefusalCode {
  if (VERIFY_ERROR.test(code)) return "MESHLET_TLS_PEER_UNVERIFIED";
  if (code === "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE") return "MESHLET_TLS_NO_PEER_IDENTITY";
  return "MESHLET_TLS_HANDSHAKE_FAILED"; // protocol version, alerts, a reset
}

/** Ciphertext the adopted socket has not taken yet, and the write that waits for it. */
interface PendingWrite {
  bytes: Uint8Array;
  done: (err?: Error | null) => void;
}

export interface MeshTlsTerminationOptions {
  /** A handshake not complete this long after the fd was taken is refused (MESHLET_TLS_HANDSHAKE_TIMEOUT); 0: none. */
  readonly handshakeTimeoutMs?: number;
}

/**
 * Takes ownership of `fd` (a connected TCP socket whose first bytes are a ClientHello, only peeked) and
 * runs the TLS server side with `context` (see meshServerSecureContext): TLS 1.3, a client certificate
 * chaining to the trust anchors, a DNS or URI identity. Exactly one handler is called.
 */
export function terminateAdoptedMeshTls(fd: number, context: SecureContext, handlers: MeshTlsSessionHandlers, options: MeshTlsTerminationOptions = {}): void {
  let raw: Socket<undefined> | undefined;
  let local: LocalAddress = { localAddress: "", localPort: 0 };
  let pending: PendingWrite | undefined;
  let settled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refuse = (code: RefusalCode, detail: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    handlers.onRefused(code, detail);
  };
  const ciphertext = new Duplex({
    read() {
      raw?.resume();
    },
    write(chunk: Buffer, _encoding, done) {
      if (!raw) return done(new Error("the adopted socket is closed"));
      const n = raw.write(chunk);
      if (n < chunk.length) pending = { bytes: chunk.subarray(n), done };
      else done();
    },
    final(done) {
      raw?.end();
      done();
    },
    destroy(err, done) {
      raw?.end();
      done(err);
    },
  });
  const adopt = Bun.connect as unknown as (options: object) => Promise<Socket<undefined>>;
  adopt({
    fd,
    allowHalfOpen: true,
    socket: {
      open(socket: Socket<undefined>) {
        raw = socket;
        local = { localAddress: socket.localAddress, localPort: socket.localPort };
      },
      data(socket: Socket<undefined>, data: Buffer) {
        if (!ciphertext.push(data)) socket.pause();
      },
      drain(socket: Socket<undefined>) {
        if (!pending) return;
        const n = socket.write(pending.bytes);
        if (n < pending.bytes.length) {
          pending.bytes = pending.bytes.subarray(n);
          return;
        }
        const { done } = pending;
        pending = undefined;
        done();
      },
      end() {
        ciphertext.push(null);
      },
      close() {
        raw = undefined;
        const waiting = pending;
        pending = undefined;
        waiting?.done(new Error("the adopted socket closed"));
        ciphertext.destroy();
        // node:tls does not always notice its transport going away (a client that aborts the handshake
        // after its own verification failed): close the TLS side too, so that its owner hears of it —
        // after the errors node:tls has queued (its verdict on the client comes first).
        setImmediate(() => tls.destroy());
      },
    },
  }).catch((err: unknown) => refuse("MESHLET_TLS_HANDSHAKE_FAILED", `cannot adopt fd ${fd}: ${String(err)}`));

  // allowHalfOpen is asked for, yet Bun's node:tls (1.4.5) answers a client's close_notify by ending its own side:
  // a half-close inside mTLS closes the connection (README, Where TLS runs).
  const tls = new TLSSocket(ciphertext as never, { isServer: true, secureContext: context, requestCert: true, rejectUnauthorized: true, allowHalfOpen: true } as never);
  tls.once("secure", () => {
    const verdict = verifyMeshClient({
      success: true,
      authorizationError: tls.authorized ? null : new Error(String(tls.authorizationError)),
      peerSubjectAltName: tls.getPeerCertificate()?.subjectaltname,
    });
    if (!verdict.ok) {
      tls.destroy();
      refuse(verdict.code, verdict.detail);
      return;
    }
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    handlers.onSession(tls, verdict.identity, local);
  });
  tls.on("error", (err: Error & { code?: string }) => {
    if (settled) return; // a session's errors are its owner's
    tls.destroy();
    const code = err.code ?? err.message;
    refuse(handshakeRefusal(code), code);
  });
  tls.on("close", () => refuse("MESHLET_TLS_HANDSHAKE_FAILED", "closed during the handshake"));
  const timeoutMs = options.handshakeTimeoutMs ?? 0;
  if (timeoutMs > 0) {
    timer = setTimeout(() => {
      if (settled) return;
      refuse("MESHLET_TLS_HANDSHAKE_TIMEOUT", `no complete handshake within ${timeoutMs} ms`);
      tls.destroy();
    }, timeoutMs);
    timer.unref?.();
  }
}
