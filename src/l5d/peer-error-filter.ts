// Outbound rule for a peer proxy's error headers (linkerd-behavior §4.2): `l5d-proxy-error` and
// `l5d-proxy-connection` are stripped from upstream responses and logged, and `l5d-proxy-connection:
// close` closes the application's connection after the response, as the peer asked.
import { type HttpFilter } from "../http/filter.ts";
import { K_L5D_PROXY_CONNECTION, K_L5D_PROXY_ERROR, kindBit } from "../http/head-parser.ts";
import type { Logger } from "../log/logger.ts";

const PROXY_ERROR = kindBit(K_L5D_PROXY_ERROR);
const PROXY_CONNECTION = kindBit(K_L5D_PROXY_CONNECTION);

export function peerErrorFilter(logger: Logger): HttpFilter<undefined> {
  return {
    name: "l5d-peer-errors",
    onResponseHead(ctx, _state, res) {
      const present = res.kindMask & (PROXY_ERROR | PROXY_CONNECTION);
      if (present === 0) return false;
      const error = (present & PROXY_ERROR) !== 0 ? res.header("l5d-proxy-error") : undefined;
      const connection = (present & PROXY_CONNECTION) !== 0 ? res.header("l5d-proxy-connection") : undefined;
      if (error !== undefined) ctx.dropResponseHeader("l5d-proxy-error");
      if (connection !== undefined) {
        ctx.dropResponseHeader("l5d-proxy-connection");
        if (connection.trim().toLowerCase() === "close") ctx.closeClientAfterResponse();
      }
      logger.debug("peer proxy error", { authority: ctx.authority, status: res.status, error, connection });
      return false;
    },
  };
}
