// A connection the front door owns (client side, upstream side, splice flows, deadlines, counters) and
// the table that holds them. Freeing is deferred: Bury() takes a connection out of every lookup but
// keeps its memory until EndTurn(), which the loop calls once per turn, after every handler of the
// turn returned — so a Conn& held by a caller when the connection is closed stays valid by construction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "frontdoor/endpoint.h"
#include "frontdoor/liveness.h"
#include "frontdoor/transport_stats.h"
#include "splice/splice.h"

namespace meshlet::frontdoor {

enum class ConnState : uint8_t { kDetecting, kConnecting, kSplicing };

struct Conn {
  uint64_t id = 0;  // set by ConnTable::Add, never 0
  uint32_t listener_id = 0;
  uint8_t direction = 0;
  uint32_t idle_timeout_ms = 0;
  uint32_t connect_timeout_ms = 0;
  uint32_t pipe_bytes = 0;
  uint32_t handoff_mask = 0;
  TcpLiveness connect_liveness;
  ConnState state = ConnState::kDetecting;
  uint8_t protocol = 255;  // kProtocolOpaque until decided
  std::string sni;
  int client_fd = -1;
  int upstream_fd = -1;
  bool client_registered = false;
  bool client_rdhup = false;
  bool upstream_rdhup = false;
  Endpoint client;
  Endpoint target;
  bool target_is_original = false;
  bool detect_tls_only = false;  // an inbound opaque port with an identity: only a mesh ClientHello is looked for
  int64_t opened_ms = 0;
  int64_t deadline_ms = 0;
  int64_t last_activity_ms = 0;
  uint32_t timer_generation = 0;
  splice::Flow to_target;
  splice::Flow to_client;
  TransportCell* src_cell = nullptr;
  TransportCell* dst_cell = nullptr;
  PolicyClose policy_close = PolicyClose::kNone;  // set just before a policy close
  uint32_t policy_entry_id = 0;
  bool closed = false;  // closed or handed off: its fds are gone, it waits in the graveyard
};

class ConnTable {
 public:
  // Takes `conn`, gives it the next id and returns it.
  Conn& Add(std::unique_ptr<Conn> conn) {
    conn->id = next_id_++;
    Conn& c = *conn;
    live_.emplace(c.id, std::move(conn));
    return c;
  }

  // The live connection with `id`, or null (never existed, or buried — e.g. closed earlier this turn).
  Conn* Find(uint64_t id) {
    auto it = live_.find(id);
    return it == live_.end() ? nullptr : it->second.get();
  }

  // Takes `c` out of every lookup; its memory stays valid until EndTurn().
  void Bury(Conn& c) {
    auto it = live_.find(c.id);
    if (it == live_.end()) return;
    graveyard_.push_back(std::move(it->second));
    live_.erase(it);
  }

  // Frees the connections buried during this turn. Only the loop calls it, between turns.
  void EndTurn() { graveyard_.clear(); }

  // The ids of the live connections (a copy: the caller may close them while walking it).
  std::vector<uint64_t> Ids() const {
    std::vector<uint64_t> ids;
    ids.reserve(live_.size());
    for (const auto& [id, conn] : live_) ids.push_back(id);
    return ids;
  }

  size_t size() const { return live_.size(); }
  size_t buried() const { return graveyard_.size(); }

 private:
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> live_;
  std::vector<std::unique_ptr<Conn>> graveyard_;
  uint64_t next_id_ = 1;
};

}  // namespace meshlet::frontdoor
