// The front door's epoll thread: accept -> destination -> (inbound: refuse deny ports) ->
// (opaque port ? connect : peek-sniff) -> hand HTTP to TypeScript or (inbound: if the policy allows)
// splice the rest, with detect/connect/idle deadlines on one timer heap.
// Everything here runs on the one thread except the public entry points, which post commands. The
// units it is built from have tests of their own: command_queue.h, timer_heap.h, connection.h.
#include "frontdoor/frontdoor.h"

#include "frontdoor/command_queue.h"
#include "frontdoor/connection.h"
#include "frontdoor/timer_heap.h"

#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <unordered_map>

#include "sniff/sniff.h"
#include "splice/splice.h"

namespace meshlet::frontdoor {
namespace {

int64_t NowMs() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// epoll user data: an id and what it names, so an event for a connection closed earlier in the same
// batch finds nothing instead of a dangling pointer.
enum class Tag : uint64_t { kWake = 0, kListener = 1, kClient = 2, kUpstream = 3 };
uint64_t Key(Tag tag, uint64_t id) noexcept { return (id << 2) | static_cast<uint64_t>(tag); }

constexpr uint32_t kDuplexEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
constexpr int kAcceptPauseMs = 100;  // after EMFILE/ENFILE: let fds free up instead of spinning
// Bytes one flow may move per turn before the others get theirs (fairness between connections).
constexpr uint64_t kPumpBudgetBytes = 1024 * 1024;

void SetNoDelay(int fd) noexcept {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

char AsciiLower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

void ResetOnClose(int fd) noexcept {
  linger hard{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
}

}  // namespace

bool SniIsLocalIdentity(const std::string& sni, const std::string& identity) noexcept {
  if (identity.empty() || sni.size() != identity.size()) return false;
  for (size_t i = 0; i < sni.size(); i++) {
    if (AsciiLower(sni[i]) != identity[i]) return false;
  }
  return true;
}

struct FrontDoor::Impl {
  using State = ConnState;

  struct Listener {
    ListenerSpec spec;
    int fd = -1;
  };

  FrontDoor& owner;
  int epoll_fd = -1;
  std::thread thread;
  std::atomic<bool> running{false};
  CommandQueue commands;  // the only member other threads touch (Post)

  // Thread-owned state below.
  std::unordered_map<uint32_t, Listener> listeners;
  // A Conn& stays valid until the loop turn ends (every handler runs inside one): a caller still
  // holding one after Close() touches live memory, and Close() on it again does nothing (`closed`).
  ConnTable conns;
  TimerHeap timers;
  // Connections that used their byte budget and still have bytes to move: pumped again after the
  // current batch of events, before the loop sleeps (with edge-triggered epoll no event would come).
  std::vector<uint64_t> yielded;
  std::bitset<65536> opaque_ports;
  std::string local_identity;  // lower-case; "" = no identity, nothing is kProtocolMeshTls
  MeshedEndpoints meshed;      // kHandoffMeshedTcp destinations
  uint8_t peek_buffer[sniff::kMaxPeekBytes];
  uint8_t copy_buffer[16 * 1024];  // small messages are copied through here (see splice::Pump)

  explicit Impl(FrontDoor& o) : owner(o) {}

  // === Event loop ===

  void Loop() {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);  // splice into a closed socket must fail with EPIPE, not kill the process
    pthread_sigmask(SIG_BLOCK, &block, nullptr);

    epoll_event events[256];
    while (running.load(std::memory_order_relaxed)) {
      int n = ::epoll_wait(epoll_fd, events, 256, yielded.empty() ? NextTimeoutMs() : 0);
      for (int i = 0; i < n; i++) Dispatch(events[i].data.u64, events[i].events);
      ResumeYielded();
      RunTimers(NowMs());
      conns.EndTurn();  // the turn is over: no handler holds a Conn& any more
    }
    // Through Close(), as any other close: the open-connection count and the gauges come back to zero,
    // so OpenConnections() after Stop() is 0 whether or not the loop had accepted a connection yet.
    for (uint64_t id : conns.Ids()) {
      if (Conn* c = conns.Find(id)) Close(*c, ECONNABORTED, false);
    }
    conns.EndTurn();
    for (auto& [id, listener] : listeners) {
      if (listener.fd >= 0) ::close(listener.fd);
    }
    // Leave nothing for a later Start() to trip on.
    listeners.clear();
    timers.Clear();
    yielded.clear();
  }

  void Dispatch(uint64_t key, uint32_t events) {
    auto tag = static_cast<Tag>(key & 3);
    uint64_t id = key >> 2;
    if (tag == Tag::kWake) return commands.RunPending();
    if (tag == Tag::kListener) return Accept(static_cast<uint32_t>(id));
    Conn* found = conns.Find(id);
    if (found == nullptr) return;  // closed earlier in this batch
    Conn& conn = *found;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) (tag == Tag::kClient ? conn.client_rdhup : conn.upstream_rdhup) = true;
    switch (conn.state) {
      case State::kDetecting:
        if (tag == Tag::kClient) Detect(conn);
        break;
      case State::kConnecting:
        if (tag == Tag::kUpstream) FinishConnect(conn);
        break;
      case State::kSplicing: {
        // Pump only the flows this event can move: a readable socket feeds the flow it is the source
        // of; a writable one matters only to a flow with bytes waiting in its pipe. (epoll reports
        // EPOLLOUT with nearly every EPOLLIN, so pumping on it blindly costs an EAGAIN read.)
        bool readable = events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
        bool writable = events & (EPOLLOUT | EPOLLHUP | EPOLLERR);
        if (tag == Tag::kClient) {
          Pump(conn, readable, writable && conn.to_client.pipe.fill_bytes > 0);
        } else {
          Pump(conn, writable && conn.to_target.pipe.fill_bytes > 0, readable);
        }
        break;
      }
    }
  }

