// Tests for native/splice/splice.h on real loopback TCP pairs: exact byte movement with a small
// poll-driven pump, half-close (FIN only after the pipe is flushed), reset and closed-sink failures.
#include "splice/splice.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "test/check.h"

namespace {

using meshlet::splice::Flow;
using meshlet::splice::Pump;
using meshlet::splice::Status;

// A connected TCP pair on 127.0.0.1: `a` is the client end, `b` the accepted end. Both non-blocking.
struct TcpPair {
  int a = -1;
  int b = -1;
  TcpPair() {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener, 1);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    a = ::socket(AF_INET, SOCK_STREAM, 0);
    ::connect(a, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    b = ::accept(listener, nullptr, nullptr);
    ::close(listener);
    SetNonBlocking(a);
    SetNonBlocking(b);
  }
  ~TcpPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  static void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }
};

std::vector<uint8_t> Pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; i++) out[i] = static_cast<uint8_t>((i * 2654435761u + seed) >> 13);
  return out;
}

// How Relay drives the flow: the plain splice path with a pipe opened up front, or the proxy's way
// (a scratch buffer for copies, the pipe opened by Pump on first need).
struct RelayMode {
  bool copy_and_lazy_pipe = false;
};

struct RelayResult {
  Status status = Status::kBlocked;
  bool pipe_was_opened = false;
};

