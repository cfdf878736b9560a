// Transport counters in Linkerd's shape (tcp_open_total, tcp_close_total{errno}, open gauge, bytes each
// way), keyed by direction, peer side and target. Written by the front-door thread with relaxed atomics,
// read by TypeScript as one snapshot per scrape; plus a bounded ring of closed-connection records.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "frontdoor/endpoint.h"

namespace meshlet::frontdoor {

enum class Peer : uint8_t { kSrc = 0, kDst = 1 };  // accepted by us / opened by us (Linkerd's peer label)

constexpr int kMaxTrackedErrno = 134;  // errno values above this are folded into the last slot

struct TransportCell {
  uint8_t direction;  // index into the listener directions TS defined (0 inbound, 1 outbound)
  Peer peer;
  Endpoint target;
  std::atomic<uint64_t> open_total{0};
  std::atomic<int64_t> open_now{0};
  std::atomic<uint64_t> read_bytes{0};
  std::atomic<uint64_t> write_bytes{0};
  std::atomic<uint64_t> close_by_errno[kMaxTrackedErrno + 1] = {};

  void CountClose(int err) noexcept {
    int slot = err < 0 ? 0 : (err > kMaxTrackedErrno ? kMaxTrackedErrno : err);
    close_by_errno[slot].fetch_add(1, std::memory_order_relaxed);
    open_now.fetch_sub(1, std::memory_order_relaxed);
  }
};

// A cell's counters read at one moment: plain values, so a scrape copies them under the lock and
// builds its JS objects after releasing it.
struct TransportCellSnapshot {
  uint8_t direction;
  Peer peer;
  Endpoint target;
  uint64_t open_total;
  int64_t open_now;
  uint64_t read_bytes;
  uint64_t write_bytes;
  std::vector<std::pair<int, uint64_t>> closes;  // (errno, count) for every non-zero count
};

// Cells live as long as the process (the label set is bounded by the targets in use), so pointers
// handed to connections stay valid without reference counting. A cell is found by hashing its
// (direction, peer, target) key; the lock guards only the index, never a scrape's JS work.
class TransportStats {
 public:
  TransportCell* Cell(uint8_t direction, Peer peer, const Endpoint& target) {
    Key key = MakeKey(direction, peer, target);
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = index_.find(key);
    if (found != index_.end()) return found->second;
    auto cell = std::make_unique<TransportCell>();
    cell->direction = direction;
    cell->peer = peer;
    cell->target = target;
    cells_.push_back(std::move(cell));
    index_.emplace(key, cells_.back().get());
    return cells_.back().get();
  }

  // Every cell's counters, copied under the lock (a few loads per cell).
  std::vector<TransportCellSnapshot> Snapshot() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<TransportCellSnapshot> out;
    out.reserve(cells_.size());
    for (auto& cell : cells_) {
      TransportCellSnapshot row{cell->direction, cell->peer, cell->target,
                                cell->open_total.load(std::memory_order_relaxed),
                                cell->open_now.load(std::memory_order_relaxed),
                                cell->read_bytes.load(std::memory_order_relaxed),
                                cell->write_bytes.load(std::memory_order_relaxed), {}};
      for (int e = 0; e <= kMaxTrackedErrno; e++) {
        uint64_t count = cell->close_by_errno[e].load(std::memory_order_relaxed);
        if (count != 0) row.closes.emplace_back(e, count);
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  size_t size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cells_.size();
  }

 private:
  // direction, peer, address family, port and the 16 address bytes (IPv4 in the first 4); an endpoint
  // that is not set (no target) is one key of its own.
  struct Key {
    uint8_t bytes[22] = {};
    bool operator==(const Key& other) const noexcept { return std::memcmp(bytes, other.bytes, sizeof bytes) == 0; }
  };
  struct KeyHash {
    size_t operator()(const Key& key) const noexcept {
      uint64_t h = 1469598103934665603ull;  // FNV-1a
      for (uint8_t b : key.bytes) h = (h ^ b) * 1099511628211ull;
      return static_cast<size_t>(h);
    }
  };

  static Key MakeKey(uint8_t direction, Peer peer, const Endpoint& target) noexcept {
    Key key;
    key.bytes[0] = direction;
    key.bytes[1] = static_cast<uint8_t>(peer);
    if (!target.valid()) return key;
    key.bytes[2] = static_cast<uint8_t>(target.family());
    uint16_t port = target.port();
    std::memcpy(key.bytes + 3, &port, 2);
    if (target.family() == AF_INET) {
      std::memcpy(key.bytes + 5, &reinterpret_cast<const sockaddr_in*>(&target.storage)->sin_addr, 4);
    } else if (target.family() == AF_INET6) {
      std::memcpy(key.bytes + 5, &reinterpret_cast<const sockaddr_in6*>(&target.storage)->sin6_addr, 16);
    }
    return key;
  }

  std::mutex mutex_;
  std::deque<std::unique_ptr<TransportCell>> cells_;
  std::unordered_map<Key, TransportCell*, KeyHash> index_;
};

// What one finished connection did, for access logs and tap. Kept in a bounded ring: when TypeScript
// does not drain it, the oldest records are dropped and counted.
// Why the inbound policy closed a connection (ClosedConnection::policy).
enum class PolicyClose : uint8_t {
  kNone = 0,
  kDenied = 1,      // refused at accept or before dialing
  kTerminated = 2,  // allowed once, then denied by a newer table
};

struct ClosedConnection {
  uint32_t listener_id;
  uint8_t protocol;  // sniff::Verdict, kProtocolDetectTimeout or kProtocolOpaque
  std::string sni;   // TLS server name when the client sent one
  Endpoint client;
  Endpoint target;
  uint64_t client_to_target_bytes;
  uint64_t target_to_client_bytes;
  uint64_t duration_ms;
  int close_errno;
  PolicyClose policy = PolicyClose::kNone;
  uint32_t policy_entry_id = 0;  // the entry that denied it, when `policy` says so
};

class ClosedConnectionRing {
 public:
  explicit ClosedConnectionRing(size_t capacity) : capacity_(capacity) {}

  void Push(const ClosedConnection& record) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (records_.size() == capacity_) {
      records_.pop_front();
      dropped_++;
    }
    records_.push_back(record);
  }

  std::vector<ClosedConnection> Drain(uint64_t* dropped_out) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<ClosedConnection> out(records_.begin(), records_.end());
    records_.clear();
    *dropped_out = dropped_;
    return out;
  }

 private:
  std::mutex mutex_;
  size_t capacity_;
  std::deque<ClosedConnection> records_;
  uint64_t dropped_ = 0;
};

}  // namespace meshlet::frontdoor
