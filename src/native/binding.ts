// The typed boundary to the C++ addon: the only module that loads the .node file. One line per export
// says what it takes, returns and who owns what. Failures come back as -errno, never as exceptions; an
// argument of the wrong type (or out of range) gives -EINVAL.
import { createRequire } from "node:module";
import { join } from "node:path";

/** A connection the front door handed to TypeScript; `fd` is owned by the receiver from then on. */
export interface HandoffRecord {
  readonly fd: number;
  readonly listenerId: number;
  readonly protocol: number; // Protocol
  readonly sni: string;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly targetIp: string;
  readonly targetPort: number;
  readonly targetIsOriginal: boolean;
  /** TCP to an endpoint of the meshed table (handoff bit MESHED_TCP_HANDOFF_BIT): for mTLS origination; `protocol` says why it is TCP. */
  readonly meshedTarget: boolean;
}

/** Every field is required but the target; the values come from the MESHLET_* settings (no native default). */
export interface NativeListenerSpec {
  readonly id: number;
  readonly bindIp: string;
  readonly bindPort: number;
  readonly direction: number;
  readonly targetIp?: string;
  readonly targetPort?: number;
  readonly detectTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly handoffMask: number;
  /** Splice pipe size per direction, opened on first need. */
  readonly pipeBytes: number;
  /** TCP keepalive idle time and probe interval on accepted / dialed sockets; 0 = off. */
  readonly acceptKeepaliveMs: number;
  readonly connectKeepaliveMs: number;
  /** TCP_USER_TIMEOUT on accepted and dialed sockets; 0 = the kernel default. */
  readonly userTimeoutMs: number;
}

export interface TransportStatsRow {
  readonly direction: number;
  readonly peer: "src" | "dst";
  readonly targetIp: string;
  readonly targetPort: number;
  readonly openTotal: number;
  readonly openNow: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  readonly closes: ReadonlyArray<readonly [errno: number, count: number]>;
}

export interface ClosedConnectionRecord {
  readonly listenerId: number;
  readonly protocol: number;
  readonly sni: string;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly targetIp: string;
  readonly targetPort: number;
  readonly clientToTargetBytes: number;
  readonly targetToClientBytes: number;
  readonly durationMs: number;
  readonly errno: number;
  /** Closed by the inbound policy: refused ("denied") or by a later push ("terminated"); "" otherwise. */
  readonly policy: "" | "denied" | "terminated";
  /** The policy entry that denied it (when `policy` is set). */
  readonly policyEntryId: number;
}

export interface HistogramSnapshot {
  readonly counts: readonly number[]; // per bucket, +Inf last, not cumulative
  readonly sum: number;
  readonly count: number;
}

/** One destination port's L4 policy (the contract in notes/authz-contract.md). */
export interface NativePolicyEntry {
  /** Stable index chosen by the policy compiler; counters are reported per id. */
  readonly id: number;
  /** deny: every connection to the port is refused at accept, HTTP included. */
  readonly mode: "deny" | "check";
  /** Authorizations, any of which allows; empty = deny all. */
  readonly rules: ReadonlyArray<{
    /** "10.0.0.0/8", "::/0", a bare address; IPv4-mapped IPv6 clients match IPv4 networks. */
    readonly networks: ReadonlyArray<{ readonly cidr: string; readonly except: readonly string[] }>;
    /** Needs a verified mTLS identity (none exists before mTLS, so such a rule never matches yet). */
    readonly requireIdentity: boolean;
  }>;
  /** Would-be denials are allowed and counted as allowed. */
  readonly audit: boolean;
}

/** The whole inbound L4 table: per destination port, and a default for the other ports. */
export interface NativeInboundPolicy {
  readonly generation: number;
  readonly defaultEntry: NativePolicyEntry;
  readonly entries: ReadonlyArray<{ readonly port: number; readonly entry: NativePolicyEntry }>;
}

export interface InboundPolicyCounters {
  readonly id: number;
  readonly allow: number;
  readonly deny: number;
  readonly terminate: number;
}

