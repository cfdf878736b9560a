// The tap server on MESHLET_TAP_LISTEN: a WebSocket at /tap (obs-contract §2), served only to loopback
// clients (Linkerd serves tap only to loopback or the tap identity; others get 403 before the upgrade).
// The first text message subscribes; events flow as binary msgpackr frames until the client leaves or
// the subscription's limit is reached. No Origin check: the admin port's dashboard connects cross-origin.
import type { Server } from "bun";
import { type HostPort, isLoopbackIp } from "../config/values.ts";
import { ListenError } from "../errors/listen-error.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
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
  state: "new" | "subscribing" | "refused" | TapSubscriber;
  closed: boolean;
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
      if (server.upgrade(request, { data: { peer, state: "new", closed: false } })) return undefined;
      return new Response("/tap is a WebSocket endpoint\n", { status: 426, headers: { upgrade: "websocket", "content-type": "text/plain" } });
    },
    websocket: {
      maxPayloadLength: MAX_SUBSCRIPTION_BYTES,
      // Past the hub's own bound Bun refuses frames outright (send returns 0): a second fence.
      backpressureLimit: 2 * SUBSCRIBER_BUFFER_LIMIT_BYTES,
      closeOnBackpressureLimit: false,
      perMessageDeflate: false,
      async message(ws, message) {
        const conn = ws.data;
        if (conn.state !== "new") return; // one subscription per connection; later messages are ignored
        conn.state = "subscribing";
        try {
          if (typeof message !== "string") throw new TapSubscriptionError("MESHLET_ERR_TAP_NOT_JSON", "the subscription must be a text frame with a JSON object");
          const filter = parseSubscription(message);
          const sub = await hub.subscribe(ws, filter);
          if (conn.closed) {
            hub.unsubscribe(sub);
            return;
          }
          conn.state = sub;
          logger.info("tap subscriber", { peer: conn.peer, subscribers: hub.subscriberCount });
        } catch (err) {
          if (!(err instanceof TapSubscriptionError)) throw err;
          conn.state = "refused";
          logger.info("tap subscription refused", { peer: conn.peer, code: err.code, reason: err.message });
          const bytes = await hub.packOne({ type: "error", code: err.code, message: err.message });
          if (conn.closed) return;
          ws.sendBinary(bytes);
          ws.close(CLOSE_INVALID_SUBSCRIPTION, err.code);
        }
      },
      drain(ws) {
        const state = ws.data.state;
        if (typeof state === "object") hub.drained(state);
      },
      close(ws) {
        const conn = ws.data;
        conn.closed = true;
        if (typeof conn.state === "object") hub.unsubscribe(conn.state);
      },
    },
  });
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": "text/plain" } });
}

