// One mTLS hop for bench/tls-engines.sh: relays every connection on 127.0.0.1:LISTEN to 127.0.0.1:UPSTREAM
// byte for byte, terminating ("server": mTLS in, plaintext out) or originating ("client": plaintext in,
// mTLS out, the server certificate must carry exactly SERVER_NAME) TLS 1.3 with one of the engines
// compared. Benchmark prototype only; prints "ready" on stdout once every route listens.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import type { Socket, SocketHandler } from "bun";

const USAGE = `usage: bun bench/tls-hop.ts ENGINE MODE CERT_DIR SERVER_NAME LISTEN_PORT=UPSTREAM_PORT...
  ENGINE  bun          Bun's TLS sockets (server: Bun.listen with tls; client: Bun.connect with tls);
                       JavaScript relays the plaintext
          bun-adopted  server only: the native front door accepts and sniffs, Bun adopts the fd
                       (Bun.connect({ fd })) and node:tls terminates over it (a TLSSocket on a Duplex)
          bun-spliced  server only: the native front door accepts and sniffs, then splices the
                       connection to an internal Bun.listen with tls on 127.0.0.1 (one more local hop)
          native       OpenSSL on an epoll thread of bench/tls-relay (an addon in this process) relays
                       both sides natively: the opaque path, no JavaScript per byte
          native-bun   OpenSSL on that thread, the plaintext side a socketpair adopted by Bun, which
                       relays it: the HTTP path (the HTTP engine must read the plaintext)
  MODE    server (mTLS in, plaintext out) | client (plaintext in, mTLS out)
  CERT_DIR holds tls.crt (leaf + chain), tls.key, ca.crt`;

const [engine, mode, certDir, serverName, ...routeArgs] = process.argv.slice(2);
const ENGINES = ["bun", "bun-adopted", "bun-spliced", "native", "native-bun"];
const routes = routeArgs.map((r) => r.split("=").map(Number) as [number, number]);
if (!engine || !ENGINES.includes(engine) || !["server", "client"].includes(mode ?? "") || !serverName || routes.length === 0 || routes.some((r) => r.length !== 2 || r.some((p) => !Number.isInteger(p)))) {
  console.error(USAGE);
  process.exit(64);
}
if (engine.startsWith("bun-") && mode !== "server") {
  console.error(`${engine} is a server-side engine only (Bun.connect({ fd, tls }) and upgradeTLS are TLS clients)`);
  process.exit(64);
}
const certFile = join(certDir!, "tls.crt");
const keyFile = join(certDir!, "tls.key");
const caFile = join(certDir!, "ca.crt");
const pem = (file: string) => readFileSync(file, "utf8");
const TLS13 = 0x0304; // Bun's TLSOptions take versions as numbers
const clientTls = { key: pem(keyFile), cert: pem(certFile), ca: pem(caFile), serverName, rejectUnauthorized: true, minVersion: TLS13 };
const serverTls = { key: pem(keyFile), cert: pem(certFile), ca: pem(caFile), requestCert: true, rejectUnauthorized: true, minVersion: TLS13 };
type PeerCert = { getPeerCertificate(): { subjectaltname?: string } | undefined };

/** One direction of a relay: what the sink did not take waits here, and the source pauses meanwhile. */
class Direction {
  private pending: Uint8Array | undefined;
  private ended = false;
  constructor(
    private readonly source: { pause(): void; resume(): void },
    private readonly sink: { write(d: Uint8Array): number; end(): void },
  ) {}
  data(chunk: Uint8Array): void {
    if (this.pending) {
      this.pending = Buffer.concat([this.pending, chunk]);
      return;
    }
    const n = this.sink.write(chunk);
    if (n < chunk.length) {
      this.pending = chunk.subarray(n);
      this.source.pause();
    }
  }
  drain(): void {
    if (!this.pending) return;
    const n = this.sink.write(this.pending);
    if (n < this.pending.length) {
      this.pending = this.pending.subarray(n);
      return;
    }
    this.pending = undefined;
    if (this.ended) this.sink.end();
    else this.source.resume();
  }
  end(): void {
    this.ended = true;
    if (!this.pending) this.sink.end();
  }
}

/** socket.data of both sockets of a relayed pair. */
interface Side {
  out?: Direction; // this socket's bytes → the peer
  into?: Direction; // the peer's bytes → this socket
  peer?: Socket<Side>;
  early: Uint8Array[]; // bytes that arrived before the peer was ready
  ended: boolean;
}
const newSide = (): Side => ({ early: [], ended: false });

function wire(a: Socket<Side>, b: Socket<Side>): void {
  a.data.peer = b;
  b.data.peer = a;
  const ab = new Direction(a, b);
  const ba = new Direction(b, a);
  a.data.out = b.data.into = ab;
  b.data.out = a.data.into = ba;
  for (const side of [a.data, b.data]) {
    for (const chunk of side.early) side.out!.data(chunk);
    side.early = [];
    if (side.ended) side.out!.end();
  }
}

