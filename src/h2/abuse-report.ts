// What the engine does when a session ended a connection for abuse (abuse-limits.ts): count it in
// meshlet_http2_abuse_goaway_total and log one warning (a session fails once, so once per connection).
import type { Logger } from "../log/logger.ts";
import type { Direction } from "../rt/direction.ts";
import { countAbuseGoaway } from "./abuse-metrics.ts";
import type { H2Error } from "./errors.ts";

/** `peer`: the client or the upstream the connection goes to; `addr` its address. No-op for other errors. */
export function reportAbuse(err: H2Error, direction: Direction, peer: "client" | "upstream", addr: string, logger: Logger): void {
  if (err.abuse === undefined) return;
  countAbuseGoaway(direction, err.abuse);
  logger.warn("HTTP/2 connection closed with GOAWAY(ENHANCE_YOUR_CALM)", { peer, addr, kind: err.abuse, reason: err.reason });
}
