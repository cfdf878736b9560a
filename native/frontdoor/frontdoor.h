// The native front door: one epoll thread that owns the listeners, accepts, finds each connection's
// destination (SO_ORIGINAL_DST or the listener's target), sniffs the protocol with MSG_PEEK, splices
// opaque and non-HTTP traffic, and hands HTTP sockets (by fd) to TypeScript. No Node-API in here.
#pragma once

#include <atomic>
#include <bitset>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "frontdoor/endpoint.h"
#include "frontdoor/liveness.h"
#include "frontdoor/meshed_endpoints.h"
#include "frontdoor/transport_stats.h"
#include "policy/l4_policy.h"

namespace meshlet::frontdoor {

// Protocol values beyond sniff::Verdict, for connections whose protocol was not sniffed.
constexpr uint8_t kProtocolDetectTimeout = 254;  // the client said nothing within the detect timeout
constexpr uint8_t kProtocolOpaque = 255;         // detection skipped: the destination port is opaque
// A ClientHello whose SNI is this workload's identity (SetLocalIdentity): mTLS from a meshed peer, for
// TypeScript to terminate. Below 32 so that a handoff_mask bit can select it.
constexpr uint8_t kProtocolMeshTls = 5;
// handoff_mask bit (no protocol uses 6): TCP about to be spliced (opaque port, not HTTP, detect timeout)
// on an outbound listener whose destination is in the meshed table (SetMeshedEndpoints) is handed to
// TypeScript with Handoff::meshed_target instead, for mTLS origination.
constexpr uint32_t kHandoffMeshedTcp = 1u << 6;

// Whether an SNI names the local identity: ASCII case-insensitive, exact (no wildcard, no trailing dot).
// `identity` is lower-case (SetLocalIdentity folds it); an empty identity matches nothing.
bool SniIsLocalIdentity(const std::string& sni, const std::string& identity) noexcept;

// ListenerSpec::direction of the listeners whose connections the inbound policy decides.
constexpr uint8_t kDirectionInbound = 0;

// Every value comes from the caller (the MESHLET_* settings through listen()); there are no native
// defaults to drift from them.
struct ListenerSpec {
  uint32_t id = 0;
  Endpoint bind;
  uint8_t direction = 0;
  Endpoint target;                 // where connections go without an original destination; may be unset
  uint32_t detect_timeout_ms = 0;
  uint32_t connect_timeout_ms = 0;
  uint32_t idle_timeout_ms = 0;    // 0: idle spliced connections are never closed
  uint32_t pipe_bytes = 0;         // splice pipe per direction, opened on first need
  uint32_t handoff_mask = 0;       // bit (1 << sniff::Verdict or kProtocolMeshTls) set: hand that protocol to TypeScript; kHandoffMeshedTcp
  uint32_t backlog = 1024;         // listen(2) backlog (the kernel caps it at somaxconn)
  TcpLiveness accept_liveness;   // keepalive / TCP_USER_TIMEOUT of accepted sockets (kept after a handoff)
  TcpLiveness connect_liveness;  // the same for the upstream sockets the front door dials
};

// A connection given to TypeScript. From then on the fd is TypeScript's; the front door forgets it.
struct Handoff {
  int fd;
  uint32_t listener_id;
  uint8_t protocol;  // sniff::Verdict
  std::string sni;
  Endpoint client;
  Endpoint target;
  bool target_is_original;  // true when SO_ORIGINAL_DST named it (iptables redirect)
  bool meshed_target = false;  // TCP to a meshed endpoint (kHandoffMeshedTcp); `protocol` says why it is TCP
};

class FrontDoor {
 public:
  // `wake` is called on the front-door thread after handoffs were queued; it must be cheap and
  // thread-safe (the addon posts to the JS thread with it). Collect them with TakeHandoffs().
  explicit FrontDoor(std::function<void()> wake);
  ~FrontDoor();
  FrontDoor(const FrontDoor&) = delete;
  FrontDoor& operator=(const FrontDoor&) = delete;

  // Starts the epoll thread. Returns 0 or an errno; a failed start leaves nothing open, and Start()
  // may be called again, also after Stop().
  int Start();
  // Binds and listens synchronously (so errors reach the caller), then serves on the thread.
  // Returns 0 or an errno; *bound_port receives the actual port (for port 0).
  // ENOTCONN when not running.
  int Listen(const ListenerSpec& spec, uint16_t* bound_port);
  void SetTarget(uint32_t listener_id, const Endpoint& target);
  void SetOpaquePorts(const std::bitset<65536>& ports);
  // This workload's identity name ("" = none). From the next ClientHello on, one whose SNI equals it
  // (case-insensitive) on a listener whose handoff_mask has bit kProtocolMeshTls is handed off as
  // kProtocolMeshTls instead of spliced; other SNIs, and every SNI without an identity, are unchanged.
  // While it is set, an inbound opaque port (on a listener with the kProtocolMeshTls bit) still looks
  // for such a ClientHello — HTTP detection stays skipped; anything else, or silence until the detect
  // timeout, is spliced as opaque.
  void SetLocalIdentity(const std::string& name);
  // Replaces the meshed endpoint table (see kHandoffMeshedTcp); connections decided afterwards see it.
  void SetMeshedEndpoints(const std::vector<Endpoint>& endpoints);
  // Replaces the inbound L4 policy (null: allow everything). Connections accepted after the call see
  // the new table; open inbound connections it no longer allows are reset and counted as terminated.
  // Call from one thread only (the JS thread).
  void SetInboundPolicy(std::shared_ptr<const policy::Table> table);
  // Splices a connection that was handed off earlier and given back (TypeScript decided on TCP), with
  // the settings of listener `listener_id`. Takes the fd in every case: 0, or ENOTCONN (not running);
  // the fd is closed when not running or when no such listener exists.
  int Forward(int fd, uint32_t listener_id, const Endpoint& target, uint8_t protocol);
  // Stops accepting; open connections keep going.
  void CloseListeners();
  // Closes every connection the front door still owns.
  void CloseAll();
  // Joins the thread and closes every fd the front door still owns: connections, listeners, fds in
  // commands still queued and handoffs not yet taken. Commands posted afterwards close their fds.
  void Stop();

  std::vector<Handoff> TakeHandoffs();
  size_t OpenConnections() const { return open_connections_.load(std::memory_order_relaxed); }
  // Connections per direction and decided protocol (sniff::Verdict or kProtocol*), since start.
  uint64_t DetectCount(uint8_t direction, uint8_t protocol) const {
    return detect_counts_[direction & 1][protocol].load(std::memory_order_relaxed);
  }
  TransportStats& stats() { return stats_; }
  ClosedConnectionRing& closed_connections() { return closed_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::function<void()> wake_;
  std::atomic<size_t> open_connections_{0};
  std::atomic<uint64_t> detect_counts_[2][256] = {};
  TransportStats stats_;
  ClosedConnectionRing closed_{4096};
  // Read by the epoll thread at each decision, never held across events; the owner below (touched by
  // SetInboundPolicy's thread only) keeps it alive, and a replaced table is released on the epoll
  // thread, after the event that may have been reading it.
  std::atomic<const policy::Table*> inbound_policy_{nullptr};
  std::shared_ptr<const policy::Table> inbound_policy_owner_;
  std::mutex handoff_mutex_;
  std::vector<Handoff> handoffs_;

  friend struct Impl;
};

}  // namespace meshlet::frontdoor