/** Data, drain, end and close for every relayed Bun socket; `handshake` is added where TLS is Bun's. */
const relayHandlers: SocketHandler<Side> = {
  data(s, d) {
    if (s.data.out) s.data.out.data(d);
    else s.data.early.push(Buffer.from(d));
  },
  drain(s) {
    s.data.into?.drain();
  },
  end(s) {
    if (s.data.out) s.data.out.end();
    else s.data.ended = true;
  },
  close(s) {
    s.data.peer?.end();
  },
  error(s) {
    s.data.peer?.end();
  },
};

/** Dials the upstream of `client` (plain TCP, Bun TLS, or an fd) and wires the two once it is ready. */
function dial(client: Socket<Side>, upstreamPort: number, how: "plain" | "tls" | { fd: number }): void {
  const handlers: SocketHandler<Side> = {
    ...relayHandlers,
    open(up) {
      if (how !== "tls") wire(client, up);
    },
    handshake(up, ok, err) {
      // rejectUnauthorized checked the chain and the name; the identity must be exactly the one expected.
      if (!ok || err || (up as unknown as PeerCert).getPeerCertificate()?.subjectaltname !== `DNS:${serverName}`) {
        up.end();
        client.end();
        return;
      }
      wire(client, up);
    },
  };
  const target = typeof how === "object" ? { fd: how.fd } : { hostname: "127.0.0.1", port: upstreamPort, tls: how === "tls" ? clientTls : undefined };
  (Bun.connect as unknown as (o: object) => Promise<unknown>)({ ...target, data: newSide(), socket: handlers, allowHalfOpen: true }).catch(() => client.end());
}

interface RelayAddon {
  start(mode: string, listenPort: number, upstreamPort: number, cert: string, key: string, ca: string, serverName: string, onFd?: (fd: number) => void): number | string;
  originate(upstreamPort: number): number;
  opensslVersion(): string;
}
let addon: RelayAddon | undefined;
function relayAddon(): RelayAddon {
  addon ??= createRequire(import.meta.url)(join(import.meta.dir, "tls-relay", "build", "Release", "tls_relay.node")) as RelayAddon;
  return addon;
}
function startRelay(listenPort: number, upstreamPort: number, onFd?: (fd: number) => void): number {
  const port = relayAddon().start(mode!, listenPort, upstreamPort, certFile, keyFile, caFile, serverName!, onFd);
  if (typeof port === "string") throw new Error(`tls-relay: ${port}`);
  return port;
}

/** Listens on `listenPort` with Bun (TLS when Bun terminates) and dials each connection's upstream. */
function listenBun(listenPort: number, upstreamPort: number, upstream: () => "plain" | "tls" | { fd: number }, terminate: boolean): number {
  return Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: listenPort,
    tls: terminate ? (serverTls as never) : undefined,
    allowHalfOpen: true,
    socket: {
      ...relayHandlers,
      open(s) {
        s.data = newSide();
        if (!terminate) dial(s, upstreamPort, upstream());
      },
      handshake(s, ok, err) {
        // requestCert + rejectUnauthorized: unverified clients are closed; the identity is the first SAN.
        if (!ok || err || !(s as unknown as PeerCert).getPeerCertificate()?.subjectaltname) {
          s.end();
          return;
        }
        dial(s, upstreamPort, upstream());
      },
    },
  }).port;
}

/** The front door accepts and sniffs, then splices each connection to an internal Bun TLS listener. */
async function listenSpliced(): Promise<void> {
  const { native } = await import("../src/native/binding.ts");
  const rc = native.start(() => {});
  if (rc !== 0) throw new Error(`native.start: ${rc}`);
  routes.forEach(([listenPort, upstreamPort], id) => {
    const internalPort = listenBun(0, upstreamPort, () => "plain", true);
    const bound = native.listen({
      id: id + 1, bindIp: "127.0.0.1", bindPort: listenPort, direction: 0, targetIp: "127.0.0.1", targetPort: internalPort,
      detectTimeoutMs: 10_000, connectTimeoutMs: 1000, idleTimeoutMs: 0, handoffMask: 0, pipeBytes: 65536,
      acceptKeepaliveMs: 0, connectKeepaliveMs: 0, userTimeoutMs: 0,
    });
    if (bound < 0) throw new Error(`native.listen: ${bound}`);
  });
}

/** A plaintext socketpair end from the relay addon, adopted by Bun and relayed to the upstream. */
function adoptPlain(fd: number, upstreamPort: number): void {
  (Bun.connect as unknown as (o: object) => Promise<unknown>)({
    fd,
    data: newSide(),
    allowHalfOpen: true,
    socket: {
      ...relayHandlers,
      open(s: Socket<Side>) {
        dial(s, upstreamPort, "plain");
      },
    },
  });
}