  // === Accept and destination ===

  void Accept(uint32_t listener_id) {
    auto it = listeners.find(listener_id);
    if (it == listeners.end() || it->second.fd < 0) return;
    Listener& listener = it->second;
    for (;;) {
      Endpoint client;
      client.length = sizeof client.storage;
      int fd = ::accept4(listener.fd, client.sa(), &client.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) PauseAccept(listener);
        return;  // EAGAIN, or paused
      }
      OnAccepted(listener.spec, fd, client);
    }
  }

  void PauseAccept(Listener& listener) {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listener.fd, nullptr);
    timers.Push(Timer{NowMs() + kAcceptPauseMs, 0, listener.spec.id});
  }

  void ResumeAccept(uint32_t listener_id) {
    auto it = listeners.find(listener_id);
    if (it == listeners.end() || it->second.fd < 0) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = Key(Tag::kListener, listener_id);
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, it->second.fd, &ev);
  }

  void OnAccepted(const ListenerSpec& spec, int fd, const Endpoint& client) {
    SetNoDelay(fd);
    ApplyTcpLiveness(fd, spec.accept_liveness);  // best effort, like TCP_NODELAY: a failure changes no outcome
    Endpoint local = Endpoint::Local(fd);
    Endpoint original = Endpoint::OriginalDestination(fd, local.family());
    bool redirected = original.valid() && !(original == local);

    auto conn = std::make_unique<Conn>();
    conn->listener_id = spec.id;
    conn->direction = spec.direction;
    conn->idle_timeout_ms = spec.idle_timeout_ms;
    conn->connect_timeout_ms = spec.connect_timeout_ms;
    conn->pipe_bytes = spec.pipe_bytes;
    conn->handoff_mask = spec.handoff_mask;
    conn->connect_liveness = spec.connect_liveness;
    conn->client_fd = fd;
    conn->client = client;
    conn->target = redirected ? original : spec.target;
    conn->target_is_original = redirected;
    conn->opened_ms = NowMs();
    conn->src_cell = owner.stats_.Cell(spec.direction, Peer::kSrc, conn->target);
    conn->src_cell->open_total.fetch_add(1, std::memory_order_relaxed);
    conn->src_cell->open_now.fetch_add(1, std::memory_order_relaxed);
    owner.open_connections_.fetch_add(1, std::memory_order_relaxed);
    Conn& c = conns.Add(std::move(conn));

    // Without a target (outbound with no original destination, or a DNS target not resolved yet)
    // only a handed-off protocol can proceed: HTTP names its destination in the request.
    if (c.target.valid() && c.target == local) return Close(c, ELOOP, false);  // would dial ourselves
    if (c.direction == kDirectionInbound) {
      // A deny port refuses every connection, HTTP included, before a byte is read.
      const policy::Table* table = owner.inbound_policy_.load(std::memory_order_acquire);
      const policy::Entry* entry = table ? &table->ForPort(c.target.port()) : nullptr;
      if (entry && entry->RefusesAtAccept()) {
        policy::CountDecision(policy::Decision{entry, false});
        return ClosePolicy(c, PolicyClose::kDenied, *entry);
      }
    }
    if (c.target.valid() && opaque_ports.test(c.target.port())) {
      // With an identity, mTLS from meshed peers to an inbound opaque port is still terminated: only a
      // ClientHello naming it is looked for (Detect); HTTP detection stays skipped.
      bool mesh_tls_possible = c.direction == kDirectionInbound && !local_identity.empty() &&
                               (c.handoff_mask & (1u << kProtocolMeshTls));
      if (!mesh_tls_possible) {
        Decide(c, kProtocolOpaque);
        return SpliceOrHandOff(c);
      }
      c.detect_tls_only = true;
    }
    c.state = State::kDetecting;
    if (!Register(c, c.client_fd, Tag::kClient, EPOLLIN | EPOLLRDHUP | EPOLLET)) return;
    c.client_registered = true;
    Arm(c, c.opened_ms + spec.detect_timeout_ms);
  }

  // === Detection ===

  // Peeks (bytes stay in the kernel for whoever handles the connection next) and sniffs. With
  // edge-triggered epoll a new segment raises a new event, so NeedMore simply waits for it.
  void Detect(Conn& c) {
    ssize_t n = ::recv(c.client_fd, peek_buffer, sizeof peek_buffer, MSG_PEEK);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return Close(c, errno, false);
    }
    if (n == 0) return Close(c, 0, false);  // closed before saying anything
    sniff::Result result = sniff::Sniff(peek_buffer, static_cast<size_t>(n));
    if (result.verdict == sniff::Verdict::NeedMore) {
      // A peer that half-closed or filled the budget will not complete a request line: forward as TCP.
      if (!c.client_rdhup && static_cast<size_t>(n) < sizeof peek_buffer) return;
      result.verdict = sniff::Verdict::NotHttp;
    }
    c.sni.assign(result.sni, result.sni_len);
    bool mesh_tls = result.verdict == sniff::Verdict::Tls && (c.handoff_mask & (1u << kProtocolMeshTls)) &&
                    SniIsLocalIdentity(c.sni, local_identity);
    if (c.detect_tls_only && !mesh_tls) {
      Decide(c, kProtocolOpaque);
      return StartConnect(c);
    }
    Decide(c, mesh_tls ? kProtocolMeshTls : static_cast<uint8_t>(result.verdict));
    if (c.handoff_mask & (1u << c.protocol)) return HandOff(c);
    SpliceOrHandOff(c);
  }

  // TCP about to be spliced: to a meshed endpoint from an outbound listener that asks for it, handed to
  // TypeScript for mTLS origination; otherwise spliced here.
  void SpliceOrHandOff(Conn& c) {
    if (c.direction != kDirectionInbound && (c.handoff_mask & kHandoffMeshedTcp) && meshed.Contains(c.target)) {
      return HandOff(c, true);
    }
    StartConnect(c);
  }

  void Decide(Conn& c, uint8_t protocol) {
    c.protocol = protocol;
    owner.detect_counts_[c.direction & 1][protocol].fetch_add(1, std::memory_order_relaxed);
  }

  void HandOff(Conn& c, bool meshed_target = false) {
    if (c.client_registered) ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.client_fd, nullptr);
    Handoff handoff{c.client_fd, c.listener_id, c.protocol, std::move(c.sni), c.client, c.target,
                    c.target_is_original, meshed_target};
    c.closed = true;  // the fd is TypeScript's now: forget it without closing
    c.src_cell->open_now.fetch_sub(1, std::memory_order_relaxed);
    bool first;
    {
      std::lock_guard<std::mutex> lock(owner.handoff_mutex_);
      first = owner.handoffs_.empty();
      owner.handoffs_.push_back(std::move(handoff));
    }
    // Counted down after the handoff is queued: OpenConnections() == 0 means nothing is in between.
    owner.open_connections_.fetch_sub(1, std::memory_order_relaxed);
    conns.Bury(c);
    if (first) owner.wake_();
  }

  // === Connect ===

  // Every connection about to be spliced passes here first (opaque, not HTTP, detect timeout, given
  // back by TypeScript): an inbound one the policy denies is closed before anything is dialed.
  void StartConnect(Conn& c) {
    if (!Admit(c)) return;
    c.state = State::kConnecting;
    if (!c.target.valid()) return Close(c, EDESTADDRREQ, false);
    c.upstream_fd = ::socket(c.target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.upstream_fd < 0) return Close(c, errno, false);
    SetNoDelay(c.upstream_fd);
    ApplyTcpLiveness(c.upstream_fd, c.connect_liveness);
    int rc = ::connect(c.upstream_fd, c.target.sa(), c.target.length);
    if (rc != 0 && errno != EINPROGRESS) return Close(c, errno, false);
    if (!Register(c, c.upstream_fd, Tag::kUpstream, kDuplexEvents)) return;
    if (rc == 0) return OnConnected(c);
    Arm(c, NowMs() + c.connect_timeout_ms);
  }

  static policy::Address ClientAddress(const Conn& c) {
    return c.client.valid() ? policy::Address::FromSockaddr(c.client.sa(), c.client.length) : policy::Address{};
  }

  // The inbound policy's verdict on a connection about to be spliced; closes it (EACCES) if denied.
  // No client has a verified identity before mTLS.
  bool Admit(Conn& c) {
    if (c.direction != kDirectionInbound) return true;
    const policy::Table* table = owner.inbound_policy_.load(std::memory_order_acquire);
    if (table == nullptr) return true;  // no policy pushed yet: all-unauthenticated
    policy::Decision decision = table->Decide(c.target.port(), ClientAddress(c), false);
    policy::CountDecision(decision);
    if (decision.allowed) return true;
    ClosePolicy(c, PolicyClose::kDenied, *decision.entry);
    return false;
  }

  // Closes with EACCES, recording why for the connection log: a denial is a plain close of a socket
  // nothing was written to (as Linkerd drops it), a termination resets both sides.
  void ClosePolicy(Conn& c, PolicyClose why, const policy::Entry& entry) {
    c.policy_close = why;
    c.policy_entry_id = entry.id;
    Close(c, EACCES, why == PolicyClose::kTerminated);
  }

  // After a push: resets the inbound connections past the policy check (connecting or spliced) that
  // the current table no longer allows, counting them as terminated by the entry that denies them.
  void ReevaluateInbound() {
    const policy::Table* table = owner.inbound_policy_.load(std::memory_order_acquire);
    if (table == nullptr) return;
    std::vector<std::pair<uint64_t, const policy::Entry*>> denied;
    for (uint64_t id : conns.Ids()) {
      const Conn& c = *conns.Find(id);
      if (c.direction != kDirectionInbound || c.state == State::kDetecting) continue;
      policy::Decision decision = table->Decide(c.target.port(), ClientAddress(c), false);
      if (decision.allowed) continue;
      policy::CountTerminate(*decision.entry);
      denied.emplace_back(id, decision.entry);
    }
    for (auto& [id, entry] : denied) ClosePolicy(*conns.Find(id), PolicyClose::kTerminated, *entry);
  }

  void FinishConnect(Conn& c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(c.upstream_fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == EINPROGRESS || err == EALREADY) return;
    if (err != 0) return Close(c, err, false);
    OnConnected(c);
  }

  void OnConnected(Conn& c) {
    c.dst_cell = owner.stats_.Cell(c.direction, Peer::kDst, c.target);
    c.dst_cell->open_total.fetch_add(1, std::memory_order_relaxed);
    c.dst_cell->open_now.fetch_add(1, std::memory_order_relaxed);
    c.to_target.pipe_wanted_bytes = c.pipe_bytes;
    c.to_client.pipe_wanted_bytes = c.pipe_bytes;
    c.to_target.source_fd = c.client_fd;
    c.to_target.sink_fd = c.upstream_fd;
    c.to_client.source_fd = c.upstream_fd;
    c.to_client.sink_fd = c.client_fd;
    if (c.client_registered) {
      epoll_event ev{};
      ev.events = kDuplexEvents;
      ev.data.u64 = Key(Tag::kClient, c.id);
      ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.client_fd, &ev);
    } else if (!Register(c, c.client_fd, Tag::kClient, kDuplexEvents)) {
      return;
    }
    c.client_registered = true;
    c.state = State::kSplicing;
    c.last_activity_ms = NowMs();
    if (c.idle_timeout_ms > 0) {
      Arm(c, c.last_activity_ms + c.idle_timeout_ms);
    } else {
      c.timer_generation++;  // disarm the connect deadline
    }
    Pump(c);
  }

  // === Splice ===

  void ResumeYielded() {
    std::vector<uint64_t> batch;
    batch.swap(yielded);
    for (uint64_t id : batch) {
      Conn* c = conns.Find(id);
      if (c != nullptr && c->state == State::kSplicing) Pump(*c);
    }
  }

  static splice::Status Settled(const splice::Flow& flow) {
    return flow.sink_shut ? splice::Status::kFinished : splice::Status::kBlocked;
  }

  void Pump(Conn& c, bool pump_to_target = true, bool pump_to_client = true) {
    uint64_t read_to_target = c.to_target.bytes_read, wrote_to_target = c.to_target.bytes_written;
    uint64_t read_to_client = c.to_client.bytes_read, wrote_to_client = c.to_client.bytes_written;
    splice::Scratch scratch{copy_buffer, sizeof copy_buffer};
    splice::Status up = pump_to_target ? splice::Pump(c.to_target, scratch, c.client_rdhup, kPumpBudgetBytes)
                                       : Settled(c.to_target);
    splice::Status down = up == splice::Status::kFailed ? up
                          : pump_to_client ? splice::Pump(c.to_client, scratch, c.upstream_rdhup, kPumpBudgetBytes)
                                           : Settled(c.to_client);

    uint64_t d_read_client = c.to_target.bytes_read - read_to_target;
    uint64_t d_write_target = c.to_target.bytes_written - wrote_to_target;
    uint64_t d_read_target = c.to_client.bytes_read - read_to_client;
    uint64_t d_write_client = c.to_client.bytes_written - wrote_to_client;
    if (d_read_client | d_write_target | d_read_target | d_write_client) {
      c.last_activity_ms = NowMs();
      c.src_cell->read_bytes.fetch_add(d_read_client, std::memory_order_relaxed);
      c.src_cell->write_bytes.fetch_add(d_write_client, std::memory_order_relaxed);
      c.dst_cell->read_bytes.fetch_add(d_read_target, std::memory_order_relaxed);
      c.dst_cell->write_bytes.fetch_add(d_write_target, std::memory_order_relaxed);
    }

    if (up == splice::Status::kFailed || down == splice::Status::kFailed) {
      const splice::Flow& failed = up == splice::Status::kFailed ? c.to_target : c.to_client;
      // A reset (or a write into a reset peer) on one side is passed on as a reset to the other.
      return Close(c, failed.error_errno, true);
    }
    if (up == splice::Status::kFinished && down == splice::Status::kFinished) return Close(c, 0, false);
    if (up == splice::Status::kYielded || down == splice::Status::kYielded) yielded.push_back(c.id);
  }

  // === Timers ===

  void Arm(Conn& c, int64_t deadline_ms) {
    c.deadline_ms = deadline_ms;
    timers.Push(Timer{deadline_ms, c.id, ++c.timer_generation});
  }

  int NextTimeoutMs() { return timers.WaitMs(NowMs(), 60000); }

  void RunTimers(int64_t now) {
    timers.RunDue(now, [&](const Timer& timer) {
      if (timer.conn_id == 0) return ResumeAccept(timer.generation);
      Conn* found = conns.Find(timer.conn_id);
      if (found == nullptr || found->timer_generation != timer.generation) return;  // closed or re-armed
      Conn& c = *found;
      switch (c.state) {
        case State::kDetecting:
          // Server-speaks-first protocols (SMTP, MySQL) send nothing: after the detect timeout they
          // proceed as TCP instead of being dropped (Linkerd's ReadTimeout -> opaque on outbound).
          if (c.detect_tls_only) {
            Decide(c, kProtocolOpaque);  // a silent client on an opaque port: no mesh ClientHello came
            StartConnect(c);
            break;
          }
          Decide(c, kProtocolDetectTimeout);
          SpliceOrHandOff(c);
          break;
        case State::kConnecting:
          Close(c, ETIMEDOUT, false);
          break;
        case State::kSplicing:
          if (now - c.last_activity_ms >= c.idle_timeout_ms) {
            Close(c, ETIMEDOUT, false);
          } else {
            Arm(c, c.last_activity_ms + c.idle_timeout_ms);
          }
          break;
      }
    });
  }

  // === Teardown ===

  bool Register(Conn& c, int fd, Tag tag, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = Key(tag, c.id);
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0) return true;
    Close(c, errno, false);
    return false;
  }

  void CloseFds(Conn& c, bool reset) {
    if (reset) {
      ResetOnClose(c.client_fd);
      if (c.upstream_fd >= 0) ResetOnClose(c.upstream_fd);
    }
    ::close(c.client_fd);
    if (c.upstream_fd >= 0) ::close(c.upstream_fd);
    c.to_target.pipe.Close();
    c.to_client.pipe.Close();
  }

  void Close(Conn& c, int err, bool reset) {
    if (c.closed) return;
    c.closed = true;
    CloseFds(c, reset);
    c.src_cell->CountClose(err);
    if (c.dst_cell) c.dst_cell->CountClose(err);
    owner.closed_.Push(ClosedConnection{c.listener_id, c.protocol, std::move(c.sni), c.client, c.target,
                                        c.to_target.bytes_written,
                                        c.to_client.bytes_written,
                                        static_cast<uint64_t>(NowMs() - c.opened_ms), err,
                                        c.policy_close, c.policy_entry_id});
    owner.open_connections_.fetch_sub(1, std::memory_order_relaxed);
    conns.Bury(c);
  }
};

