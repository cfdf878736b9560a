// A bare native front door in its own process that hands every TLS ClientHello to
// terminateAdoptedMeshTls (handshake timeout HANDSHAKE_TIMEOUT_MS): a verified client is greeted with
// "identity <name>\n" and then echoed (the echo queued without limit: a test door); each session (its
// identity and the socket's local address) and each refusal is reported as a JSON line on stdout. Run as
// a script it is that process (argv: a directory with tls.crt, tls.key, ca.crt); imported,
// startTlsTerminationDoor() spawns it.
import { type Subprocess, spawn } from "bun";

import { jsonLineReader } from "./json-lines.ts";

export interface TlsTerminationDoor {
  readonly port: number;
  /** The next refusal the door reported ({ code, detail }); sessions reported before it are skipped. */
  nextRefusal(): Promise<{ kind: "refusal"; code: string; detail: string }>;
  /** The next verified session the door reported: the identity, and the TLS socket's local address. */
  nextSession(): Promise<{ kind: "session"; identity: string; localAddress: string; localPort: number }>;
  stop(): Promise<void>;
}

const REPLY_TIMEOUT_MS = 10_000;
/** The door's handshake timeout: long enough for any real handshake on a loaded box. */
export const HANDSHAKE_TIMEOUT_MS = 3_000;

export async function startTlsTerminationDoor(credentialsDir: string): Promise<TlsTerminationDoor> {
  const proc: Subprocess<"ignore", "pipe", "inherit"> = spawn([process.execPath, import.meta.path, credentialsDir], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const next = jsonLineReader(proc.stdout, "the TLS termination door", REPLY_TIMEOUT_MS);
  const ready = (await next()) as { port: number };
  const nextOf = async <T>(kind: "refusal" | "session"): Promise<T> => {
    for (;;) {
      const line = (await next()) as { kind: string };
      if (line.kind === kind) return line as T;
    }
  };
  return {
    port: ready.port,
    nextRefusal: () => nextOf("refusal"),
    nextSession: () => nextOf("session"),
    stop: async () => {
      proc.kill();
      const timer = setTimeout(() => proc.kill("SIGKILL"), REPLY_TIMEOUT_MS);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

async function serve(credentialsDir: string): Promise<void> {
  const { readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { Protocol, native } = await import("../../src/native/binding.ts");
  const { meshServerSecureContext } = await import("../../src/tls/mesh-tls-options.ts");
  const { terminateAdoptedMeshTls } = await import("../../src/tls/adopted-tls-server.ts");
  const pem = (name: string) => readFileSync(join(credentialsDir, name), "utf8");
  const context = meshServerSecureContext({ certificateChainPem: pem("tls.crt"), privateKeyPem: pem("tls.key"), trustAnchorsPem: pem("ca.crt") });
  const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
  const rc = native.start((batch) => {
    for (const handoff of batch) {
      terminateAdoptedMeshTls(handoff.fd, context, {
        onSession(socket, identity, early) {
          say({ kind: "session", identity: identity.name, localAddress: socket.localAddress, localPort: socket.localPort });
          // The echo is queued without pausing the reader (a test door: the client sends everything
          // before it reads, so the TLS socket's writes come back short and must wait for drain).
          let queued: Buffer = Buffer.concat([Buffer.from(`identity ${identity.name}\n`), early]);
          let ended = false;
          const flush = () => {
            const n = queued.length > 0 ? socket.write(queued) : 0;
            queued = queued.subarray(n);
            if (queued.length === 0 && ended) socket.end();
          };
          socket.reload({
            socket: {
              data(_socket, data) {
                queued = queued.length === 0 ? data : Buffer.concat([queued, data]);
                flush();
              },
              drain: flush,
              end() {
                ended = true;
                flush();
              },
            },
          });
          flush();
        },
        onRefused(code, detail) {
          say({ kind: "refusal", code, detail });
        },
      }, { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
    }
  });
  if (rc !== 0) throw new Error(`native.start: ${rc}`);
  const port = native.listen({
    id: 1, bindIp: "127.0.0.1", bindPort: 0, direction: 0, targetIp: "127.0.0.1", targetPort: 9,
    detectTimeoutMs: 10_000, connectTimeoutMs: 1000, idleTimeoutMs: 0, handoffMask: 1 << Protocol.Tls, pipeBytes: 65536,
    acceptKeepaliveMs: 0, connectKeepaliveMs: 0, userTimeoutMs: 0,
  });
  if (port < 0) throw new Error(`native.listen: ${port}`);
  say({ port });
}

if (import.meta.main) await serve(process.argv[2]!);
