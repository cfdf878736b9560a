// TCP liveness of a connected socket: keepalive probes and TCP_USER_TIMEOUT, so that a peer that
// vanished without FIN or RST (a dead node, a dropped path) is noticed and its connection released.
// No Node-API: the front door applies it at accept/connect, the addon on fds Bun created.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>

namespace meshlet::frontdoor {

// Linux takes TCP_KEEPIDLE / TCP_KEEPINTVL in whole seconds, at most MAX_TCP_KEEPIDLE (32767).
constexpr uint32_t kMaxKeepaliveSeconds = 32767;

struct TcpLiveness {
  // Idle time before the first keepalive probe, and the time between probes. 0: keepalive untouched.
  uint32_t keepalive_ms = 0;
  // TCP_USER_TIMEOUT: how long sent data (or, with keepalive, probes) may go unacknowledged before
  // the kernel drops the connection with ETIMEDOUT. 0: the kernel default (~15 min of retransmits).
  uint32_t user_timeout_ms = 0;
};

// Whole seconds for the keepalive options: rounded up (500 ms probes after 1 s, never after 0 s),
// clamped to what the kernel accepts.
constexpr int KeepaliveSeconds(uint32_t ms) noexcept {
  uint32_t seconds = ms / 1000 + (ms % 1000 != 0 ? 1 : 0);
  return static_cast<int>(seconds > kMaxKeepaliveSeconds ? kMaxKeepaliveSeconds : seconds);
}

// Sets SO_KEEPALIVE with TCP_KEEPIDLE = TCP_KEEPINTVL = keepalive, and TCP_USER_TIMEOUT. With both
// set, a silent peer is dropped once probes went unanswered for the user timeout (Linux lets
// TCP_USER_TIMEOUT decide when keepalive gives up); with keepalive alone, after TCP_KEEPCNT probes.
// Returns 0, or the errno of the first option that failed (ENOTSOCK, EBADF, EOPNOTSUPP for non-TCP).
inline int ApplyTcpLiveness(int fd, const TcpLiveness& liveness) noexcept {
  if (liveness.keepalive_ms > 0) {
    int on = 1;
    int seconds = KeepaliveSeconds(liveness.keepalive_ms);
    if (::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0) return errno;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &seconds, sizeof seconds) != 0) return errno;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &seconds, sizeof seconds) != 0) return errno;
  }
  if (liveness.user_timeout_ms > 0) {
    unsigned int ms = liveness.user_timeout_ms;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) != 0) return errno;
  }
  return 0;
}

}  // namespace meshlet::frontdoor