// === FrontDoor ===

FrontDoor::FrontDoor(std::function<void()> wake) : impl_(std::make_unique<Impl>(*this)), wake_(std::move(wake)) {}

FrontDoor::~FrontDoor() { Stop(); }

// On failure nothing stays open or set: a later Start() begins from scratch.
int FrontDoor::Start() {
  if (impl_->running.load()) return 0;
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return errno;
  int err = impl_->commands.Open();
  if (err != 0) {
    ::close(epoll_fd);
    return err;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Key(Tag::kWake, 0);
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, impl_->commands.wake_fd(), &ev) != 0) {
    err = errno;
    impl_->commands.Close();
    ::close(epoll_fd);
    return err;
  }
  impl_->epoll_fd = epoll_fd;
  impl_->running = true;
  impl_->thread = std::thread([this] { impl_->Loop(); });
  return 0;
}

int FrontDoor::Listen(const ListenerSpec& spec, uint16_t* bound_port) {
  int fd = ::socket(spec.bind.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, spec.bind.sa(), spec.bind.length) != 0 || ::listen(fd, static_cast<int>(spec.backlog)) != 0) {
    int err = errno;
    ::close(fd);
    return err;
  }
  *bound_port = Endpoint::Local(fd).port();
  bool posted = impl_->commands.Post([this, spec, fd] {
    impl_->listeners[spec.id] = Impl::Listener{spec, fd};
    impl_->ResumeAccept(spec.id);
  }, fd);
  return posted ? 0 : ENOTCONN;
}

