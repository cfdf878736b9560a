// The "meshlet ready" log line: what an operator needs after `npm start` — version, the bound
// addresses, where inbound traffic goes, opaque ports, the config directory and how to stop.
// test/support/proxy.ts reads the bound ports from it (the port after the last ':' of each address).
import { resolve } from "node:path";

import type { Config } from "./config/env.ts";
import { formatPortSet } from "./config/values.ts";
import { formatHostPort } from "./config/values.ts";
import type { Listener } from "./l4/front-door.ts";
import { VERSION } from "./version.ts";

export interface BoundListeners {
  readonly inbound: Listener;
  readonly outbound: readonly Listener[];
  readonly adminPort: number;
}

export function readyBannerFields(config: Config, bound: BoundListeners): Record<string, string | number> {
  const address = (l: Listener) => formatHostPort({ host: l.config.bind.host, port: l.port });
  return {
    version: VERSION,
    inbound: address(bound.inbound),
    outbound: bound.outbound.map(address).join(","),
    admin: formatHostPort({ host: config.adminListen.host, port: bound.adminPort }),
    forward: formatHostPort(config.inboundForward),
    opaquePorts: formatPortSet(config.opaquePorts),
    configDir: resolve(config.configDir),
    stop: "SIGTERM or SIGINT drains, then exits",
    gracePeriodMs: config.shutdownGracePeriodMs,
  };
}
