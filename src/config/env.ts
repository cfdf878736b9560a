// The MESHLET_* environment variables: each name sits beside its default, meaning and parser, and
// parseConfig() turns an environment into one frozen, typed Config, reporting every problem at once.
// README's configuration table is generated from SETTINGS (`meshlet env --markdown`) and checked by a test.
import { type Cidr, type PortRange, parseCidrs, parsePortRanges } from "./values.ts";
import {
  type HostPort,
  type PortSet,
  ValueError,
  parseDestination,
  parseDurationMs,
  parseEnum,
  parseListenAddress,
  parseBoolean,
  parseByteSize,
  parseDnsName,
  parseOptionalDurationMs,
  parsePortSet,
  parsePositiveInteger,
  parseString,
} from "./values.ts";

export type LogLevel = "error" | "warn" | "info" | "debug" | "trace" | "off";
export type LogFormat = "plain" | "json";

export interface UpstreamMapping {
  readonly listen: HostPort;
  readonly destination: HostPort;
}

export interface Config {
  readonly inboundListen: HostPort;
  readonly inboundForward: HostPort;
  readonly outboundListen: HostPort;
  readonly outboundUpstreams: readonly UpstreamMapping[];
  readonly adminListen: HostPort;
  readonly opaquePorts: PortSet;
  readonly detectTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly tcpIdleTimeoutMs: number; // 0 = off
  readonly splicePipeBytes: number;
  readonly shutdownGracePeriodMs: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly httpHeadReadTimeoutMs: number;
  readonly httpClientIdleTimeoutMs: number;
  readonly httpPoolIdleTimeoutMs: number;
  readonly httpMaxConnectionsPerEndpoint: number;
  readonly httpQueueCapacity: number;
  readonly httpFailfastTimeoutMs: number;
  readonly configDir: string;
  readonly inboundProfile: string; // "" = choose by the request's authority
  readonly externalProfiles: boolean;
  readonly clusterDomain: string;
  readonly skipInboundPorts: readonly PortRange[];
  readonly skipOutboundPorts: readonly PortRange[];
  readonly skipSubnets: readonly Cidr[];
  readonly proxyUid: number;
}

interface Setting<K extends keyof Config> {
  readonly name: string;
  readonly field: K;
  readonly defaultText: string;
  readonly meaning: string;
  readonly parse: (text: string) => Config[K];
}

function setting<K extends keyof Config>(s: Setting<K>): Setting<K> {
  return s;
}

function parseUpstreams(text: string): readonly UpstreamMapping[] {
  const mappings: UpstreamMapping[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const eq = item.indexOf("=");
    if (eq < 0) throw new ValueError(`LISTEN=DEST pairs, e.g. 127.0.0.1:16379=redis.internal:6379 (got ${JSON.stringify(item)})`);
    mappings.push({ listen: parseListenAddress(item.slice(0, eq)), destination: parseDestination(item.slice(eq + 1)) });
  }
  return mappings;
}

