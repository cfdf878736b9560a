// Identity certificate metrics under linkerd2-proxy's names (linkerd/identity/src/metrics.rs, registered
// under the prefixes control_identity and cert), so existing dashboards and alerts on expiry work.
import { Counter, Gauge, type Registry } from "../metrics/prom-client.ts";
import { registry as sharedRegistry } from "../metrics/registry.ts";

export interface IdentityMetrics {
  /** Unix time (s) the certificate in force expires. */
  readonly expirationTimestampSeconds: Gauge;
  /** Unix time (s) the certificate in force was installed. */
  readonly refreshTimestampSeconds: Gauge;
  /** Installs (result="ok", the first one included) and rejected changes (result="error"). */
  readonly refreshesTotal: Counter<"result">;
}

/** Registers the families on `registry` (the shared one by default). Call once per registry. */
export function registerIdentityMetrics(registry: Registry = sharedRegistry): IdentityMetrics {
  const registers = [registry];
  return {
    expirationTimestampSeconds: new Gauge({
      name: "control_identity_cert_expiration_timestamp_seconds",
      help: "Time when this proxy's current mTLS identity certificate will expire (in seconds since the UNIX epoch)",
      registers,
    }),
    refreshTimestampSeconds: new Gauge({
      name: "control_identity_cert_refresh_timestamp_seconds",
      help: "Time when this proxy's current mTLS identity certificate was last updated",
      registers,
    }),
    refreshesTotal: new Counter({
      name: "control_identity_cert_refreshes_total",
      help: "The total number of times this proxy's mTLS identity certificate has been refreshed (result=ok) or a new one refused (result=error)",
      labelNames: ["result"] as const,
      registers,
    }),
  };
}