void FrontDoor::SetTarget(uint32_t listener_id, const Endpoint& target) {
  impl_->commands.Post([this, listener_id, target] {
    auto it = impl_->listeners.find(listener_id);
    if (it != impl_->listeners.end()) it->second.spec.target = target;
  });
}

void FrontDoor::SetOpaquePorts(const std::bitset<65536>& ports) {
  impl_->commands.Post([this, ports] { impl_->opaque_ports = ports; });
}

void FrontDoor::SetLocalIdentity(const std::string& name) {
  std::string lower(name.size(), '\0');
  for (size_t i = 0; i < name.size(); i++) lower[i] = AsciiLower(name[i]);
  impl_->commands.Post([this, lower] { impl_->local_identity = lower; });
}

void FrontDoor::SetMeshedEndpoints(const std::vector<Endpoint>& endpoints) {
  auto table = std::make_shared<MeshedEndpoints>(endpoints);  // hashed here, not on the epoll thread
  impl_->commands.Post([this, table] { impl_->meshed = std::move(*table); });
}

void FrontDoor::SetInboundPolicy(std::shared_ptr<const policy::Table> table) {
  inbound_policy_.store(table.get(), std::memory_order_release);
  std::shared_ptr<const policy::Table> previous = std::move(inbound_policy_owner_);
  inbound_policy_owner_ = std::move(table);
  impl_->commands.Post([this, previous]() mutable {
    previous.reset();  // no event handler of this thread holds it any more
    impl_->ReevaluateInbound();
  });
}

