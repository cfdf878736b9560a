// The MESHLET_* environment variables: each name sits beside its default, meaning and parser, and
// parseConfig() turns an environment into one frozen, typed Config, reporting every problem at once.
// README's configuration table is generated from SETTINGS (`meshlet env --markdown`) and checked by a test.
import { DEFAULT_POLICIES, type DefaultPolicyName } from "./default-policies.ts";
import { type Cidr, parseCidrs } from "./cidr.ts";
import { type PortRange, parseLabelMap, parsePortRanges } from "./values.ts";
import {
  type HostPort,
  type PortSet,
  ValueError,
  parseDestination,
  parseDurationMs,
  parseEnum,
  parseListenAddress,
  parseOptionalListenAddress,
  parseBoolean,
  parseByteSize,
  parseDnsLabel,
  parseDnsName,
  parseOptionalDurationMs,
  parsePortSet,
  parsePositiveInteger,
  parseString,
} from "./values.ts";
import { closestName } from "./closest-name.ts";
import { type LogDirective, parseLogDirective } from "../log/log-directive.ts";

export type { LogLevel } from "../log/log-directive.ts";
export type LogFormat = "plain" | "json";
/** MESHLET_ACCESS_LOG: Linkerd's access log formats, or off. */
export type AccessLogFormat = "off" | "apache" | "json";

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
  readonly tapListen: HostPort | null; // null = off
  readonly opaquePorts: PortSet;
  readonly detectTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly tcpIdleTimeoutMs: number; // 0 = off
  readonly inboundAcceptKeepaliveMs: number; // 0 = off
  readonly inboundConnectKeepaliveMs: number; // 0 = off
  readonly outboundAcceptKeepaliveMs: number; // 0 = off
  readonly outboundConnectKeepaliveMs: number; // 0 = off
  readonly tcpUserTimeoutMs: number; // 0 = the kernel's default
  readonly splicePipeBytes: number;
  readonly shutdownGracePeriodMs: number;
  readonly logLevel: LogDirective;
  readonly logFormat: LogFormat;
  readonly accessLog: AccessLogFormat;
  readonly httpHeadReadTimeoutMs: number;
  readonly httpClientIdleTimeoutMs: number;
  readonly httpPoolIdleTimeoutMs: number;
  readonly httpMaxConnectionsPerEndpoint: number;
  readonly httpQueueCapacity: number;
  readonly httpFailfastTimeoutMs: number;
  readonly http2KeepaliveIntervalMs: number; // 0 = off
  readonly http2KeepaliveTimeoutMs: number; // 0 = off
  readonly configDir: string;
  readonly namespace: string;
  readonly inboundProfile: string; // "" = choose by the request's authority
  readonly externalProfiles: boolean;
  readonly clusterDomain: string;
  readonly metricsRetainIdleMs: number;
  readonly metricsMaxSeriesPerFamily: number;
  readonly skipInboundPorts: readonly PortRange[];
  readonly skipOutboundPorts: readonly PortRange[];
  readonly skipSubnets: readonly Cidr[];
  readonly proxyUid: number;
  readonly defaultInboundPolicy: DefaultPolicyName;
  readonly clusterNetworks: readonly Cidr[];
  readonly podLabels: Readonly<Record<string, string>>;
  readonly identityTrustAnchorsPath: string; // "" = no identity
  readonly identityCertPath: string;
  readonly identityKeyPath: string;
}

