// Linkerd's HTTP policy families (linkerd/app/inbound/src/metrics/authz.rs, linkerd-behavior §5.3):
// inbound_http_authz_allow_total, inbound_http_authz_deny_total, inbound_http_route_not_found_total.
// The filter bumps plain counters keyed by label set; prom-client renders them at scrape.
import { type InboundTlsLabels, inboundTlsKey } from "../metrics/http.ts";
import { Counter, type Registry } from "../metrics/prom-client.ts";
import type { PolicyMeta } from "./authorization.ts";

/** One label set and its count; the label object is built once, when the series first appears. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  count: number;
}

export interface TargetLabels {
  readonly target_addr: string;
  readonly target_ip: string;
  readonly target_port: string;
}

/** The connection's TLS labels as Linkerd's TlsAccept writes them (ConnInfo.tls); absent: tls="disabled". */
function tlsLabels(tls: InboundTlsLabels | undefined): Readonly<Record<string, string>> {
  return tls ?? { tls: "disabled" };
}

const meta = (prefix: string, m: PolicyMeta) => ({ [`${prefix}_group`]: m.group, [`${prefix}_kind`]: m.kind, [`${prefix}_name`]: m.name });

const TARGET = ["target_addr", "target_ip", "target_port"];
const SRV = ["srv_group", "srv_kind", "srv_name"];
const ROUTE = ["route_group", "route_kind", "route_name"];
const AUTHZ = ["authz_group", "authz_kind", "authz_name"];
const TLS = ["tls", "client_id", "no_tls_reason"];

export class HttpAuthzCounters {
  private readonly allow = new Map<string, Series>();
  private readonly deny = new Map<string, Series>();
  private readonly notFound = new Map<string, Series>();

  /** Counts one allowed request; returns its series, which a caller may bump again for the same label set. */
  recordAllow(target: TargetLabels, server: PolicyMeta, route: PolicyMeta, authz: PolicyMeta, tls: InboundTlsLabels | undefined): Series {
    const key = `${target.target_addr}\0${server.kind}\0${server.name}\0${route.group}\0${route.kind}\0${route.name}\0${authz.kind}\0${authz.name}\0${inboundTlsKey(tls)}`;
    return bump(this.allow, key, () => ({ ...target, ...meta("srv", server), ...meta("route", route), ...meta("authz", authz), ...tlsLabels(tls) }));
  }

  recordDeny(target: TargetLabels, server: PolicyMeta, route: PolicyMeta, tls: InboundTlsLabels | undefined): void {
    const key = `${target.target_addr}\0${server.kind}\0${server.name}\0${route.group}\0${route.kind}\0${route.name}\0${inboundTlsKey(tls)}`;
    bump(this.deny, key, () => ({ ...target, ...meta("srv", server), ...meta("route", route), ...tlsLabels(tls) }));
  }

  recordRouteNotFound(target: TargetLabels, server: PolicyMeta, tls: InboundTlsLabels | undefined): void {
    const key = `${target.target_addr}\0${server.kind}\0${server.name}\0${inboundTlsKey(tls)}`;
    bump(this.notFound, key, () => ({ ...target, ...meta("srv", server), ...tlsLabels(tls) }));
  }

  /** Registers the three families on `registry`, each rendered from these counters at scrape. */
  register(registry: Registry): void {
    const family = (name: string, help: string, labelNames: readonly string[], series: Map<string, Series>) =>
      new Counter({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          for (const s of series.values()) this.inc(s.labels, s.count);
        },
      });
    family("inbound_http_authz_allow_total", "The total number of inbound HTTP requests that were authorized", [...TARGET, ...SRV, ...ROUTE, ...AUTHZ, ...TLS], this.allow);
    family("inbound_http_authz_deny_total", "The total number of inbound HTTP requests that could not be processed due to a proxy error", [...TARGET, ...SRV, ...ROUTE, ...TLS], this.deny);
    family("inbound_http_route_not_found_total", "The total number of inbound HTTP requests that could not be associated with a route", [...TARGET, ...SRV, ...TLS], this.notFound);
  }
}

function bump(map: Map<string, Series>, key: string, labels: () => Record<string, string>): Series {
  let s = map.get(key);
  if (s !== undefined) s.count++;
  else map.set(key, (s = { labels: labels(), count: 1 }));
  return s;
}

/** The process's counters (registered on the shared registry by src/authz/inbound-policy-runtime.ts). */
export const inboundHttpAuthz = new HttpAuthzCounters();
