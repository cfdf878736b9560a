// The native front door as TypeScript sees it: start it, add listeners (resolving DNS targets and
// keeping them fresh), route handed-off connections to each listener's handler, and forward as TCP.
import { lookup } from "node:dns/promises";
import { closeSync } from "node:fs";

import type { HostPort, PortSet } from "../config/values.ts";
import { formatHostPort, isIp } from "../config/values.ts";
import { ListenError } from "../errors/listen-error.ts";
import type { Logger } from "../log/logger.ts";
import { type HandoffRecord, MESHED_TCP_HANDOFF_BIT, Protocol, native } from "../native/binding.ts";
import { DIRECTIONS, type Direction } from "../rt/direction.ts";
import type { TcpLiveness } from "./tcp-liveness.ts";

export { DIRECTIONS, type Direction } from "../rt/direction.ts";

/** A connection handed over by the front door. Its fd is the handler's to adopt or forward. */
export interface AcceptedConnection {
  readonly fd: number;
  readonly protocol: number;
  readonly sni: string;
  readonly client: HostPort;
  readonly target: HostPort;
  readonly targetIsOriginal: boolean;
  /** TCP (opaque, not HTTP, detect timeout: `protocol`) to an endpoint of the meshed table: for `meshedTcp`. */
  readonly meshedTarget: boolean;
  readonly listener: Listener;
}

export interface ListenerConfig {
  /** For logs: "inbound", "outbound", "outbound 127.0.0.1:16379". */
  readonly name: string;
  readonly direction: Direction;
  readonly bind: HostPort;
  /** Where connections go without an original destination; a DNS name is resolved and refreshed. */
  readonly target?: HostPort;
  readonly detectTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Splice pipe size per direction (MESHLET_SPLICE_PIPE_SIZE). */
  readonly pipeBytes: number;
  /** Handlers for sniffed protocols; protocols without one are spliced natively. */
  readonly handlers: Partial<Record<number, (conn: AcceptedConnection) => void>>;
  /** Outbound TCP to a meshed endpoint (setMeshedEndpoints), for mTLS origination; absent: spliced like the rest. */
  readonly meshedTcp?: ((conn: AcceptedConnection) => void) | undefined;
}

export interface Listener {
  readonly id: number;
  readonly config: ListenerConfig;
  readonly port: number;
}

const DNS_REFRESH_MS = 5_000;

/**
 * Resolves an outbound listener target's name before DNS (endpoint discovery): an endpoint, an Error
 * saying why the name has none now, or undefined when the name is not one it knows.
 */
export type TargetNameResolver = (host: string, port: number) => HostPort | Error | undefined;

export class FrontDoor {
  private readonly listeners = new Map<number, Listener>();
  private readonly refreshTimers: ReturnType<typeof setInterval>[] = [];
  private readonly listeningCallbacks: Array<(listener: Listener) => void> = [];
  private nextListenerId = 1;
  private nameResolver: TargetNameResolver | undefined;

  private constructor(
    private readonly logger: Logger,
    private readonly liveness: TcpLiveness,
  ) {}

  /** `liveness`: keepalive and TCP_USER_TIMEOUT for every socket the listeners accept or dial (tcpLivenessOf(config)). */
  static start(logger: Logger, liveness: TcpLiveness): FrontDoor {
    const frontDoor = new FrontDoor(logger, liveness);
    const rc = native.start((batch) => frontDoor.onHandoffs(batch));
    if (rc < 0) throw new Error(`meshlet: cannot start the front door: ${native.errnoName(-rc)}`);
    return frontDoor;
  }

  setOpaquePorts(ports: PortSet): void {
    const bitmap = new Uint8Array(8192);
    for (const port of ports) bitmap[port >> 3]! |= 1 << (port & 7);
    native.setOpaquePorts(bitmap);
  }

  /**
   * This workload's identity ("" = none): ClientHellos naming it reach the handler for Protocol.MeshTls
   * of listeners that have one; other SNIs are spliced as before.
   */
  setLocalIdentity(name: string): void {
    const rc = native.setLocalIdentity(name);
    if (rc < 0) throw new Error(`meshlet: the front door refused the local identity ${JSON.stringify(name)}: ${native.errnoName(-rc)}`);
  }

  /** The meshed endpoints (ip:port) whose outbound TCP listeners with `meshedTcp` hand off instead of splicing. */
  setMeshedEndpoints(endpoints: ReadonlyArray<{ readonly ip: string; readonly port: number }>): void {
    const rc = native.setMeshedEndpoints(endpoints);
    if (rc < 0) throw new Error(`meshlet: the front door refused the meshed endpoint table: ${native.errnoName(-rc)}`);
  }