interface Setting<K extends keyof Config> {
  readonly name: string;
  readonly field: K;
  readonly defaultText: string;
  readonly meaning: string;
  readonly parse: (text: string) => Config[K];
  /** Holds a credential: `meshlet env` and the admin /config.json show it redacted (see effective.ts).
   *  Absent: decided by the name; false: never redacted (a file path named like a credential). */
  readonly secret?: boolean;
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

/** Linux's largest TCP_KEEPIDLE, in ms (the kernel takes whole seconds; durations are rounded up). */
const MAX_KEEPALIVE_MS = 32_767_000;

function parseKeepaliveMs(text: string): number {
  const ms = parseOptionalDurationMs(text);
  if (ms > MAX_KEEPALIVE_MS) throw new ValueError("a keepalive of at most 32767s (Linux's TCP_KEEPIDLE limit), or off");
  return ms;
}

export const SETTINGS = [
  setting({ name: "MESHLET_INBOUND_LISTEN", field: "inboundListen", defaultText: "0.0.0.0:4143", meaning: "Inbound listener (traffic to the local app)", parse: parseListenAddress }),
  setting({ name: "MESHLET_INBOUND_FORWARD", field: "inboundForward", defaultText: "127.0.0.1:8080", meaning: "Where inbound connections go when they carry no original destination (the local app); host may be a DNS name", parse: parseDestination }),
  setting({ name: "MESHLET_OUTBOUND_LISTEN", field: "outboundListen", defaultText: "127.0.0.1:4140", meaning: "Outbound listener (traffic from the local app); connections go to their original destination", parse: parseListenAddress }),
  setting({ name: "MESHLET_OUTBOUND_UPSTREAMS", field: "outboundUpstreams", defaultText: "", meaning: "Extra outbound listeners for apps not redirected by iptables: comma-separated LISTEN=DEST pairs, e.g. `127.0.0.1:16379=redis.internal:6379`; DEST may be a DNS name", parse: parseUpstreams }),
  setting({ name: "MESHLET_ADMIN_LISTEN", field: "adminListen", defaultText: "127.0.0.1:4191", meaning: "Admin server: the dashboard at /, /metrics, /ready, /live, /stats.json, /config.json, /pools.json, /env.json, /proxy-log-level, /shutdown", parse: parseListenAddress }),
  setting({ name: "MESHLET_TAP_LISTEN", field: "tapListen", defaultText: "127.0.0.1:4190", meaning: "Tap server: a WebSocket at /tap streaming live request events to `meshlet tap` / `meshlet top` and the dashboard, loopback clients only; `off` disables it", parse: parseOptionalListenAddress }),
  setting({ name: "MESHLET_OPAQUE_PORTS", field: "opaquePorts", defaultText: "25,587,3306,4444,5432,6379,9300,11211", meaning: "Destination ports that skip protocol detection and are spliced as TCP; ranges like 8000-8010 allowed", parse: parsePortSet }),
  setting({ name: "MESHLET_DETECT_TIMEOUT", field: "detectTimeoutMs", defaultText: "10s", meaning: "How long a client may stay silent before its connection is forwarded as TCP (server-speaks-first protocols)", parse: parseDurationMs }),
  setting({ name: "MESHLET_CONNECT_TIMEOUT", field: "connectTimeoutMs", defaultText: "1s", meaning: "Upstream connect timeout", parse: parseDurationMs }),
  setting({ name: "MESHLET_TCP_IDLE_TIMEOUT", field: "tcpIdleTimeoutMs", defaultText: "off", meaning: "Close TCP/opaque connections idle for this long; `off` keeps them", parse: parseOptionalDurationMs }),
  setting({ name: "MESHLET_INBOUND_ACCEPT_KEEPALIVE", field: "inboundAcceptKeepaliveMs", defaultText: "10s", meaning: "TCP keepalive on accepted inbound connections: idle time before the first probe and between probes (whole seconds); `off` disables. With MESHLET_TCP_USER_TIMEOUT it releases a client that vanished without FIN or RST", parse: parseKeepaliveMs }),
  setting({ name: "MESHLET_INBOUND_CONNECT_KEEPALIVE", field: "inboundConnectKeepaliveMs", defaultText: "off", meaning: "TCP keepalive on connections to the local app (as MESHLET_INBOUND_ACCEPT_KEEPALIVE)", parse: parseKeepaliveMs }),
  setting({ name: "MESHLET_OUTBOUND_ACCEPT_KEEPALIVE", field: "outboundAcceptKeepaliveMs", defaultText: "off", meaning: "TCP keepalive on connections accepted from the local app (as MESHLET_INBOUND_ACCEPT_KEEPALIVE)", parse: parseKeepaliveMs }),
  setting({ name: "MESHLET_OUTBOUND_CONNECT_KEEPALIVE", field: "outboundConnectKeepaliveMs", defaultText: "10s", meaning: "TCP keepalive on outbound upstream connections, spliced and HTTP (as MESHLET_INBOUND_ACCEPT_KEEPALIVE)", parse: parseKeepaliveMs }),
  setting({ name: "MESHLET_TCP_USER_TIMEOUT", field: "tcpUserTimeoutMs", defaultText: "30s", meaning: "TCP_USER_TIMEOUT on every accepted and upstream connection: sent data or keepalive probes unacknowledged this long drop the connection; `off` keeps the kernel's ~15 min", parse: parseOptionalDurationMs }),
  setting({ name: "MESHLET_SPLICE_PIPE_SIZE", field: "splicePipeBytes", defaultText: "256KiB", meaning: "Kernel pipe per direction of a spliced connection, opened only once it carries bulk data; larger moves more per wake-up, but counts against fs.pipe-user-pages-soft (see bench/RESULTS.md)", parse: parseByteSize(4096, 16 * 1024 * 1024) }),
  setting({ name: "MESHLET_SHUTDOWN_GRACE_PERIOD", field: "shutdownGracePeriodMs", defaultText: "30s", meaning: "After SIGTERM: how long open connections may finish before they are closed", parse: parseDurationMs }),
  setting({ name: "MESHLET_LOG_LEVEL", field: "logLevel", defaultText: "info", meaning: "A level (error, warn, info, debug, trace or off) and/or comma-separated `scope=level` items for the scopes proxy, inbound, outbound, admin, resources, native, e.g. `warn,inbound=debug` (as Linkerd's EnvFilter: with no bare level, unnamed scopes are off); changeable at run time with PUT /proxy-log-level", parse: parseLogDirective }),
  setting({ name: "MESHLET_LOG_FORMAT", field: "logFormat", defaultText: "plain", meaning: "plain or json (one object per line)", parse: parseEnum<LogFormat>(["plain", "json"]) }),
  setting({ name: "MESHLET_ACCESS_LOG", field: "accessLog", defaultText: "off", meaning: "Access log of inbound HTTP requests on stderr, one line per request: off, apache or json (Linkerd's LINKERD2_PROXY_ACCESS_LOG); lines the stderr reader cannot keep up with are dropped and counted in meshlet_access_log_dropped_lines_total", parse: parseEnum<AccessLogFormat>(["off", "apache", "json"]) }),
  setting({ name: "MESHLET_HTTP_HEAD_READ_TIMEOUT", field: "httpHeadReadTimeoutMs", defaultText: "10s", meaning: "Time a client has to send a whole request head (slowloris defence); expiry answers 408 and closes", parse: parseDurationMs }),
  setting({ name: "MESHLET_HTTP_CLIENT_IDLE_TIMEOUT", field: "httpClientIdleTimeoutMs", defaultText: "60s", meaning: "Keep-alive client connections idle this long between requests are closed", parse: parseDurationMs }),
  setting({ name: "MESHLET_HTTP_POOL_IDLE_TIMEOUT", field: "httpPoolIdleTimeoutMs", defaultText: "3s", meaning: "Pooled upstream HTTP/1 connections idle this long are closed (Linkerd's HTTP1_CONNECTION_POOL_IDLE_TIMEOUT)", parse: parseDurationMs }),
  setting({ name: "MESHLET_HTTP_MAX_CONNECTIONS_PER_ENDPOINT", field: "httpMaxConnectionsPerEndpoint", defaultText: "10000", meaning: "Upstream HTTP/1 connections per endpoint; requests beyond it queue", parse: parsePositiveInteger(1_000_000) }),
  setting({ name: "MESHLET_HTTP_QUEUE_CAPACITY", field: "httpQueueCapacity", defaultText: "10000", meaning: "Requests that may queue per endpoint at the connection cap; beyond it they are shed with 503", parse: parsePositiveInteger(1_000_000) }),
  setting({ name: "MESHLET_HTTP_FAILFAST_TIMEOUT", field: "httpFailfastTimeoutMs", defaultText: "3s", meaning: "A request queued this long for an upstream connection fails with 504", parse: parseDurationMs }),
  setting({ name: "MESHLET_HTTP2_KEEPALIVE_INTERVAL", field: "http2KeepaliveIntervalMs", defaultText: "10s", meaning: "HTTP/2 client and upstream connections that read nothing for this long get a PING (Linkerd's Helm default for its h2 server and client keep-alive); `off` or 0 disables, as does a 0 timeout", parse: parseOptionalDurationMs }),
  setting({ name: "MESHLET_HTTP2_KEEPALIVE_TIMEOUT", field: "http2KeepaliveTimeoutMs", defaultText: "3s", meaning: "A keep-alive PING not acknowledged within this long closes the HTTP/2 connection; its streams fail as proxy errors (upstream: 502 / gRPC UNAVAILABLE); `off` or 0 disables keep-alive", parse: parseOptionalDurationMs }),
  setting({ name: "MESHLET_CONFIG_DIR", field: "configDir", defaultText: "./meshlet.d", meaning: "Directory of Linkerd YAML resources (ServiceProfile, ...), several documents per file; may be absent; hot-reloaded", parse: parseString }),
  setting({ name: "MESHLET_NAMESPACE", field: "namespace", defaultText: "default", meaning: "Kubernetes namespace of the workload meshlet serves (Linkerd's context token): a ServiceProfile in it overrides the service's own; resources in other namespaces apply only as Linkerd's would", parse: parseDnsLabel }),
  setting({ name: "MESHLET_INBOUND_PROFILE", field: "inboundProfile", defaultText: "", meaning: "ServiceProfile (metadata.name) that inbound requests use whatever their authority; empty: chosen by authority", parse: parseString }),
  setting({ name: "MESHLET_EXTERNAL_PROFILES", field: "externalProfiles", defaultText: "false", meaning: "Let profiles apply to destinations outside the cluster domain (Linkerd's enable-external-profiles)", parse: parseBoolean }),
  setting({ name: "MESHLET_CLUSTER_DOMAIN", field: "clusterDomain", defaultText: "cluster.local", meaning: "Cluster domain: profiles apply to `*.svc.<domain>` names unless external profiles are on; EndpointSlice authorities are `<service>.<ns>.svc.<domain>`", parse: parseDnsName }),
  setting({ name: "MESHLET_DEFAULT_INBOUND_POLICY", field: "defaultInboundPolicy", defaultText: "all-unauthenticated", meaning: "Authorization for inbound ports no Server selects (Linkerd's default-inbound-policy): all-unauthenticated, all-authenticated, cluster-authenticated, cluster-unauthenticated, deny, audit", parse: parseEnum(DEFAULT_POLICIES) }),
  setting({ name: "MESHLET_CLUSTER_NETWORKS", field: "clusterNetworks", defaultText: "10.0.0.0/8,100.64.0.0/10,172.16.0.0/12,192.168.0.0/16,fd00::/8", meaning: "Client networks the cluster-* policies allow (Linkerd's clusterNetworks)", parse: parseCidrs }),
  setting({ name: "MESHLET_POD_LABELS", field: "podLabels", defaultText: "", meaning: "Labels of the pod meshlet serves (`k=v,...`): a Server's podSelector and a ServerAuthorization's selector match against them", parse: parseLabelMap }),
  setting({ name: "MESHLET_METRICS_RETAIN_IDLE", field: "metricsRetainIdleMs", defaultText: "10m", meaning: "A metric series (HTTP endpoint or route label set) not updated for this long is dropped at the next scrape and its memory released (Linkerd's LINKERD2_PROXY_METRICS_RETAIN_IDLE)", parse: parseDurationMs }),
  setting({ name: "MESHLET_METRICS_MAX_SERIES_PER_FAMILY", field: "metricsMaxSeriesPerFamily", defaultText: "1000", meaning: "Label sets per HTTP metric family and direction; new ones beyond it are folded into one `overflow` series and counted in meshlet_metrics_series_overflow_total", parse: parsePositiveInteger(1_000_000) }),
  setting({ name: "MESHLET_SKIP_INBOUND_PORTS", field: "skipInboundPorts", defaultText: "4567,4568", meaning: "`meshlet init-iptables`: inbound destination ports not redirected to meshlet (the admin port and 4190 always are not); ranges like 8000-8010 allowed", parse: parsePortRanges }),
  setting({ name: "MESHLET_SKIP_OUTBOUND_PORTS", field: "skipOutboundPorts", defaultText: "4567,4568", meaning: "`meshlet init-iptables`: outbound destination ports not redirected to meshlet; ranges allowed", parse: parsePortRanges }),
  setting({ name: "MESHLET_SKIP_SUBNETS", field: "skipSubnets", defaultText: "", meaning: "`meshlet init-iptables`: CIDRs whose inbound connections (matched on source, as Linkerd's skip-subnets) are not redirected", parse: parseCidrs }),
  setting({ name: "MESHLET_IDENTITY_TRUST_ANCHORS", field: "identityTrustAnchorsPath", defaultText: "", meaning: "Workload identity (mTLS): PEM file of the trust anchors (ca.crt) certificates must chain to. The three MESHLET_IDENTITY_* files are set together or not at all (empty: no identity); validated at start (exit 64 with the reason) and reloaded when they change", parse: parseString }),
  setting({ name: "MESHLET_IDENTITY_CERT", field: "identityCertPath", defaultText: "", meaning: "PEM file of this workload's certificate followed by its issuer chain (tls.crt); its first DNS SAN is the identity. /ready fails once it has expired", parse: parseString }),
  setting({ name: "MESHLET_IDENTITY_KEY", field: "identityKeyPath", defaultText: "", meaning: "PEM file of the certificate's private key (tls.key, PKCS#8); the path is shown in /env.json, never the key", parse: parseString, secret: false }),
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

/** Settings that only work together: when some are set, each one left empty is a problem. */
const SET_TOGETHER: readonly (readonly string[])[] = [["MESHLET_IDENTITY_TRUST_ANCHORS", "MESHLET_IDENTITY_CERT", "MESHLET_IDENTITY_KEY"]];

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
  for (const group of SET_TOGETHER) {
    const set = group.filter((name) => (env[name] ?? "").trim() !== "");
    if (set.length === 0 || set.length === group.length) continue;
    for (const name of group) {
      if (!set.includes(name)) problems.push({ name, value: env[name] ?? "", expected: `a value too: ${set.join(" and ")} ${set.length === 1 ? "is" : "are"} set, and ${group.join(", ")} go together (all or none)` });
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith("MESHLET_") && !KNOWN_NAMES.has(name)) {
      const hint = closestName(name, KNOWN_NAMES);
      problems.push({ name, value: env[name] ?? "", expected: `a known setting${hint ? ` (did you mean ${hint}?)` : ""}; see README` });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config) as unknown as Config;
}

/** The README configuration table, generated from SETTINGS. */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map((s) => `| \`${s.name}\` | ${s.defaultText === "" ? "(empty)" : `\`${s.defaultText}\``} | ${s.meaning} |`);
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}