int FrontDoor::Forward(int fd, uint32_t listener_id, const Endpoint& target, uint8_t protocol) {
  bool posted = impl_->commands.Post([this, fd, listener_id, target, protocol] {
    auto it = impl_->listeners.find(listener_id);
    if (it == impl_->listeners.end()) {
      ::close(fd);  // no listener of that id (gone with a restart): nothing to take its settings from
      return;
    }
    const ListenerSpec& spec = it->second.spec;
    auto conn = std::make_unique<Conn>();
    conn->listener_id = listener_id;
    conn->direction = spec.direction;
    conn->idle_timeout_ms = spec.idle_timeout_ms;
    conn->connect_timeout_ms = spec.connect_timeout_ms;
    conn->pipe_bytes = spec.pipe_bytes;
    conn->connect_liveness = spec.connect_liveness;
    conn->protocol = protocol;
    conn->client_fd = fd;
    conn->client.length = sizeof conn->client.storage;
    if (::getpeername(fd, conn->client.sa(), &conn->client.length) != 0) conn->client.length = 0;
    conn->target = target;
    conn->opened_ms = NowMs();
    // Counted in tcp_open_total when it was accepted; only the gauge comes back.
    conn->src_cell = stats_.Cell(conn->direction, Peer::kSrc, target);
    conn->src_cell->open_now.fetch_add(1, std::memory_order_relaxed);
    open_connections_.fetch_add(1, std::memory_order_relaxed);
    impl_->StartConnect(impl_->conns.Add(std::move(conn)));
  }, fd);
  return posted ? 0 : ENOTCONN;
}

