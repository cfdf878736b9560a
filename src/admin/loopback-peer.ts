// Which admin clients count as local: Linkerd serves /proxy-log-level and /shutdown only to loopback
// peers (127.0.0.0/8, ::1, and IPv4-mapped 127.x), answering others 403.

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** `address` is the peer IP as Bun reports it (server.requestIP). */
export function isLoopbackPeer(address: string): boolean {
  return LOOPBACK.test(address);
}

export const NOT_LOCALHOST_TEXT = "Requests are only permitted from localhost.\n";
