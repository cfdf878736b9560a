// TCP keepalive and TCP_USER_TIMEOUT on a Bun socket, so an upstream that vanished without FIN or RST
// is released. Bun's setKeepAlive cannot set TCP_USER_TIMEOUT (and fixes the probe interval at 1 s),
// so this reaches the socket's fd (Bun's TCPSocket `fd` getter, absent from bun-types) and the addon.
import { native } from "../native/binding.ts";

/** Best effort, like setNoDelay: a socket without a usable fd keeps the kernel's defaults. 0 = untouched. */
export function setTcpLiveness(socket: object, keepaliveMs: number, userTimeoutMs: number): void {
  if (keepaliveMs === 0 && userTimeoutMs === 0) return;
  const fd = (socket as { readonly fd?: unknown }).fd;
  if (typeof fd === "number" && fd >= 0) native.setTcpLiveness(fd, keepaliveMs, userTimeoutMs);
}
