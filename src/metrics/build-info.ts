// `proxy_build_info`, Linkerd's build metric (linkerd/app/core/src/build_info.rs): one series with
// value 1 whose labels say which meshlet is running, so a fleet can be queried by version.
import { Gauge, type Registry } from "./prom-client.ts";
import { VERSION } from "../version.ts";
import { registry as sharedRegistry } from "./registry.ts";

export function registerBuildInfo(registry: Registry = sharedRegistry): void {
  const gauge = new Gauge({
    name: "proxy_build_info",
    help: "Proxy build info (always 1).",
    labelNames: ["version", "vendor", "profile", "runtime"] as const,
    registers: [registry],
  });
  gauge.set({ version: VERSION, vendor: "meshlet", profile: "release", runtime: `bun ${Bun.version}` }, 1);
}
