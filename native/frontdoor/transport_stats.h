// Transport counters in Linkerd's shape (tcp_open_total, tcp_close_total{errno}, open gauge, bytes each
// way), keyed by direction, peer side and target. Written by the front-door thread with relaxed atomics,
// read by TypeScript as one snapshot per scrape; plus a bounded ring of closed-connection records.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
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

// Cells live as long as the process (the label set is bounded by the targets in use), so pointers
// handed to connections stay valid without reference counting.
class TransportStats {
 public:
  TransportCell* Cell(uint8_t direction, Peer peer, const Endpoint& target) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& cell : cells_) {
      if (cell->direction == direction && cell->peer == peer && cell->target == target) return cell.get();
    }
    auto cell = std::make_unique<TransportCell>();
    cell->direction = direction;
    cell->peer = peer;
    cell->target = target;
    cells_.push_back(std::move(cell));
    return cells_.back().get();
  }

  template <typename Visit>
  void ForEach(Visit visit) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& cell : cells_) visit(*cell);
  }

 private:
  std::mutex mutex_;
  std::deque<std::unique_ptr<TransportCell>> cells_;
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