void FrontDoor::CloseListeners() {
  impl_->commands.Post([this] {
    for (auto& [id, listener] : impl_->listeners) {
      if (listener.fd >= 0) ::close(listener.fd);
      listener.fd = -1;
    }
  });
}

void FrontDoor::CloseAll() {
  impl_->commands.Post([this] {
    for (uint64_t id : impl_->conns.Ids()) {
      if (Conn* c = impl_->conns.Find(id)) impl_->Close(*c, ECONNABORTED, false);
    }
  });
}

// After Stop no fd number of ours remains anywhere: commands still queued and handoffs TypeScript has
// not taken close their fds, and commands posted later are refused (closing theirs).
void FrontDoor::Stop() {
  if (!impl_->running.load()) return;
  impl_->running = false;
  impl_->commands.Refuse();  // wakes the loop, which sees `running` false
  impl_->thread.join();
  impl_->commands.Close();  // closes the fds of commands that never ran
  ::close(impl_->epoll_fd);
  impl_->epoll_fd = -1;
  for (const Handoff& handoff : TakeHandoffs()) ::close(handoff.fd);
}

std::vector<Handoff> FrontDoor::TakeHandoffs() {
  std::lock_guard<std::mutex> lock(handoff_mutex_);
  std::vector<Handoff> out;
  out.swap(handoffs_);
  return out;
}

}  // namespace meshlet::frontdoor
