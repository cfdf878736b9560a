// Tests for the front door's lifecycle (native/frontdoor/frontdoor.cc) on real loopback sockets: a
// failed Start() leaves no fd and can be retried, Start/Stop/Start serves again, Stop() closes the
// handoffs nobody took, and Listen/Forward after Stop() refuse and close their fds.
#include "frontdoor/frontdoor.cc"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "test/check.h"

namespace {

using meshlet::frontdoor::Endpoint;
using meshlet::frontdoor::FrontDoor;
using meshlet::frontdoor::ListenerSpec;

size_t OpenFdCount() {
  size_t n = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') n++;
  }
  ::closedir(dir);
  return n - 1;  // the directory's own fd
}

bool FdOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

ListenerSpec LoopbackSpec(uint32_t handoff_mask) {
  ListenerSpec spec;
  spec.id = 1;
  Endpoint::FromIp("127.0.0.1", 0, &spec.bind);
  spec.handoff_mask = handoff_mask;
  spec.detect_timeout_ms = 10000;
  spec.connect_timeout_ms = 1000;
  spec.pipe_bytes = 65536;
  return spec;
}

// A blocking client connected to 127.0.0.1:port (-1 on failure).
int Dial(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Waits (bounded) until the peer closed `fd`: true when a read returns 0 or a reset.
bool PeerClosed(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return false;
  char byte;
  ssize_t n = ::recv(fd, &byte, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

constexpr uint32_t kHandoffHttp1 = 1u << static_cast<int>(meshlet::sniff::Verdict::Http1);

TEST(failed_start_leaves_nothing_open_and_can_be_retried) {
  FrontDoor door([] {});
  size_t before = OpenFdCount();
  // The lowest free fd number n: epoll_create1 gets n, then eventfd finds no number below n + 1.
  int lowest = ::dup(0);
  ::close(lowest);
  rlimit saved;
  ::getrlimit(RLIMIT_NOFILE, &saved);
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest) + 1;
  CHECK_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
  int err = door.Start();
  ::setrlimit(RLIMIT_NOFILE, &saved);
  CHECK_EQ(err, EMFILE);
  CHECK_EQ(OpenFdCount(), before);
  CHECK(!FdOpen(lowest));
  uint16_t port = 0;
  CHECK_EQ(door.Listen(LoopbackSpec(0), &port), ENOTCONN);  // nothing half-started to listen on
  CHECK_EQ(OpenFdCount(), before);
  CHECK_EQ(door.Start(), 0);
  CHECK_EQ(door.Listen(LoopbackSpec(0), &port), 0);
  door.Stop();
  CHECK_EQ(OpenFdCount(), before);
}

TEST(start_stop_start_serves_again_and_leaks_no_fd) {
  FrontDoor door([] {});
  size_t before = OpenFdCount();
  for (int round = 0; round < 3; round++) {
    TRACE("round " + std::to_string(round));
    CHECK_EQ(door.Start(), 0);
    uint16_t port = 0;
    CHECK_EQ(door.Listen(LoopbackSpec(kHandoffHttp1), &port), 0);
    CHECK(port != 0);
    int client = Dial(port);  // accepted by the kernel's backlog, then by the loop
    CHECK(client >= 0);
    door.Stop();
    CHECK(PeerClosed(client));  // the detecting connection was closed by Stop
    ::close(client);
    CHECK_EQ(door.OpenConnections(), size_t{0});
    CHECK_EQ(OpenFdCount(), before);
  }
}

TEST(stop_with_a_connection_still_detecting_counts_it_closed) {
  FrontDoor door([] {});
  size_t before = OpenFdCount();
  CHECK_EQ(door.Start(), 0);
  uint16_t port = 0;
  CHECK_EQ(door.Listen(LoopbackSpec(kHandoffHttp1), &port), 0);
  int client = Dial(port);
  CHECK(client >= 0);
  for (int i = 0; i < 5000 && door.OpenConnections() == 0; i++) ::usleep(1000);
  CHECK_EQ(door.OpenConnections(), size_t{1});  // accepted, waiting for its first bytes
  door.Stop();
  CHECK(PeerClosed(client));
  ::close(client);
  CHECK_EQ(door.OpenConnections(), size_t{0});
  CHECK_EQ(OpenFdCount(), before);
}

TEST(stop_closes_handoffs_nobody_took) {
  FrontDoor door([] {});
  size_t before = OpenFdCount();
  CHECK_EQ(door.Start(), 0);
  uint16_t port = 0;
  CHECK_EQ(door.Listen(LoopbackSpec(kHandoffHttp1), &port), 0);
  int client = Dial(port);
  CHECK(client >= 0);
  const char request[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK_EQ(::send(client, request, sizeof request - 1, 0), static_cast<ssize_t>(sizeof request - 1));
  // Detect count first, then the queued handoff: OpenConnections() drops to 0 only after the push.
  for (int i = 0; i < 5000; i++) {
    if (door.DetectCount(0, 1) == 1 && door.OpenConnections() == 0) break;
    ::usleep(1000);
  }
  CHECK_EQ(door.DetectCount(0, 1), uint64_t{1});
  CHECK_EQ(door.OpenConnections(), size_t{0});
  door.Stop();
  CHECK(door.TakeHandoffs().empty());
  CHECK(PeerClosed(client));
  ::close(client);
  CHECK_EQ(OpenFdCount(), before);
}

TEST(commands_after_stop_close_their_fds) {
  FrontDoor door([] {});
  CHECK_EQ(door.Start(), 0);
  door.Stop();
  size_t before = OpenFdCount();
  uint16_t port = 0;
  CHECK_EQ(door.Listen(LoopbackSpec(0), &port), ENOTCONN);
  CHECK_EQ(OpenFdCount(), before);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  Endpoint target;
  Endpoint::FromIp("127.0.0.1", 9, &target);
  CHECK_EQ(door.Forward(fd, 1, target, 4), ENOTCONN);
  CHECK(!FdOpen(fd));
  CHECK_EQ(OpenFdCount(), before);
  door.Stop();  // twice is fine
}

}  // namespace