export const SETTINGS = [
  setting({ name: "MESHLET_INBOUND_LISTEN", field: "inboundListen", defaultText: "0.0.0.0:4143", meaning: "Inbound listener (traffic to the local app)", parse: parseListenAddress }),
  setting({ name: "MESHLET_INBOUND_FORWARD", field: "inboundForward", defaultText: "127.0.0.1:8080", meaning: "Where inbound connections go when they carry no original destination (the local app); host may be a DNS name", parse: parseDestination }),
  setting({ name: "MESHLET_OUTBOUND_LISTEN", field: "outboundListen", defaultText: "127.0.0.1:4140", meaning: "Outbound listener (traffic from the local app); connections go to their original destination", parse: parseListenAddress }),
  setting({ name: "MESHLET_OUTBOUND_UPSTREAMS", field: "outboundUpstreams", defaultText: "", meaning: "Extra outbound listeners for apps not redirected by iptables: comma-separated LISTEN=DEST pairs, e.g. `127.0.0.1:16379=redis.internal:6379`; DEST may be a DNS name", parse: parseUpstreams }),
  setting({ name: "MESHLET_ADMIN_LISTEN", field: "adminListen", defaultText: "127.0.0.1:4191", meaning: "Admin server: /metrics, /ready, /live", parse: parseListenAddress }),
  setting({ name: "MESHLET_OPAQUE_PORTS", field: "opaquePorts", defaultText: "25,587,3306,4444,5432,6379,9300,11211", meaning: "Destination ports that skip protocol detection and are spliced as TCP; ranges like 8000-8010 allowed", parse: parsePortSet }),
  setting({ name: "MESHLET_DETECT_TIMEOUT", field: "detectTimeoutMs", defaultText: "10s", meaning: "How long a client may stay silent before its connection is forwarded as TCP (server-speaks-first protocols)", parse: parseDurationMs }),
  setting({ name: "MESHLET_CONNECT_TIMEOUT", field: "connectTimeoutMs", defaultText: "1s", meaning: "Upstream connect timeout", parse: parseDurationMs }),
  setting({ name: "MESHLET_TCP_IDLE_TIMEOUT", field: "tcpIdleTimeoutMs", defaultText: "off", meaning: "Close TCP/opaque connections idle for this long; `off` keeps them", parse: parseOptionalDurationMs }),
  setting({ name: "MESHLET_SPLICE_PIPE_SIZE", field: "splicePipeBytes", defaultText: "256KiB", meaning: "Kernel pipe per direction of a spliced connection, opened only once it carries bulk data; larger moves more per wake-up, but counts against fs.pipe-user-pages-soft (see bench/RESULTS.md)", parse: parseByteSize(4096, 16 * 1024 * 1024) }),
  setting({ name: "MESHLET_SHUTDOWN_GRACE_PERIOD", field: "shutdownGracePeriodMs", defaultText: "30s", meaning: "After SIGTERM: how long open connections may finish before they are closed", parse: parseDurationMs }),
  setting({ name: "MESHLET_LOG_LEVEL", field: "logLevel", defaultText: "info", meaning: "error, warn, info, debug, trace or off", parse: parseEnum<LogLevel>(["error", "warn", "info", "debug", "trace", "off"]) }),
  setting({ name: "MESHLET_LOG_FORMAT", field: "logFormat", defaultText: "plain", meaning: "plain or json (one object per line)", parse: parseEnum<LogFormat>(["plain", "json"]) }),
  setting({ name: "MESHLET_HTTP_HEAD_READ_TIMEOUT", field: "httpHeadReadTimeoutMs", defaultText: "10s", meaning: "Time a client has to send a whole request head (slowloris defence); expiry answers 408 and closes", parse: parseDurationMs }),
  setting({ name: "MESHLET_HTTP_CLIENT_IDLE_TIMEOUT", field: "httpClientIdleTimeoutMs", defaultText: "60s", meaning: "Keep-alive client connections idle this long between requests are closed", parse: parseDurationMs }),
  setting({ name: "MESHLET_HTTP_POOL_IDLE_TIMEOUT", field: "httpPoolIdleTimeoutMs", defaultText: "3s", meaning: "Pooled upstream HTTP/1 connections idle this long are closed (Linkerd's HTTP1_CONNECTION_POOL_IDLE_TIMEOUT)", parse: parseDurationMs }),
  setting({ name: "MESHLET_HTTP_MAX_CONNECTIONS_PER_ENDPOINT", field: "httpMaxConnectionsPerEndpoint", defaultText: "10000", meaning: "Upstream HTTP/1 connections per endpoint; requests beyond it queue", parse: parsePositiveInteger(1_000_000) }),
  setting({ name: "MESHLET_HTTP_QUEUE_CAPACITY", field: "httpQueueCapacity", defaultText: "10000", meaning: "Requests that may queue per endpoint at the connection cap; beyond it they are shed with 503", parse: parsePositiveInteger(1_000_000) }),
  setting({ name: "MESHLET_HTTP_FAILFAST_TIMEOUT", field: "httpFailfastTimeoutMs", defaultText: "3s", meaning: "A request queued this long for an upstream connection fails with 504", parse: parseDurationMs }),
  setting({ name: "MESHLET_CONFIG_DIR", field: "configDir", defaultText: "./meshlet.d", meaning: "Directory of Linkerd YAML resources (ServiceProfile, ...), several documents per file; may be absent; hot-reloaded", parse: parseString }),
  setting({ name: "MESHLET_INBOUND_PROFILE", field: "inboundProfile", defaultText: "", meaning: "ServiceProfile (metadata.name) that inbound requests use whatever their authority; empty: chosen by authority", parse: parseString }),
  setting({ name: "MESHLET_EXTERNAL_PROFILES", field: "externalProfiles", defaultText: "false", meaning: "Let profiles apply to destinations outside the cluster domain (Linkerd's enable-external-profiles)", parse: parseBoolean }),
  setting({ name: "MESHLET_CLUSTER_DOMAIN", field: "clusterDomain", defaultText: "cluster.local", meaning: "Cluster domain: profiles apply to `*.svc.<domain>` names unless external profiles are on", parse: parseDnsName }),
  setting({ name: "MESHLET_SKIP_INBOUND_PORTS", field: "skipInboundPorts", defaultText: "4567,4568", meaning: "`meshlet init-iptables`: inbound destination ports not redirected to meshlet (the admin port and 4190 always are not); ranges like 8000-8010 allowed", parse: parsePortRanges }),
  setting({ name: "MESHLET_SKIP_OUTBOUND_PORTS", field: "skipOutboundPorts", defaultText: "4567,4568", meaning: "`meshlet init-iptables`: outbound destination ports not redirected to meshlet; ranges allowed", parse: parsePortRanges }),
  setting({ name: "MESHLET_SKIP_SUBNETS", field: "skipSubnets", defaultText: "", meaning: "`meshlet init-iptables`: CIDRs whose inbound connections (matched on source, as Linkerd's skip-subnets) are not redirected", parse: parseCidrs }),
  setting({ name: "MESHLET_PROXY_UID", field: "proxyUid", defaultText: "2102", meaning: "`meshlet init-iptables`: the uid meshlet runs as; its own connections are never redirected (no loop)", parse: parsePositiveInteger(2 ** 31 - 2) }),
] as const;