  async listen(config: ListenerConfig): Promise<Listener> {
    const id = this.nextListenerId++;
    const target = config.target ? await this.resolveTarget(config, config.target) : undefined;
    let handoffMask = 0;
    for (const protocol of Object.keys(config.handlers)) handoffMask |= 1 << Number(protocol);
    if (config.meshedTcp !== undefined) handoffMask |= MESHED_TCP_HANDOFF_BIT;
    const rc = native.listen({
      id,
      bindIp: config.bind.host,
      bindPort: config.bind.port,
      direction: DIRECTIONS.indexOf(config.direction),
      ...(target ? { targetIp: target.host, targetPort: target.port } : {}),
      detectTimeoutMs: config.detectTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      handoffMask,
      pipeBytes: config.pipeBytes,
      ...this.liveness[config.direction],
    });
    if (rc < 0) throw new ListenError(config.name, config.bind, native.errnoName(-rc));
    const listener: Listener = { id, config, port: rc };
    this.listeners.set(id, listener);
    for (const callback of this.listeningCallbacks) callback(listener);
    if (config.target && !isIp(config.target.host)) this.keepTargetFresh(listener, config.target);
    return listener;
  }

  /** The listener with native id `id` (connection records name their listener by id). */
  listenerById(id: number): Listener | undefined {
    return this.listeners.get(id);
  }

  /** Calls `callback` with every listener from now on, once it is bound (its port known). */
  onListening(callback: (listener: Listener) => void): void {
    this.listeningCallbacks.push(callback);
  }

  /** Outbound targets named by `resolver` resolve through it (at listen and each refresh), before DNS. */
  resolveTargetNamesWith(resolver: TargetNameResolver): void {
    this.nameResolver = resolver;
  }

  /** Splices a handed-off connection to its target in native code (TypeScript decided on TCP). */
  forwardAsTcp(conn: AcceptedConnection): void {
    native.forward(conn.fd, conn.listener.id, conn.target.host, conn.target.port, conn.protocol);
  }

  /** Stops accepting; open connections continue. */
  closeListeners(): void {
    for (const timer of this.refreshTimers) clearInterval(timer);
    native.closeListeners();
  }

  closeAll(): void {
    native.closeAll();
  }

  stop(): void {
    this.closeListeners();
    native.stop();
  }

  openConnections(): number {
    return native.openConnections();
  }

  private onHandoffs(batch: HandoffRecord[]): void {
    for (const record of batch) {
      // Listeners are registered in the same tick as native.listen(), before any handoff can arrive.
      const listener = this.listeners.get(record.listenerId)!;
      const conn: AcceptedConnection = {
        fd: record.fd,
        protocol: record.protocol,
        sni: record.sni,
        client: { host: record.clientIp, port: record.clientPort },
        target: { host: record.targetIp, port: record.targetPort },
        targetIsOriginal: record.targetIsOriginal,
        meshedTarget: record.meshedTarget,
        listener,
      };
      const handler = record.meshedTarget ? listener.config.meshedTcp : listener.config.handlers[record.protocol];
      if (this.logger.enabled("trace")) { // MESHLET_LOG_LEVEL=trace: one line per handed-off connection
        this.logger.trace("connection handed off", {
          direction: listener.config.direction,
          client: formatHostPort(conn.client),
          target: conn.target.port === 0 ? undefined : formatHostPort(conn.target),
          targetIsOriginal: conn.targetIsOriginal,
          protocol: record.protocol,
          sni: record.sni || undefined,
          meshed: record.meshedTarget || undefined,
          handler: handler !== undefined,
        });
      }
      try {
        if (handler) handler(conn);
        else this.forwardAsTcp(conn);
      } catch (err) {
        // A handler bug must not take the proxy down or leak the descriptor; a meshed peer's traffic is
        // never sent in clear instead of over mTLS, so that connection is closed.
        this.logger.error(conn.meshedTarget ? "connection handler failed; closing" : "connection handler failed; forwarding as TCP", {
          direction: listener.config.direction,
          client: formatHostPort(conn.client),
          protocol: record.protocol,
          error: String(err),
        });
        if (conn.meshedTarget) closeSync(conn.fd);
        else this.forwardAsTcp(conn);
      }
    }
  }

  private async resolveTarget(config: ListenerConfig, target: HostPort): Promise<HostPort | undefined> {
    if (isIp(target.host)) return target;
    try {
      const discovered = config.direction === "outbound" ? this.nameResolver?.(target.host, target.port) : undefined;
      if (discovered instanceof Error) throw discovered;
      const named = discovered ?? target; // a discovered endpoint may itself be a name (FQDN slices)
      if (isIp(named.host)) return named;
      const { address } = await lookup(named.host);
      return { host: address, port: named.port };
    } catch (err) {
      this.logger.warn("cannot resolve target; connections are refused until it resolves", {
        listener: config.name,
        target: formatHostPort(target),
        error: (err as Error).message,
      });
      return undefined;
    }
  }

  private keepTargetFresh(listener: Listener, target: HostPort): void {
    let current = "";
    const refresh = async () => {
      const resolved = await this.resolveTarget(listener.config, target);
      if (!resolved || formatHostPort(resolved) === current) return;
      current = formatHostPort(resolved);
      native.setTarget(listener.id, resolved.host, resolved.port);
      this.logger.debug("target resolved", { listener: listener.config.name, target: formatHostPort(target), ip: resolved.host });
    };
    const timer = setInterval(refresh, DNS_REFRESH_MS);
    timer.unref();
    this.refreshTimers.push(timer);
  }
}

export { Protocol };