export interface NativeBinding {
  /** Starts the epoll thread once; `onHandoff` receives batches on the JS thread. 0 | -errno; a failure leaves nothing set (start may be retried), and start works again after stop. */
  start(onHandoff: (batch: HandoffRecord[]) => void): number;
  /** Binds and listens synchronously. Bound port | -errno (-ENOTCONN: not started). */
  listen(spec: NativeListenerSpec): number;
  /** Sets where connections without an original destination go. 0 | -EINVAL | -ENOTCONN. */
  setTarget(listenerId: number, ip: string, port: number): number;
  /** 8192-byte bitmap, bit p = destination port p is opaque. Copied. 0 | -EINVAL | -ENOTCONN. */
  setOpaquePorts(bitmap: Uint8Array): number;
  /** This workload's identity ("" = none, ≤ 253 chars): a ClientHello with that SNI (case-insensitive) on a listener whose handoffMask has Protocol.MeshTls is handed off as MeshTls. 0 | -EINVAL | -ENOTCONN. */
  setLocalIdentity(name: string): number;
  /** Replaces the meshed endpoint table: outbound TCP to one of them, on a listener whose handoffMask has MESHED_TCP_HANDOFF_BIT, is handed off with meshedTarget. 0 | -EINVAL | -ENOTCONN. */
  setMeshedEndpoints(endpoints: ReadonlyArray<{ readonly ip: string; readonly port: number }>): number;
  /** Gives a handed-off fd back to be spliced to ip:port; the fd is taken in every case (closed on failure). 0 | -EINVAL | -ENOTCONN. */
  forward(fd: number, listenerId: number, ip: string, port: number, protocol: number): number;
  /** Keepalive (idle = interval) and TCP_USER_TIMEOUT on a connected TCP fd owned elsewhere; 0 = untouched. 0 | -errno. */
  setTcpLiveness(fd: number, keepaliveMs: number, userTimeoutMs: number): number;
  /** Stops accepting; open connections continue. */
  closeListeners(): void;
  /** Closes every connection the front door owns. */
  closeAll(): void;
  /** Joins the thread and closes every fd it owned, handoffs not yet delivered included; releases the callback. */
  stop(): void;
  /** Connections the front door currently owns (detecting, connecting or spliced). */
  openConnections(): number;
  /** Transport counters per (direction, peer, target), one call per scrape. */
  transportStats(): TransportStatsRow[];
  /** [direction, protocol, count] per decided protocol since start. */
  detectResults(): Array<[direction: number, protocol: number, count: number]>;
  /** Drains the ring of finished spliced connections. */
  closedConnections(): { dropped: number; records: ClosedConnectionRecord[] };
  /** "ECONNREFUSED" for 111, "" for 0, "E<n>" for a number naming no errno. */
  errnoName(errno: number): string;
  /** Replaces the inbound L4 table (copied; from the next accept on; open inbound TCP connections it denies are reset). 0 | -EINVAL (malformed) | -ENOSPC (over 131072 entry ids). */
  setInboundPolicy(table: NativeInboundPolicy): number;
  /** allow/deny/terminate counts per entry id ever pushed, since the process started. */
  inboundPolicyStats(): InboundPolicyCounters[];
  /** Why the last setInboundPolicy failed, located ("entries[2].entry.rules[0].networks[1].cidr: ..."); "" after a success. */
  inboundPolicyError(): string;
  /** A lock-free histogram with strictly ascending whole upper bounds (≤ 64); id | -EINVAL. */
  histogramCreate(bounds: Float64Array): number;
  /** Records values[0..count) in one crossing. 0 | -EINVAL (no such histogram, wrong types). */
  histogramRecordMany(id: number, values: Float64Array, count: number): number;
  /** The counts so far | -EINVAL (no such histogram). */
  histogramSnapshot(id: number): HistogramSnapshot | number;
}

/** handoffMask bit (native kHandoffMeshedTcp): hand TCP to a meshed endpoint to TypeScript instead of splicing it. */
export const MESHED_TCP_HANDOFF_BIT = 1 << 6;

/** The sniffer's verdicts (native/sniff/sniff.h), a ClientHello for this workload's identity (MeshTls), plus the outcomes of connections never sniffed. */
export const Protocol = { Http1: 1, Http2: 2, Tls: 3, NotHttp: 4, MeshTls: 5, DetectTimeout: 254, Opaque: 255 } as const;

const ADDON_PATH = join(import.meta.dir, "..", "..", "build", "Release", "meshlet.node");

function load(): NativeBinding {
  try {
    return createRequire(import.meta.url)(ADDON_PATH) as NativeBinding;
  } catch (err) {
    throw new Error(
      `meshlet: cannot load the native addon at ${ADDON_PATH} (${(err as Error).message}). ` +
        "Build it with `npm install` (or `npx node-gyp rebuild`).",
      { cause: err },
    );
  }
}

export const native: NativeBinding = load();