export interface ConfigProblem {
  readonly name: string;
  readonly value: string;
  readonly expected: string;
}

export class ConfigError extends Error {
  readonly code = "MESHLET_ERR_CONFIG";
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `invalid environment (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  ${p.name}=${JSON.stringify(p.value)}: expected ${p.expected}`).join("\n"),
    );
  }
}

/** The environment as a plain string map (tests pass literals; main passes process.env). */
export type Strings = Readonly<Record<string, string | undefined>>;

const KNOWN_NAMES: ReadonlySet<string> = new Set(SETTINGS.map((s) => s.name));

/** Parses every MESHLET_* variable; unknown MESHLET_* names are errors (a typo in a sidecar is a silent outage). */
export function parseConfig(env: Strings): Config {
  const problems: ConfigProblem[] = [];
  const config: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const given = env[s.name];
    const text = given ?? s.defaultText;
    try {
      config[s.field] = s.parse(text);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      problems.push({ name: s.name, value: text, expected: err.expected });
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith("MESHLET_") && !KNOWN_NAMES.has(name)) {
      const hint = closestName(name);
      problems.push({ name, value: env[name] ?? "", expected: `a known setting${hint ? ` (did you mean ${hint}?)` : ""}; see README` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config) as unknown as Config;
}

function closestName(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const known of KNOWN_NAMES) {
    const d = editDistance(name, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The README configuration table, generated from SETTINGS. */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map((s) => `| \`${s.name}\` | ${s.defaultText === "" ? "(empty)" : `\`${s.defaultText}\``} | ${s.meaning} |`);
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}
