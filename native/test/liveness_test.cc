// Tests for native/frontdoor/liveness.h on real sockets: the options the kernel reports after
// ApplyTcpLiveness, second rounding and clamping, zero leaving options untouched, and errors on fds
// that are not TCP sockets.
#include "frontdoor/liveness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test/check.h"

namespace {

using meshlet::frontdoor::ApplyTcpLiveness;
using meshlet::frontdoor::KeepaliveSeconds;
using meshlet::frontdoor::TcpLiveness;

// A connected TCP socket to a loopback listener (both closed with the object).
struct Connected {
  int listener = -1;
  int fd = -1;
  Connected() {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener, 1);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  ~Connected() {
    ::close(fd);
    ::close(listener);
  }
};

int IntOption(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, level, name, &value, &len) != 0) return -1;
  return value;
}

TEST(keepalive_seconds_round_up_and_clamp) {
  CHECK_EQ(KeepaliveSeconds(1), 1);
  CHECK_EQ(KeepaliveSeconds(999), 1);
  CHECK_EQ(KeepaliveSeconds(1000), 1);
  CHECK_EQ(KeepaliveSeconds(1001), 2);
  CHECK_EQ(KeepaliveSeconds(10000), 10);
  CHECK_EQ(KeepaliveSeconds(32767000), 32767);
  CHECK_EQ(KeepaliveSeconds(4000000000u), 32767);
}

TEST(applies_keepalive_and_user_timeout) {
  Connected c;
  CHECK_EQ(ApplyTcpLiveness(c.fd, TcpLiveness{10000, 30000}), 0);
  CHECK_EQ(IntOption(c.fd, SOL_SOCKET, SO_KEEPALIVE), 1);
  CHECK_EQ(IntOption(c.fd, IPPROTO_TCP, TCP_KEEPIDLE), 10);
  CHECK_EQ(IntOption(c.fd, IPPROTO_TCP, TCP_KEEPINTVL), 10);
  CHECK_EQ(IntOption(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 30000);
}

TEST(sub_second_keepalive_probes_after_one_second) {
  Connected c;
  CHECK_EQ(ApplyTcpLiveness(c.fd, TcpLiveness{250, 0}), 0);
  CHECK_EQ(IntOption(c.fd, IPPROTO_TCP, TCP_KEEPIDLE), 1);
  CHECK_EQ(IntOption(c.fd, IPPROTO_TCP, TCP_KEEPINTVL), 1);
  CHECK_EQ(IntOption(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
}

TEST(zero_leaves_options_untouched) {
  Connected c;
  int idle_before = IntOption(c.fd, IPPROTO_TCP, TCP_KEEPIDLE);
  CHECK_EQ(ApplyTcpLiveness(c.fd, TcpLiveness{0, 0}), 0);
  CHECK_EQ(IntOption(c.fd, SOL_SOCKET, SO_KEEPALIVE), 0);
  CHECK_EQ(IntOption(c.fd, IPPROTO_TCP, TCP_KEEPIDLE), idle_before);
  CHECK_EQ(IntOption(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
  CHECK_EQ(ApplyTcpLiveness(c.fd, TcpLiveness{0, 5000}), 0);
  CHECK_EQ(IntOption(c.fd, SOL_SOCKET, SO_KEEPALIVE), 0);
  CHECK_EQ(IntOption(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 5000);
}

TEST(errors_on_what_is_not_a_tcp_socket) {
  int pipe_fds[2];
  CHECK_EQ(::pipe(pipe_fds), 0);
  CHECK_EQ(ApplyTcpLiveness(pipe_fds[0], TcpLiveness{1000, 1000}), ENOTSOCK);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  CHECK_EQ(ApplyTcpLiveness(-1, TcpLiveness{1000, 0}), EBADF);
  int udp = ::socket(AF_INET, SOCK_DGRAM, 0);
  CHECK(ApplyTcpLiveness(udp, TcpLiveness{0, 1000}) != 0);
  ::close(udp);
}

}  // namespace
