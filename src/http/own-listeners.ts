// Loop prevention by address, not by name: the (ip, port) pairs meshlet's own listeners accept, and
// whether a dial target is one of them, whatever its spelling (letter case, 127.1, 2130706433,
// 0x7f000001, ::ffff:127.0.0.1, 0.0.0.0, any local interface address when a listener binds a wildcard).
import { isIpv4, isIpv6 } from "../config/values.ts";
import { networkInterfaces } from "node:os";

/** How often the local interface addresses are read again (wildcard listeners accept on all of them). */
const INTERFACES_REFRESH_MS = 5_000;

/**
 * The canonical IP of an IP literal in any spelling the system resolver or an URL accepts: IPv4 in
 * dotted-quad, IPv6 compressed lower-case, IPv4-mapped IPv6 as IPv4, brackets and zone dropped.
 * The unspecified addresses become loopback, as Linux routes a connect to them. null for a DNS name.
 */
export function canonicalIp(host: string): string | null {
  let h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const zone = h.indexOf("%");
  if (zone >= 0) h = h.slice(0, zone);
  let ip: string;
  try {
    // WHATWG URL host parsing: the numeric IPv4 forms inet_aton accepts, and IPv6 serialization.
    ip = h.includes(":") ? new URL(`http://[${h}]/`).hostname.slice(1, -1) : new URL(`http://${h}/`).hostname;
  } catch {
    return null;
  }
  if (h.includes(":")) {
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
    if (mapped !== null) {
      const hi = parseInt(mapped[1]!, 16);
      const lo = parseInt(mapped[2]!, 16);
      ip = `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
    }
  } else if (!isIpv4(ip)) {
    return null;
  }
  if (ip === "0.0.0.0") return "127.0.0.1";
  if (ip === "::") return "::1";
  return ip;
}

/** Names that always mean this host (RFC 6761 §6.3), whatever the resolver says. */
function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost");
}

interface OwnListener {
  /** Canonical bind address; "0.0.0.0" / "::" for wildcards (kept as bound, not as dialed). */
  readonly bindIp: string;
  readonly port: number;
}

export class OwnListeners {
  private readonly listeners: OwnListener[] = [];
  private localV4 = new Set<string>();
  private localV6 = new Set<string>();
  private interfacesReadMs = -Infinity;

  /** Registers a listener by its bind address (a wildcard means every local address) and bound port. */
  add(bindHost: string, port: number): void {
    const h = bindHost.startsWith("[") ? bindHost.slice(1, -1) : bindHost;
    const wildcard = h === "0.0.0.0" || h === "::" || h === "";
    const bindIp = wildcard ? (h === "::" ? "::" : "0.0.0.0") : canonicalIp(h);
    if (bindIp !== null) this.listeners.push({ bindIp, port });
  }

  /** Whether a connection to the canonical `ip` (see canonicalIp) at `port` would reach one of the listeners. */
  accepts(ip: string, port: number): boolean {
    for (const l of this.listeners) {
      if (l.port !== port) continue;
      if (l.bindIp === ip) return true;
      if (l.bindIp === "0.0.0.0" && isIpv4(ip) && this.isLocal(ip)) return true;
      // A "::" listener is dual-stack (the front door leaves IPV6_V6ONLY off): it takes IPv4 too.
      if (l.bindIp === "::" && this.isLocal(ip)) return true;
    }
    return false;
  }

  /**
   * Whether dialing host:port would come back to meshlet, decided before any DNS lookup: IP literals
   * in any spelling and localhost names against the listeners, and against `local` (the listener the
   * request arrived on). Other names are checked by the pool once resolved (see accepts()).
   */
  isOwn(host: string, port: number, local?: { readonly localAddress: string; readonly localPort: number }): boolean {
    const candidates = isLocalhostName(host) ? ["127.0.0.1", "::1"] : [canonicalIp(host)];
    for (const ip of candidates) {
      if (ip === null) continue;
      if (this.accepts(ip, port)) return true;
      if (local !== undefined && port === local.localPort && ip === canonicalIp(local.localAddress)) return true;
    }
    return false;
  }

  private isLocal(ip: string): boolean {
    if (isIpv4(ip) && ip.startsWith("127.")) return true; // all of 127.0.0.0/8 is loopback
    if (ip === "::1") return true;
    this.readInterfaces();
    return isIpv6(ip) ? this.localV6.has(ip) : this.localV4.has(ip);
  }

  private readInterfaces(): void {
    const now = performance.now();
    if (now - this.interfacesReadMs < INTERFACES_REFRESH_MS) return;
    this.interfacesReadMs = now;
    const v4 = new Set<string>();
    const v6 = new Set<string>();
    for (const addresses of Object.values(networkInterfaces())) {
      for (const a of addresses ?? []) {
        const ip = canonicalIp(a.address);
        if (ip !== null) (isIpv4(ip) ? v4 : v6).add(ip);
      }
    }
    this.localV4 = v4;
    this.localV6 = v6;
  }
}

/** The process's listeners: main registers the front door's, the HTTP engine checks every dial. */
export const ownListeners = new OwnListeners();
