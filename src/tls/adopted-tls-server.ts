// Terminates mTLS on a connection the native front door accepted and handed over by fd: Bun adopts the
// fd as a plain socket and upgrades it in place to a server-side TLS socket (BoringSSL on Bun's native
// read path, no JS stream in between); the client is judged by handshake-verdict.ts before a single
// plaintext byte is delivered, and the verified socket is handed over as Bun's own TLS socket.
import type { Socket, SocketHandler } from "bun";
import type { SecureContext } from "node:tls";
import { type RefusalCode, handshakeOutcome, verifyMeshClient } from "./handshake-verdict.ts";
import type { MeshIdentity } from "./peer-identity.ts";

export interface MeshTlsSessionHandlers {
  /**
   * The client is verified. `socket` is Bun's TLS socket over the adopted fd (its addresses are the
   * connection's): install its handlers with `socket.reload` before returning. `early` is plaintext
   * that came before the verdict (normally empty); it belongs in front of everything `socket` delivers.
   */
  onSession(socket: Socket<undefined>, identity: MeshIdentity, early: Buffer): void;
  /** The client was refused or the handshake failed; the connection is already being closed. */
  onRefused(code: RefusalCode, detail: string): void;
}

export interface MeshTlsTerminationOptions {
  /** A handshake not complete this long after the fd was taken is refused (MESHLET_TLS_HANDSHAKE_TIMEOUT); 0: none. */
  readonly handshakeTimeoutMs?: number;
}

/** One connection until its verdict: `socket.data` of the TLS socket during the handshake. */
interface Handshaking {
  readonly handlers: MeshTlsSessionHandlers;
  settled: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Plaintext delivered before the handshake callback (kept, never given to anyone unverified). */
  early: Buffer[];
}

function refuse(state: Handshaking, code: RefusalCode, detail: string): void {
  if (state.settled) return;
  state.settled = true;
  clearTimeout(state.timer);
  state.handlers.onRefused(code, detail);
}

/** The TLS socket's handlers until the verdict; then the session's owner installs its own. */
const HANDSHAKE_HANDLERS: SocketHandler<Handshaking> = {
  handshake(socket, success, authorizationError) {
    const state = socket.data;
    if (state.settled) return; // timed out meanwhile
    const verdict = verifyMeshClient(handshakeOutcome(socket as Socket<unknown>, success, authorizationError));
    if (!verdict.ok) {
      refuse(state, verdict.code, verdict.detail); // first: terminate() calls `close` at once
      socket.terminate();
      return;
    }
    state.settled = true;
    clearTimeout(state.timer);
    const early = state.early.length === 0 ? EMPTY : Buffer.concat(state.early);
    state.early = [];
    const session = socket as unknown as Socket<undefined>;
    session.data = undefined;
    state.handlers.onSession(session, verdict.identity, early);
  },
  data(socket, data) {
    if (!socket.data.settled) socket.data.early.push(Buffer.from(data));
  },
  close(socket, err) {
    refuse(socket.data, "MESHLET_TLS_HANDSHAKE_FAILED", err ? `closed during the handshake: ${String(err)}` : "closed during the handshake");
  },
  error(socket, err) {
    refuse(socket.data, "MESHLET_TLS_HANDSHAKE_FAILED", String(err));
    socket.terminate();
  },
};

const EMPTY = Buffer.alloc(0);

/** Bun's server-side upgrade option (oven-sh/bun#31155, in 1.4.5): not in bun-types' TLSUpgradeOptions. */
type ServerUpgrade = (options: { isServer: true; data: Handshaking; tls: object; socket: SocketHandler<Handshaking> }) => [Socket<unknown>, Socket<Handshaking>];

/**
 * Takes ownership of `fd` (a connected TCP socket whose first bytes are a ClientHello, only peeked) and
 * runs the TLS server side with `context` (see meshServerSecureContext: TLS 1.3, a client certificate
 * chaining to the trust anchors, a DNS or URI identity). Exactly one handler is called.
 */
export function terminateAdoptedMeshTls(fd: number, context: SecureContext, handlers: MeshTlsSessionHandlers, options: MeshTlsTerminationOptions = {}): void {
  const state: Handshaking = { handlers, settled: false, timer: undefined, early: [] };
  let tls: Socket<Handshaking> | undefined;
  const timeoutMs = options.handshakeTimeoutMs ?? 0;
  if (timeoutMs > 0) {
    state.timer = setTimeout(() => {
      if (state.settled) return;
      refuse(state, "MESHLET_TLS_HANDSHAKE_TIMEOUT", `no complete handshake within ${timeoutMs} ms`);
      tls?.terminate();
    }, timeoutMs);
    state.timer.unref?.();
  }
  const adopt = Bun.connect as unknown as (options: object) => Promise<Socket<undefined>>;
  adopt({
    fd,
    allowHalfOpen: true,
    socket: {
      open(raw: Socket<undefined>) {
        if (state.settled) return void raw.terminate();
        try {
          // The raw socket keeps no reader: every ciphertext byte goes to BoringSSL natively.
          tls = (raw.upgradeTLS as unknown as ServerUpgrade)({
            isServer: true,
            data: state,
            // One native SSL_CTX per rotation (meshServerSecureContext), shared by every connection.
            tls: { secureContext: context.context, requestCert: true, rejectUnauthorized: true },
            socket: HANDSHAKE_HANDLERS,
          })[1];
        } catch (err) {
          raw.terminate();
          refuse(state, "MESHLET_TLS_HANDSHAKE_FAILED", `cannot start TLS on fd ${fd}: ${String(err)}`);
        }
      },
      drain() {}, // Bun asks for data or drain; the TLS socket reads and writes, not this one
    },
  }).catch((err: unknown) => refuse(state, "MESHLET_TLS_HANDSHAKE_FAILED", `cannot adopt fd ${fd}: ${String(err)}`));
}
