// Parsers for the value types that MESHLET_* variables take: socket addresses, durations, port sets,
// enums and booleans. Each returns the value or a ValueError saying what was expected.

export class ValueError extends Error {
  constructor(readonly expected: string) {
    super(expected);
  }
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, with brackets around an IPv6 host. */
export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(":") ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

export type PortSet = ReadonlySet<number>;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)*\.?$/;

export function isIpv4(host: string): boolean {
  return IPV4.test(host);
}

export function isIpv6(host: string): boolean {
  // Delegate to the URL parser, which implements the WHATWG IPv6 grammar.
  if (!host.includes(":")) return false;
  try {
    return new URL(`http://[${host}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

export function isIp(host: string): boolean {
  return isIpv4(host) || isIpv6(host);
}

function parsePortNumber(text: string, allowZero: boolean): number {
  if (!/^\d{1,5}$/.test(text)) throw new ValueError("a port number 0-65535");
  const port = Number(text);
  if (port > 65535 || (!allowZero && port === 0)) throw new ValueError(allowZero ? "a port number 0-65535" : "a port number 1-65535");
  return port;
}

/** "ip:port" or "[ipv6]:port", where ip must be numeric (a listen address). Port 0 picks a free port. */
export function parseListenAddress(text: string): HostPort {
  const hp = splitHostPort(text, "an address ip:port, e.g. 127.0.0.1:4140 or [::]:4143");
  if (!isIp(hp.host)) throw new ValueError("a numeric IP address and port, e.g. 127.0.0.1:4140 or [::]:4143");
  return { host: hp.host, port: parsePortNumber(hp.port, true) };
}

/** A listen address as parseListenAddress, or `off`: null (the listener is not started). */
export function parseOptionalListenAddress(text: string): HostPort | null {
  if (text.trim().toLowerCase() === "off") return null;
  try {
    return parseListenAddress(text);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new ValueError(`${err.expected}, or off`);
  }
}

/** True for a loopback peer address: 127.0.0.0/8, ::1, or IPv4-mapped 127.x (as servers report peers). */
export function isLoopbackIp(ip: string): boolean {
  return /^(127\.|::1$|::ffff:127\.)/.test(ip);
}

/** "host:port" where host is an IP or a DNS name (resolved at connect time). */
export function parseDestination(text: string): HostPort {
  const hp = splitHostPort(text, "a destination host:port, e.g. 127.0.0.1:8080 or redis.internal:6379");
  if (!isIp(hp.host) && !HOSTNAME.test(hp.host)) throw new ValueError("a valid IP address or DNS name before the port");
  return { host: hp.host, port: parsePortNumber(hp.port, false) };
}

function splitHostPort(text: string, expected: string): { host: string; port: string } {
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]+)\]:([^:]+)$/.exec(trimmed);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const colon = trimmed.lastIndexOf(":");
  if (colon <= 0 || trimmed.indexOf(":") !== colon) throw new ValueError(expected);
  return { host: trimmed.slice(0, colon), port: trimmed.slice(colon + 1) };
}

const DURATION = /^\s*(\d+)(ms|s|m|h|d)?\s*$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Linkerd's duration syntax: digits with ms|s|m|h|d; a bare number only when it is 0. Returns ms. */
export function parseDurationMs(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new ValueError("a duration like 500ms, 10s, 1m, 2h or 1d");
  const amount = Number(m[1]);
  if (m[2] === undefined && amount !== 0) throw new ValueError("a duration with a unit (ms, s, m, h, d), e.g. 10s");
  const ms = amount * UNIT_MS[m[2] ?? "ms"]!;
  if (!Number.isSafeInteger(ms) || ms > 2 ** 31 - 1) throw new ValueError("a duration of at most 24d");
  return ms;
}

/** A duration, or "off" (also "0") to disable. Returns ms, or 0 when off. */
export function parseOptionalDurationMs(text: string): number {
  if (text.trim().toLowerCase() === "off") return 0;
  return parseDurationMs(text);
}

/** Comma-separated ports and inclusive ranges lo-hi; blank entries ignored (Linkerd's port-range set). */
export function parsePortSet(text: string): PortSet {
  const ports = new Set<number>();
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(item);
    if (range) {
      const lo = parsePortNumber(range[1]!, false);
      const hi = parsePortNumber(range[2]!, false);
      if (hi < lo) throw new ValueError(`a range lo-hi with lo <= hi (got ${item})`);
      for (let p = lo; p <= hi; p++) ports.add(p);
    } else {
      try {
        ports.add(parsePortNumber(item, false));
      } catch {
        throw new ValueError(`ports 1-65535 or ranges like 8000-8010, comma-separated (got ${JSON.stringify(item)})`);
      }
    }
  }
  return ports;
}

/** The inverse of parsePortSet, compact and sorted: "25,587,8000-8010". */
export function formatPortSet(ports: PortSet): string {
  const sorted = [...ports].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return parts.join(",");
}

export function parseEnum<T extends string>(allowed: readonly T[]): (text: string) => T {
  return (text) => {
    const value = text.trim().toLowerCase();
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new ValueError(`one of ${allowed.join(", ")}`);
  };
}

export function parseBoolean(text: string): boolean {
  const value = text.trim().toLowerCase();
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new ValueError("true or false");
}

/** A whole number from 1 to `max`. */
export function parsePositiveInteger(max: number): (text: string) => number {
  return (text) => {
    const t = text.trim();
    if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > max) throw new ValueError(`a whole number from 1 to ${max}`);
    return Number(t);
  };
}

const BYTE_UNITS: Record<string, number> = { "": 1, kib: 1024, mib: 1024 * 1024 };

/** A size in bytes: "65536", "256KiB" or "1MiB", from `minBytes` to `maxBytes`. */
export function parseByteSize(minBytes: number, maxBytes: number): (text: string) => number {
  return (text) => {
    const m = /^\s*(\d+)\s*(KiB|MiB)?\s*$/i.exec(text);
    const bytes = m ? Number(m[1]) * BYTE_UNITS[(m[2] ?? "").toLowerCase()]! : NaN;
    if (!(bytes >= minBytes && bytes <= maxBytes)) throw new ValueError(`a size from ${minBytes / 1024}KiB to ${maxBytes / 1024 / 1024}MiB, e.g. 256KiB`);
    return bytes;
  };
}

export function parseDnsName(text: string): string {
  const name = text.trim().toLowerCase().replace(/\.$/, "");
  if (!HOSTNAME.test(name)) throw new ValueError("a DNS name, e.g. cluster.local");
  return name;
}

/** A DNS-1123 label, as Kubernetes namespace names are: lowercase, digits and '-', at most 63. */
export function parseDnsLabel(text: string): string {
  const label = text.trim();
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(label)) throw new ValueError("a DNS-1123 label (lowercase letters, digits and '-'), e.g. default");
  return label;
}

export function parseString(text: string): string {
  return text.trim();
}

/** An inclusive port range; a single port has lo === hi. */
export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

/** parsePortSet's syntax, keeping each entry as given, in order (iptables rules list them so). */
export function parsePortRanges(text: string): readonly PortRange[] {
  const ranges: PortRange[] = [];
  for (const item of text.split(",")) {
    const ports = [...parsePortSet(item)];
    if (ports.length > 0) ranges.push({ lo: Math.min(...ports), hi: Math.max(...ports) });
  }
  return ranges;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Kubernetes labels as `k=v,k2=v2` (empty: none); keys and values checked against Kubernetes' syntax. */
export function parseLabelMap(text: string): Readonly<Record<string, string>> {
  const labels: Record<string, string> = {};
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq).trim();
    const value = eq < 0 ? undefined : item.slice(eq + 1).trim();
    if (value === undefined || !LABEL_KEY.test(key) || !LABEL_VALUE.test(value) || key in labels) {
      throw new ValueError(`Kubernetes labels like app=web,tier=front, each key once (got ${JSON.stringify(item)})`);
    }
    labels[key] = value;
  }
  return Object.freeze(labels);
}
