// The tap server on MESHLET_TAP_LISTEN: a WebSocket at /tap (obs-contract §2), served only to loopback
// clients (Linkerd serves tap only to loopback or the tap identity; others get 403 before the upgrade).
// The first text message subscribes; events flow as binary MessagePack frames until the client leaves or
// the subscription's limit is reached. No Origin check: the admin port's dashboard connects cross-origin.
import type { Server } from "bun";
import { type HostPort, isLoopbackIp } from "../config/values.ts";
import { ListenError } from "../errors/listen-error.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import { TapEventEncoder } from "./event-encoder.ts";
import { CLOSE_INVALID_SUBSCRIPTION, TAP_PATH } from "./events.ts";
import { SUBSCRIBER_BUFFER_LIMIT_BYTES, type TapHub, type TapSubscriber } from "./hub.ts";
import { TapSubscriptionError, parseSubscription } from "./subscription.ts";

/** A subscription is a few hundred bytes; anything much larger is not one. */
const MAX_SUBSCRIPTION_BYTES = 16 * 1024;

export interface TapServerOptions {
  readonly listen: HostPort;
  readonly hub: TapHub;
  readonly logger?: Logger;
}

interface TapConnection {
  readonly peer: string;
  /** "new" until the first message; then the subscriber (or "refused"). */
  state: "new" | "refused" | TapSubscriber;
}

/** Starts serving; a port that cannot be bound is a ListenError, like the proxy listeners'. */
export function startTapServer(options: TapServerOptions): Server<TapConnection> {
  try {
    return serve(options);
  } catch (err) {
    throw new ListenError("tap", options.listen, (err as { code?: string }).code ?? "EINVAL");
  }
}

function serve({ listen, hub, logger = silentLogger }: TapServerOptions): Server<TapConnection> {
  return Bun.serve<TapConnection>({
    hostname: listen.host,
    port: listen.port,
    fetch(request, server) {
      if (new URL(request.url).pathname !== TAP_PATH) return new Response(null, { status: 404 });
      const peer = server.requestIP(request)?.address ?? "";
      if (!isLoopbackIp(peer)) {
        logger.warn("tap refused: not from loopback", { peer });
        return text(403, "tap is served only to loopback clients\n");
      }
      if (server.upgrade(request, { data: { peer, state: "new" } })) return undefined;
      return new Response("/tap is a WebSocket endpoint\n", { status: 426, headers: { upgrade: "websocket", "content-type": "text/plain" } });
    },
    websocket: {
      maxPayloadLength: MAX_SUBSCRIPTION_BYTES,
      // Past the hub's own bound Bun refuses frames outright (send returns 0): a second fence.
      backpressureLimit: 2 * SUBSCRIBER_BUFFER_LIMIT_BYTES,
      closeOnBackpressureLimit: false,
      perMessageDeflate: false,
      message(ws, message) {
        const conn = ws.data;
        if (conn.state !== "new") return; // one subscription per connection; later messages are ignored
        try {
          if (typeof message !== "string") throw new TapSubscriptionError("MESHLET_ERR_TAP_NOT_JSON", "the subscription must be a text frame with a JSON object");
          const filter = parseSubscription(message);
          conn.state = hub.subscribe(ws, filter);
          logger.info("tap subscriber", { peer: conn.peer, subscribers: hub.subscriberCount });
        } catch (err) {
          if (!(err instanceof TapSubscriptionError)) throw err;
          conn.state = "refused";
          logger.info("tap subscription refused", { peer: conn.peer, code: err.code, reason: err.message });
          const error = new TapEventEncoder(256);
          error.encode({ type: "error", code: err.code, message: err.message });
          ws.sendBinary(error.bytes.subarray(0, error.length));
          ws.close(CLOSE_INVALID_SUBSCRIPTION, err.code);
        }
      },
      drain(ws) {
        const state = ws.data.state;
        if (typeof state === "object") hub.drained(state);
      },
      close(ws) {
        const conn = ws.data;
        if (typeof conn.state === "object") hub.unsubscribe(conn.state);
      },
    },
  });
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain" } });
}