/** The front door accepts and sniffs; the TLS socket is adopted by fd and node:tls terminates over it. */
async function listenAdopted(): Promise<void> {
  const { native, Protocol } = await import("../src/native/binding.ts");
  const secureContext = tls.createSecureContext({ key: pem(keyFile), cert: pem(certFile), ca: pem(caFile), minVersion: "TLSv1.3" });
  const upstreamOf = new Map<number, number>();
  const rc = native.start((batch) => {
    for (const h of batch) adopt(h.fd, upstreamOf.get(h.listenerId)!);
  });
  if (rc !== 0) throw new Error(`native.start: ${rc}`);
  routes.forEach(([listenPort, upstreamPort], id) => {
    upstreamOf.set(id + 1, upstreamPort);
    const bound = native.listen({
      id: id + 1, bindIp: "127.0.0.1", bindPort: listenPort, direction: 0, targetIp: "127.0.0.1", targetPort: upstreamPort,
      detectTimeoutMs: 10_000, connectTimeoutMs: 1000, idleTimeoutMs: 0, handoffMask: 1 << Protocol.Tls, pipeBytes: 65536,
      acceptKeepaliveMs: 0, connectKeepaliveMs: 0, userTimeoutMs: 0,
    });
    if (bound < 0) throw new Error(`native.listen: ${bound}`);
  });

  function adopt(fd: number, upstreamPort: number): void {
    let raw: Socket<undefined> | undefined;
    // Ciphertext the socket has not taken yet, and the write callback that waits for it (backpressure).
    let rawPending: { bytes: Uint8Array; done: () => void } | undefined;
    const duplex = new Duplex({
      read() {
        raw?.resume();
      },
      write(chunk: Buffer, _enc, done) {
        const n = raw?.write(chunk) ?? 0;
        if (n < chunk.length) rawPending = { bytes: chunk.subarray(n), done };
        else done();
      },
      final(done) {
        raw?.end();
        done();
      },
    });
    (Bun.connect as unknown as (o: object) => Promise<unknown>)({
      fd,
      allowHalfOpen: true,
      socket: {
        open(s: Socket<undefined>) {
          raw = s;
        },
        data(s: Socket<undefined>, d: Buffer) {
          if (!duplex.push(d)) s.pause();
        },
        drain(s: Socket<undefined>) {
          if (!rawPending) return;
          const n = s.write(rawPending.bytes);
          if (n < rawPending.bytes.length) {
            rawPending.bytes = rawPending.bytes.subarray(n);
            return;
          }
          const done = rawPending.done;
          rawPending = undefined;
          done();
        },
        end() {
          duplex.push(null);
        },
        close() {
          duplex.destroy();
        },
      },
    }).then(() => {
      const t = new tls.TLSSocket(duplex as never, { isServer: true, secureContext, requestCert: true, rejectUnauthorized: true } as never);
      t.on("error", () => t.destroy());
      t.once("secure", () => {
        if (!t.getPeerCertificate()?.subjectaltname) return t.destroy();
        const early: Buffer[] = [];
        let up: Socket<undefined> | undefined;
        let upPending: Uint8Array | undefined;
        let waitingDrain = false;
        t.on("data", (d: Buffer) => {
          if (!up) return void early.push(d);
          if (upPending) return void (upPending = Buffer.concat([upPending, d]));
          const n = up.write(d);
          if (n < d.length) {
            upPending = d.subarray(n);
            t.pause();
          }
        });
        t.on("end", () => up?.end());
        t.on("close", () => up?.end());
        Bun.connect<undefined>({
          hostname: "127.0.0.1",
          port: upstreamPort,
          socket: {
            open(s) {
              up = s;
              for (const d of early) s.write(d);
            },
            data(s, d) {
              if (!t.write(d) && !waitingDrain) {
                waitingDrain = true;
                s.pause();
                t.once("drain", () => {
                  waitingDrain = false;
                  s.resume();
                });
              }
            },
            drain(s) {
              if (!upPending) return;
              const n = s.write(upPending);
              upPending = n < upPending.length ? upPending.subarray(n) : undefined;
              if (!upPending) t.resume();
            },
            end() {
              t.end();
            },
            close() {
              t.destroy();
            },
            error() {
              t.destroy();
            },
          },
        }).catch(() => t.destroy());
      });
    });
  }
}

let originatorStarted = false;
if (engine === "bun-adopted") {
  await listenAdopted();
} else if (engine === "bun-spliced") {
  await listenSpliced();
} else {
  for (const [listenPort, upstreamPort] of routes) {
    if (engine === "bun") {
      listenBun(listenPort, upstreamPort, () => (mode === "client" ? "tls" : "plain"), mode === "server");
    } else if (engine === "native") {
      startRelay(listenPort, upstreamPort);
    } else if (mode === "server") {
      startRelay(listenPort, 0, (fd) => adoptPlain(fd, upstreamPort));
    } else {
      // The client hop: Bun owns the plaintext listener, and each connection's TLS upstream is a
      // socketpair whose far end the relay encrypts (one originating relay thread for all routes).
      if (!originatorStarted) startRelay(-1, 0);
      originatorStarted = true;
      listenBun(listenPort, upstreamPort, () => ({ fd: relayAddon().originate(upstreamPort) }), false);
    }
  }
  if (engine.startsWith("native")) {
    console.error(`tls-relay: ${relayAddon().opensslVersion()} inside Bun ${Bun.version}`);
    setInterval(() => {}, 1 << 30); // the relay threads do not keep Bun's event loop alive
  }
}
console.log("ready");
