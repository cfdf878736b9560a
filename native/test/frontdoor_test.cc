// Tests for the front door's lifecycle (native/frontdoor/frontdoor.cc) on real loopback sockets: a
// failed Start() leaves no fd and can be retried, Start/Stop/Start serves again, Stop() closes the
// handoffs nobody took, Listen/Forward after Stop() refuse and close their fds, and a ClientHello for the
// local identity is handed off as kProtocolMeshTls while other SNIs are spliced (on an inbound opaque port
// too), and outbound TCP to a meshed endpoint is handed off for mTLS origination while the rest is spliced.
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
#include "test/testdata/client_hellos.h"

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

TEST(sni_matches_the_local_identity_exactly_ignoring_case) {
  using meshlet::frontdoor::SniIsLocalIdentity;
  const std::string identity = "web.default.serviceaccount.identity.linkerd.cluster.local";
  CHECK(SniIsLocalIdentity(identity, identity));
  CHECK(SniIsLocalIdentity("Web.Default.ServiceAccount.Identity.Linkerd.Cluster.LOCAL", identity));
  CHECK(!SniIsLocalIdentity("web.default.serviceaccount.identity.linkerd.cluster.loca", identity));
  CHECK(!SniIsLocalIdentity(identity + ".", identity));
  CHECK(!SniIsLocalIdentity("x" + identity, identity));
  CHECK(!SniIsLocalIdentity("api.default.serviceaccount.identity.linkerd.cluster.local", identity));
  CHECK(!SniIsLocalIdentity("", identity));
  CHECK(!SniIsLocalIdentity("", ""));  // no identity: nothing matches, not even a hello without SNI
  CHECK(!SniIsLocalIdentity("web", ""));
}

// A blocking listener on 127.0.0.1 (the splice target); *port receives its port.
int ListenLoopback(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) return -1;
  *port = Endpoint::Local(fd).port();
  return fd;
}

// Sends `hello` on a new connection to the door and reports what became of it: the handoff when the
// door handed it off, or nothing when the splice target received exactly the hello bytes.
struct HelloOutcome {
  bool handed_off = false;
  bool spliced = false;
  meshlet::frontdoor::Handoff handoff{-1, 0, 0, "", {}, {}, false};
};

