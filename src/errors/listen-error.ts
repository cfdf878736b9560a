// A listener (proxy, admin, tap) that cannot bind its address: the one error every server start reports,
// turned into exit code EXIT_CANNOT_LISTEN by main.ts.
import { type HostPort, formatHostPort } from "../config/values.ts";

export class ListenError extends Error {
  readonly code = "MESHLET_ERR_LISTEN";
  constructor(
    readonly listenerName: string,
    readonly address: HostPort,
    readonly errnoName: string,
  ) {
    super(`cannot listen for ${listenerName} on ${formatHostPort(address)}: ${errnoName}`);
  }
}
