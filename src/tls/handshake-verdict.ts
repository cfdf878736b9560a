// What a finished mTLS handshake between meshed proxies means: on the server side the verified client
// identity, on the client side whether the server proved the identity it was dialled for. Both refuse
// whenever the TLS library reports a failure or an unverified peer, whatever the socket options said.
import type { Socket } from "bun";
import { type MeshIdentity, carriesIdentity, peerIdentity } from "./peer-identity.ts";

/** A Bun TLS socket's handshake as its `handshake(socket, success, authorizationError)` handler sees it. */
export interface HandshakeOutcome {
  readonly success: boolean;
  readonly authorizationError: Error | null;
  /** The peer leaf's subjectAltName string; undefined when it sent no certificate. */
  readonly peerSubjectAltName: string | undefined;
}

/** Stable reasons for refusing a meshed peer (logged and counted by code, never by message). */
export type RefusalCode =
  | "MESHLET_TLS_HANDSHAKE_FAILED" // the handshake itself failed (protocol version, alert, bad signature)
  | "MESHLET_TLS_HANDSHAKE_TIMEOUT" // the client did not complete the handshake in time
  | "MESHLET_TLS_PEER_UNVERIFIED" // the peer's chain does not lead to the trust anchors, or is expired
  | "MESHLET_TLS_NO_PEER_IDENTITY" // verified, but no DNS or URI subjectAltName (or no certificate)
  | "MESHLET_TLS_IDENTITY_MISMATCH"; // the server does not carry the identity it was dialled for

export type Verdict<T> = ({ readonly ok: true } & T) | { readonly ok: false; readonly code: RefusalCode; readonly detail: string };

/** Collects the outcome from a Bun TLS socket inside its `handshake` handler. */
export function handshakeOutcome(socket: Socket<unknown>, success: boolean, authorizationError: Error | null): HandshakeOutcome {
  const certificate = (socket as unknown as { getPeerCertificate(): { subjectaltname?: string } | undefined | null }).getPeerCertificate();
  return { success, authorizationError, peerSubjectAltName: certificate?.subjectaltname };
}

function refusedByTls(outcome: HandshakeOutcome): Verdict<object> | undefined {
  if (outcome.authorizationError) {
    const code = (outcome.authorizationError as Error & { code?: string }).code ?? outcome.authorizationError.message;
    // BoringSSL failed the handshake itself (Bun reports EPROTO with OpenSSL's reason in the message).
    if (code === "EPROTO") {
      const reason = outcome.authorizationError.message;
      if (reason.includes("PEER_DID_NOT_RETURN_A_CERTIFICATE")) return { ok: false, code: "MESHLET_TLS_NO_PEER_IDENTITY", detail: "no client certificate" };
      return { ok: false, code: "MESHLET_TLS_HANDSHAKE_FAILED", detail: reason };
    }
    // Bun's own check of serverName against the certificate (it would accept a wildcard; we do not).
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return { ok: false, code: "MESHLET_TLS_IDENTITY_MISMATCH", detail: `${code}: the server presented ${outcome.peerSubjectAltName ?? "no name"}` };
    return { ok: false, code: "MESHLET_TLS_PEER_UNVERIFIED", detail: String(code) };
  }
  if (!outcome.success) return { ok: false, code: "MESHLET_TLS_HANDSHAKE_FAILED", detail: "handshake failed" };
  return undefined;
}

/** Server side: the client's identity (its first DNS or URI name), or why the connection is refused. */
export function verifyMeshClient(outcome: HandshakeOutcome): Verdict<{ readonly identity: MeshIdentity }> {
  const refused = refusedByTls(outcome);
  if (refused && !refused.ok) return refused;
  let identity: MeshIdentity | undefined;
  try {
    identity = peerIdentity(outcome.peerSubjectAltName);
  } catch (err) {
    return { ok: false, code: "MESHLET_TLS_NO_PEER_IDENTITY", detail: (err as Error).message };
  }
  if (!identity) return { ok: false, code: "MESHLET_TLS_NO_PEER_IDENTITY", detail: outcome.peerSubjectAltName === undefined ? "no client certificate" : "no DNS or URI subjectAltName" };
  return { ok: true, identity };
}

/** Client side: whether the server carries `expectedIdentity` exactly, or why it is refused. */
export function verifyMeshServer(outcome: HandshakeOutcome, expectedIdentity: string): Verdict<object> {
  const refused = refusedByTls(outcome);
  if (refused && !refused.ok) return refused;
  let carries: boolean;
  try {
    carries = carriesIdentity(outcome.peerSubjectAltName, expectedIdentity);
  } catch (err) {
    return { ok: false, code: "MESHLET_TLS_IDENTITY_MISMATCH", detail: (err as Error).message };
  }
  if (!carries) return { ok: false, code: "MESHLET_TLS_IDENTITY_MISMATCH", detail: `expected ${expectedIdentity}, the server presented ${outcome.peerSubjectAltName ?? "no certificate"}` };
  return { ok: true };
}