HelloOutcome SendHello(FrontDoor& door, uint16_t door_port, int target_listener, const uint8_t* hello, size_t hello_bytes) {
  HelloOutcome outcome;
  int client = Dial(door_port);
  CHECK(client >= 0);
  CHECK_EQ(::send(client, hello, hello_bytes, 0), static_cast<ssize_t>(hello_bytes));
  pollfd p{target_listener, POLLIN, 0};
  for (int i = 0; i < 5000 && !outcome.handed_off && !outcome.spliced; i++) {
    std::vector<meshlet::frontdoor::Handoff> handoffs = door.TakeHandoffs();
    if (!handoffs.empty()) {
      CHECK_EQ(handoffs.size(), size_t{1});
      outcome.handed_off = true;
      outcome.handoff = handoffs[0];
      break;
    }
    if (::poll(&p, 1, 1) == 1) {
      int upstream = ::accept4(target_listener, nullptr, nullptr, SOCK_CLOEXEC);
      CHECK(upstream >= 0);
      std::string got;
      char buffer[4096];
      pollfd r{upstream, POLLIN, 0};
      while (got.size() < hello_bytes && ::poll(&r, 1, 5000) == 1) {
        ssize_t n = ::recv(upstream, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        got.append(buffer, static_cast<size_t>(n));
      }
      CHECK(got == std::string(reinterpret_cast<const char*>(hello), hello_bytes));
      outcome.spliced = true;
      ::close(upstream);
    }
  }
  if (outcome.handed_off) ::close(outcome.handoff.fd);
  ::close(client);
  return outcome;
}

TEST(hello_for_the_local_identity_is_handed_off_as_mesh_tls_others_spliced) {
  namespace data = meshlet::sniff::testdata;
  using meshlet::frontdoor::kProtocolMeshTls;
  FrontDoor door([] {});
  size_t before = OpenFdCount();
  uint16_t target_port = 0;
  int target = ListenLoopback(&target_port);
  CHECK(target >= 0);
  CHECK_EQ(door.Start(), 0);
  ListenerSpec spec = LoopbackSpec(1u << kProtocolMeshTls);
  Endpoint::FromIp("127.0.0.1", target_port, &spec.target);
  uint16_t port = 0;
  CHECK_EQ(door.Listen(spec, &port), 0);
  // Another listener without the MeshTls bit: the identity does not apply to it.
  ListenerSpec plain = LoopbackSpec(0);
  plain.id = 2;
  plain.target = spec.target;
  uint16_t plain_port = 0;
  CHECK_EQ(door.Listen(plain, &plain_port), 0);
  const uint8_t* hello = data::kOpensslHelloExampleCom;  // SNI example.com
  size_t hello_bytes = sizeof data::kOpensslHelloExampleCom;

  {
    TRACE("no identity yet: spliced");
    HelloOutcome outcome = SendHello(door, port, target, hello, hello_bytes);
    CHECK(outcome.spliced);
    CHECK_EQ(door.DetectCount(0, 3), uint64_t{1});
  }
  door.SetLocalIdentity("Example.COM");
  {
    TRACE("SNI = the identity, other case: handed off as MeshTls");
    HelloOutcome outcome = SendHello(door, port, target, hello, hello_bytes);
    CHECK(outcome.handed_off);
    CHECK_EQ(static_cast<int>(outcome.handoff.protocol), static_cast<int>(kProtocolMeshTls));
    CHECK_EQ(outcome.handoff.sni, std::string("example.com"));
    CHECK_EQ(outcome.handoff.listener_id, uint32_t{1});
    CHECK_EQ(door.DetectCount(0, kProtocolMeshTls), uint64_t{1});
  }
  {
    TRACE("a listener without the MeshTls bit: spliced");
    CHECK(SendHello(door, plain_port, target, hello, hello_bytes).spliced);
  }
  {
    TRACE("a hello without SNI: spliced");
    CHECK(SendHello(door, port, target, data::kOpensslHelloNoSni, sizeof data::kOpensslHelloNoSni).spliced);
  }
  door.SetLocalIdentity("api.example.com");
  {
    TRACE("another identity: spliced untouched");
    CHECK(SendHello(door, port, target, hello, hello_bytes).spliced);
  }
  door.SetLocalIdentity("");
  {
    TRACE("identity cleared: spliced");
    CHECK(SendHello(door, port, target, hello, hello_bytes).spliced);
  }
  CHECK_EQ(door.DetectCount(0, kProtocolMeshTls), uint64_t{1});
  door.Stop();
  ::close(target);
  CHECK_EQ(OpenFdCount(), before);
}

TEST(meshed_endpoints_match_address_and_port_exactly) {
  using meshlet::frontdoor::MeshedEndpoints;
  Endpoint a, a_other_port, b, v6, v6_other;
  Endpoint::FromIp("10.0.0.1", 6379, &a);
  Endpoint::FromIp("10.0.0.1", 6380, &a_other_port);
  Endpoint::FromIp("10.0.0.2", 6379, &b);
  Endpoint::FromIp("fd00::1", 6379, &v6);
  Endpoint::FromIp("fd00::2", 6379, &v6_other);
  MeshedEndpoints table({a, v6});
  CHECK_EQ(table.size(), size_t{2});
  CHECK(table.Contains(a));
  CHECK(table.Contains(v6));
  CHECK(!table.Contains(a_other_port));
  CHECK(!table.Contains(b));
  CHECK(!table.Contains(v6_other));
  CHECK(!table.Contains(Endpoint{}));
  CHECK(!MeshedEndpoints().Contains(a));
}

TEST(outbound_tcp_to_a_meshed_endpoint_is_handed_off_the_rest_spliced) {
  using meshlet::frontdoor::kHandoffMeshedTcp;
  using meshlet::frontdoor::kProtocolOpaque;
  FrontDoor door([] {});
  size_t before = OpenFdCount();
  uint16_t target_port = 0;
  int target = ListenLoopback(&target_port);
  CHECK(target >= 0);
  CHECK_EQ(door.Start(), 0);
  ListenerSpec spec = LoopbackSpec(kHandoffMeshedTcp);
  spec.direction = 1;  // outbound
  Endpoint::FromIp("127.0.0.1", target_port, &spec.target);
  uint16_t port = 0;
  CHECK_EQ(door.Listen(spec, &port), 0);
  ListenerSpec plain = spec;  // the same target, without the bit
  plain.id = 2;
  plain.handoff_mask = 0;
  uint16_t plain_port = 0;
  CHECK_EQ(door.Listen(plain, &plain_port), 0);
  const uint8_t resp[] = "*1\r\n$4\r\nPING\r\n";
  size_t resp_bytes = sizeof resp - 1;
  {
    TRACE("the target is not meshed yet: spliced");
    CHECK(SendHello(door, port, target, resp, resp_bytes).spliced);
  }
  Endpoint other;
  Endpoint::FromIp("127.0.0.2", target_port, &other);
  door.SetMeshedEndpoints({other, spec.target});
  {
    TRACE("not HTTP to a meshed endpoint: handed off, marked meshed");
    HelloOutcome outcome = SendHello(door, port, target, resp, resp_bytes);
    CHECK(outcome.handed_off);
    CHECK(outcome.handoff.meshed_target);
    CHECK_EQ(static_cast<int>(outcome.handoff.protocol), static_cast<int>(meshlet::sniff::Verdict::NotHttp));
  }
  {
    TRACE("a listener without the bit: spliced");
    CHECK(SendHello(door, plain_port, target, resp, resp_bytes).spliced);
  }
  std::bitset<65536> opaque;
  opaque.set(target_port);
  door.SetOpaquePorts(opaque);
  {
    TRACE("an opaque port to a meshed endpoint: handed off at accept, protocol opaque");
    HelloOutcome outcome = SendHello(door, port, target, resp, resp_bytes);
    CHECK(outcome.handed_off);
    CHECK(outcome.handoff.meshed_target);
    CHECK_EQ(static_cast<int>(outcome.handoff.protocol), static_cast<int>(kProtocolOpaque));
  }
  door.SetMeshedEndpoints({other});
  {
    TRACE("no longer meshed: spliced");
    CHECK(SendHello(door, port, target, resp, resp_bytes).spliced);
  }
  door.Stop();
  ::close(target);
  CHECK_EQ(OpenFdCount(), before);
}

TEST(inbound_opaque_port_with_an_identity_terminates_mesh_tls_and_splices_the_rest) {
  namespace data = meshlet::sniff::testdata;
  using meshlet::frontdoor::kProtocolMeshTls;
  using meshlet::frontdoor::kProtocolOpaque;
  FrontDoor door([] {});
  size_t before = OpenFdCount();
  uint16_t target_port = 0;
  int target = ListenLoopback(&target_port);
  CHECK(target >= 0);
  CHECK_EQ(door.Start(), 0);
  ListenerSpec spec = LoopbackSpec(1u << kProtocolMeshTls);
  Endpoint::FromIp("127.0.0.1", target_port, &spec.target);
  uint16_t port = 0;
  CHECK_EQ(door.Listen(spec, &port), 0);
  std::bitset<65536> opaque;
  opaque.set(target_port);
  door.SetOpaquePorts(opaque);
  const uint8_t* hello = data::kOpensslHelloExampleCom;
  size_t hello_bytes = sizeof data::kOpensslHelloExampleCom;
  {
    TRACE("no identity: an opaque port is spliced without looking");
    CHECK(SendHello(door, port, target, hello, hello_bytes).spliced);
    CHECK_EQ(door.DetectCount(0, kProtocolOpaque), uint64_t{1});
  }
  door.SetLocalIdentity("example.com");
  {
    TRACE("a ClientHello for the identity: handed off as MeshTls");
    HelloOutcome outcome = SendHello(door, port, target, hello, hello_bytes);
    CHECK(outcome.handed_off);
    CHECK_EQ(static_cast<int>(outcome.handoff.protocol), static_cast<int>(kProtocolMeshTls));
  }
  {
    TRACE("plaintext (even HTTP) on the opaque port: spliced as opaque");
    const uint8_t get[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK(SendHello(door, port, target, get, sizeof get - 1).spliced);
    CHECK_EQ(door.DetectCount(0, kProtocolOpaque), uint64_t{2});
    CHECK_EQ(door.DetectCount(0, 1), uint64_t{0});
  }
  door.Stop();
  ::close(target);
  CHECK_EQ(OpenFdCount(), before);
}

}  // namespace
