// The client side of the tap stream, for `meshlet tap` and `meshlet top`: connects to ws://ADDR/tap,
// sends the subscription, decodes each binary frame, and says how the stream ended — limit reached,
// closed, refused (with the server's error code), or unreachable (with the reason found by a plain GET).
import { tapFrameReader } from "./codec.ts";
import { CLOSE_INVALID_SUBSCRIPTION, TAP_PATH, type TapEvent } from "./events.ts";

/** The subscription as sent (obs-contract §2); every field optional. */
export interface TapSubscription {
  direction?: "inbound" | "outbound";
  method?: string;
  authority?: string;
  path?: string;
  limit?: number;
  /** Ask for the (redacted) header lines in request and response events. */
  headers?: boolean;
}

export type TapStreamEnd =
  | { readonly kind: "closed"; readonly code: number; readonly reason: string }
  | { readonly kind: "refused"; readonly code: string; readonly message: string }
  | { readonly kind: "unreachable"; readonly message: string };

export interface TapStream {
  /** Resolves once, when the stream is over (never rejects). */
  readonly ended: Promise<TapStreamEnd>;
  /** Stops the stream (the client leaves); `ended` then resolves as closed. */
  close(): void;
}

/**
 * `address` is host:port of the tap server; `onEvent` sees every event but a refusal's error event, and
 * `onFrameEnd` runs after the events of each frame (a frame holds those of one flush interval).
 */
export async function openTapStream(
  address: string,
  subscription: TapSubscription,
  onEvent: (event: TapEvent) => void,
  onFrameEnd: () => void = () => {},
): Promise<TapStream> {
  const unpack = tapFrameReader();
  const url = `ws://${address}${TAP_PATH}`;
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  let opened = false;
  let refusal: TapStreamEnd | undefined;
  const ended = new Promise<TapStreamEnd>((resolve) => {
    ws.onopen = () => {
      opened = true;
      ws.send(JSON.stringify(subscription));
    };
    ws.onmessage = (message) => {
      if (!(message.data instanceof ArrayBuffer)) return;
      let events: TapEvent[];
      try {
        events = unpack(new Uint8Array(message.data)) as TapEvent[];
      } catch (err) {
        refusal = { kind: "closed", code: 1007, reason: `undecodable frame from the tap server (${(err as { code?: string }).code ?? "MESHLET_ERR_TAP_FRAME"}): ${(err as Error).message}` };
        ws.close();
        return;
      }
      for (const event of events) {
        if (event.type === "error") refusal = { kind: "refused", code: event.code, message: event.message };
        else onEvent(event);
      }
      onFrameEnd();
    };
    ws.onclose = (close) => {
      if (refusal !== undefined) resolve(refusal);
      else if (!opened) void diagnose(address).then((message) => resolve({ kind: "unreachable", message }));
      else if (close.code === CLOSE_INVALID_SUBSCRIPTION) resolve({ kind: "refused", code: close.reason, message: close.reason });
      else resolve({ kind: "closed", code: close.code, reason: close.reason });
    };
  });
  return { ended, close: () => ws.close(1000, "client done") };
}

/** Why the WebSocket could not open: the HTTP answer of the same path, or the connection error. */
async function diagnose(address: string): Promise<string> {
  try {
    const response = await fetch(`http://${address}${TAP_PATH}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.text()).trim();
    return `the tap server at ${address} refused the connection: HTTP ${response.status}${body !== "" ? ` (${body})` : ""}`;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = typeof code === "string" ? code : (err as Error).message;
    return `cannot reach the tap server at ${address}: ${reason} (is meshlet running, with MESHLET_TAP_LISTEN set to this address?)`;
  }
}