// Client writes `payload` into `in.a` and half-closes; the flow moves in.b -> out.a; the reader drains
// out.b until EOF. Returns the flow's final status, and collects what arrived.
RelayResult Relay(const std::vector<uint8_t>& payload, std::vector<uint8_t>* received, RelayMode mode = {}) {
  TcpPair in, out;
  Flow flow;
  flow.source_fd = in.b;
  flow.sink_fd = out.a;
  uint8_t scratch_bytes[16384];
  meshlet::splice::Scratch scratch{};
  if (mode.copy_and_lazy_pipe) {
    scratch = {scratch_bytes, sizeof scratch_bytes};
  } else {
    CHECK_EQ(flow.pipe.Open(meshlet::splice::kDefaultPipeBytes), 0);
  }
  size_t written = 0;
  bool client_shut = false;
  RelayResult result;
  uint8_t buf[65536];
  for (int rounds = 0; rounds < 200000; rounds++) {
    if (written < payload.size()) {
      ssize_t n = ::write(in.a, payload.data() + written, payload.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
    } else if (!client_shut) {
      ::shutdown(in.a, SHUT_WR);
      client_shut = true;
    }
    if (result.status != Status::kFinished) result.status = Pump(flow, scratch);
    if (result.status == Status::kFailed) break;
    ssize_t n = ::read(out.b, buf, sizeof buf);
    if (n > 0) received->insert(received->end(), buf, buf + n);
    if (n == 0) break;  // EOF: everything arrived and FIN followed
    if (n < 0) {
      pollfd fds[2] = {{in.b, POLLIN, 0}, {out.b, POLLIN, 0}};
      ::poll(fds, 2, 10);
    }
  }
  CHECK_EQ(flow.bytes_read, flow.bytes_written);
  result.pipe_was_opened = flow.pipe.read_fd >= 0;
  flow.pipe.Close();
  return result;
}

TEST(moves_bytes_exactly_and_forwards_fin_after_flushing) {
  auto payload = Pattern(8 * 1024 * 1024, 7);
  std::vector<uint8_t> received;
  Status status = Relay(payload, &received).status;
  CHECK(status == Status::kFinished);
  CHECK_EQ(received.size(), payload.size());
  CHECK(received == payload);
}

TEST(empty_stream_finishes_with_fin) {
  std::vector<uint8_t> received;
  CHECK(Relay({}, &received).status == Status::kFinished);
  CHECK_EQ(received.size(), 0u);
}

TEST(blocked_when_nothing_to_do) {
  TcpPair in, out;
  Flow flow;
  flow.source_fd = in.b;
  flow.sink_fd = out.a;
  CHECK_EQ(flow.pipe.Open(4096), 0);
  CHECK(Pump(flow) == Status::kBlocked);
  CHECK_EQ(flow.bytes_read, 0u);
  flow.pipe.Close();
}

TEST(reset_from_source_fails_with_econnreset) {
  TcpPair in, out;
  Flow flow;
  flow.source_fd = in.b;
  flow.sink_fd = out.a;
  CHECK_EQ(flow.pipe.Open(4096), 0);
  linger hard{1, 0};
  ::setsockopt(in.a, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(in.a);
  in.a = -1;
  ::usleep(20000);
  Status status = Pump(flow);
  CHECK(status == Status::kFailed);
  CHECK_EQ(flow.error_errno, ECONNRESET);
  CHECK_EQ(flow.failed_fd, in.b);
  flow.pipe.Close();
}

TEST(writing_into_a_closed_sink_fails_instead_of_hanging) {
  TcpPair in, out;
  Flow flow;
  flow.source_fd = in.b;
  flow.sink_fd = out.a;
  CHECK_EQ(flow.pipe.Open(65536), 0);
  linger hard{1, 0};
  ::setsockopt(out.b, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(out.b);  // the sink's peer is gone (RST)
  out.b = -1;
  ::usleep(20000);
  auto payload = Pattern(4096, 1);
  Status status = Status::kBlocked;
  for (int i = 0; i < 100 && status != Status::kFailed; i++) {
    ssize_t n = ::write(in.a, payload.data(), payload.size());
    (void)n;
    status = Pump(flow);
    ::usleep(1000);
  }
  CHECK(status == Status::kFailed);
  CHECK(flow.error_errno == EPIPE || flow.error_errno == ECONNRESET);
  CHECK_EQ(flow.failed_fd, out.a);
  flow.pipe.Close();
}

TEST(pipe_open_reports_capacity) {
  meshlet::splice::Pipe pipe;
  CHECK_EQ(pipe.Open(meshlet::splice::kDefaultPipeBytes), 0);
  CHECK(pipe.capacity_bytes >= 4096);
  CHECK(pipe.read_fd >= 0 && pipe.write_fd >= 0);
  pipe.Close();
  CHECK_EQ(pipe.read_fd, -1);
}

// splice(2) into a socket whose peer is gone must report EPIPE, not kill the test with SIGPIPE
// (the front door blocks SIGPIPE on its thread for the same reason).
const bool kIgnoreSigpipe = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

}  // namespace

namespace {

TEST(a_flow_yields_after_its_byte_budget) {
  TcpPair in, out;
  Flow flow;
  flow.source_fd = in.b;
  flow.sink_fd = out.a;
  CHECK_EQ(flow.pipe.Open(meshlet::splice::kDefaultPipeBytes), 0);
  auto payload = Pattern(512 * 1024, 3);
  size_t written = 0;
  while (written < payload.size()) {
    ssize_t n = ::write(in.a, payload.data() + written, payload.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  ::usleep(20000);
  uint8_t scratch_bytes[4096];
  meshlet::splice::Scratch scratch{scratch_bytes, sizeof scratch_bytes};
  Status status = Pump(flow, scratch, false, 8192);
  CHECK(status == Status::kYielded);
  CHECK(flow.bytes_read >= 8192u);
  CHECK(flow.bytes_read < written);
  flow.pipe.Close();
}

}  // namespace

namespace {

TEST(small_messages_are_copied_without_ever_opening_a_pipe) {
  TcpPair in, out;
  Flow flow;
  flow.source_fd = in.b;
  flow.sink_fd = out.a;
  uint8_t scratch_bytes[16384];
  meshlet::splice::Scratch scratch{scratch_bytes, sizeof scratch_bytes};
  uint8_t reply[64];
  for (int i = 0; i < 50; i++) {
    CHECK_EQ(::write(in.a, "PING\r\n", 6), 6);
    Status status = Status::kBlocked;
    for (int spins = 0; spins < 1000 && flow.bytes_written < static_cast<uint64_t>(6 * (i + 1)); spins++) {
      status = Pump(flow, scratch, false);
      if (flow.bytes_written < static_cast<uint64_t>(6 * (i + 1))) ::usleep(100);
    }
    CHECK(status == Status::kBlocked);
    CHECK_EQ(::read(out.b, reply, sizeof reply), 6);
  }
  CHECK_EQ(flow.bytes_written, 300u);
  CHECK_EQ(flow.pipe.read_fd, -1);  // no pipe fds, no pipe memory
  CHECK(!flow.bulk);
}

TEST(bulk_transfer_opens_the_pipe_on_demand) {
  auto payload = Pattern(2 * 1024 * 1024, 9);
  std::vector<uint8_t> received;
  RelayResult result = Relay(payload, &received, RelayMode{true});
  CHECK(result.status == Status::kFinished);
  CHECK(received == payload);
  CHECK(result.pipe_was_opened);  // bulk switched to splice, which needed the pipe
}

}  // namespace
