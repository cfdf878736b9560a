// The inbound L4 authorization table: per destination port, which client networks may connect and
// whether a verified identity is required, plus allow/deny/terminate counters per entry id. Built on
// one thread, then read-only (shared by pointer with the front door). No Node-API, no sockets.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace meshlet::policy {

// An IP address in canonical form: IPv4-mapped IPv6 addresses are stored as IPv4, so a client of a
// dual-stack listener matches IPv4 networks. Families never match each other otherwise (as Linkerd's
// ipnet: "::/0" does not contain 10.0.0.1).
struct Address {
  uint8_t family = 0;      // AF_INET, AF_INET6; 0: none (matches no network)
  uint8_t bytes[16] = {};  // network order; IPv4 uses the first 4

  size_t bits() const noexcept { return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0; }

  static Address V4(const uint8_t b[4]) noexcept {
    Address a;
    a.family = AF_INET;
    std::memcpy(a.bytes, b, 4);
    return a;
  }

  static Address V6(const uint8_t b[16]) noexcept {
    static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMappedPrefix, 12) == 0) return V4(b + 12);
    Address a;
    a.family = AF_INET6;
    std::memcpy(a.bytes, b, 16);
    return a;
  }

  // From accept()/getpeername(); an address of another family (or too short) gives family 0.
  static Address FromSockaddr(const sockaddr* sa, socklen_t length) noexcept {
    if (sa->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
      return V4(reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(sa)->sin_addr));
    }
    if (sa->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
      return V6(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr);
    }
    return Address{};
  }

  // A numeric IPv4 ("10.1.2.3") or IPv6 ("fd00::1", "::ffff:10.1.2.3") address, without brackets,
  // zone or whitespace. False for anything else.
  static bool Parse(std::string_view text, Address* out) noexcept {
    char buf[INET6_ADDRSTRLEN];
    if (text.empty() || text.size() >= sizeof buf) return false;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    if (std::memchr(text.data(), '\0', text.size()) != nullptr) return false;
    uint8_t raw[16];
    if (::inet_pton(AF_INET, buf, raw) == 1) {
      *out = V4(raw);
      return true;
    }
    if (::inet_pton(AF_INET6, buf, raw) == 1) {
      *out = V6(raw);
      return true;
    }
    return false;
  }
};

// Whether the first `bits` bits of a and b are equal.
inline bool SamePrefix(const uint8_t* a, const uint8_t* b, size_t bits) noexcept {
  size_t whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  size_t rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

// A network: address and prefix length, host bits cleared.
struct Cidr {
  Address network;
  uint8_t prefix_bits = 0;

  bool Contains(const Address& a) const noexcept {
    return a.family == network.family && network.family != 0 && SamePrefix(a.bytes, network.bytes, prefix_bits);
  }

  // "10.0.0.0/8", "fd00::/8", a bare address (a host: /32 or /128). Host bits are cleared
  // ("10.1.2.3/8" is 10.0.0.0/8, as ipnet's trunc). An IPv4-mapped IPv6 network of prefix >= 96
  // ("::ffff:10.0.0.0/104") is the IPv4 network it maps (10.0.0.0/8). The prefix is 1-3 decimal
  // digits. False for anything else.
  static bool Parse(std::string_view text, Cidr* out) noexcept {
    size_t slash = text.find('/');
    std::string_view ip = text.substr(0, slash);
    bool mapped = false;
    Address address;
    if (!Address::Parse(ip, &address)) return false;
    if (address.family == AF_INET && ip.find(':') != std::string_view::npos) mapped = true;
    size_t prefix = address.bits() + (mapped ? 96 : 0);
    if (slash != std::string_view::npos) {
      std::string_view digits = text.substr(slash + 1);
      if (digits.empty() || digits.size() > 3) return false;
      prefix = 0;
      for (char c : digits) {
        if (c < '0' || c > '9') return false;
        prefix = prefix * 10 + static_cast<size_t>(c - '0');
      }
    }
    if (mapped) {
      // Written as IPv6: a prefix below 96 names more than the mapped range, so it stays IPv6.
      if (prefix > 128) return false;
      if (prefix < 96) {
        static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        uint8_t raw[16];
        std::memcpy(raw, kMappedPrefix, 12);
        std::memcpy(raw + 12, address.bytes, 4);
        address.family = AF_INET6;
        std::memcpy(address.bytes, raw, 16);
      } else {
        prefix -= 96;
      }
    }
    if (prefix > address.bits()) return false;
    Cidr cidr;
    cidr.network.family = address.family;
    cidr.prefix_bits = static_cast<uint8_t>(prefix);
    size_t whole = prefix / 8;
    std::memcpy(cidr.network.bytes, address.bytes, whole);
    if (prefix % 8 != 0) cidr.network.bytes[whole] = static_cast<uint8_t>(address.bytes[whole] & (0xff << (8 - prefix % 8)));
    *out = cidr;
    return true;
  }
};

// A NetworkAuthentication network: the cidr minus its exceptions.
struct Network {
  Cidr cidr;
  std::vector<Cidr> except;

  bool Contains(const Address& a) const noexcept {
    if (!cidr.Contains(a)) return false;
    for (const Cidr& e : except) {
      if (e.Contains(a)) return false;
    }
    return true;
  }
};

// One authorization: any of its networks, and an identity when required.
struct Rule {
  std::vector<Network> networks;
  bool require_identity = false;  // needs a verified mTLS client identity

  bool Matches(const Address& client, bool client_has_identity) const noexcept {
    if (require_identity && !client_has_identity) return false;
    for (const Network& n : networks) {
      if (n.Contains(client)) return true;
    }
    return false;
  }
};

// Counters of one entry id; they outlive tables (a push keeps counting where the last one stopped).
struct Counters {
  explicit Counters(uint32_t i) : id(i) {}
  const uint32_t id;
  std::atomic<uint64_t> allow{0};
  std::atomic<uint64_t> deny{0};
  std::atomic<uint64_t> terminate{0};
};

struct CountersRow {
  uint32_t id;
  uint64_t allow;
  uint64_t deny;
  uint64_t terminate;
};

// Every entry id's counters since the process started. Cells are created (under the lock) while a
// table is built and never move or go away; the front door bumps them without the lock.
class CounterStore {
 public:
  static constexpr size_t kMaxIds = 1 << 17;

  // The cell for `id`, created on first use; nullptr once kMaxIds distinct ids exist.
  Counters* Get(uint32_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_id_.find(id);
    if (it != by_id_.end()) return it->second;
    if (cells_.size() >= kMaxIds) return nullptr;
    Counters* cell = &cells_.emplace_back(id);
    by_id_.emplace(id, cell);
    return cell;
  }

  // A copy of every cell, in creation order.
  std::vector<CountersRow> Snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<CountersRow> rows;
    rows.reserve(cells_.size());
    for (const Counters& c : cells_) {
      rows.push_back({c.id, c.allow.load(std::memory_order_relaxed), c.deny.load(std::memory_order_relaxed),
                      c.terminate.load(std::memory_order_relaxed)});
    }
    return rows;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<Counters> cells_;
  std::unordered_map<uint32_t, Counters*> by_id_;
};

enum class Mode : uint8_t {
  kDeny,   // refuse every connection at accept, HTTP included
  kCheck,  // TCP connections must match a rule; HTTP is decided per request elsewhere
};

// The policy of one destination port (or of every port without one: the default entry).
struct Entry {
  uint32_t id = 0;
  Mode mode = Mode::kCheck;
  bool audit = false;          // would-be denials are allowed and counted as allowed
  std::vector<Rule> rules;     // any allows; none: deny all
  Counters* counters = nullptr;  // may be null (tests)

  // Whether a connection to this port is refused before detection (deny mode, not audited).
  bool RefusesAtAccept() const noexcept { return mode == Mode::kDeny && !audit; }

  bool Allows(const Address& client, bool client_has_identity) const noexcept {
    if (audit) return true;
    if (mode == Mode::kDeny) return false;
    for (const Rule& r : rules) {
      if (r.Matches(client, client_has_identity)) return true;
    }
    return false;
  }
};

struct Decision {
  const Entry* entry;
  bool allowed;
};

// Counts a decision taken for a new connection: allow (audited ones included) or deny.
inline void CountDecision(const Decision& d) noexcept {
  if (d.entry->counters == nullptr) return;
  (d.allowed ? d.entry->counters->allow : d.entry->counters->deny).fetch_add(1, std::memory_order_relaxed);
}

inline void CountTerminate(const Entry& entry) noexcept {
  if (entry.counters != nullptr) entry.counters->terminate.fetch_add(1, std::memory_order_relaxed);
}

class Table {
 public:
  Table(uint64_t generation, Entry default_entry) : generation_(generation), default_(std::move(default_entry)) {}

  uint64_t generation() const noexcept { return generation_; }

  // Sets the entries of destination ports (replacing any). Returns the port named twice, or 0.
  // The table is read-only once it is shared.
  uint16_t SetPorts(std::vector<std::pair<uint16_t, Entry>> entries) {
    ports_ = std::move(entries);
    std::stable_sort(ports_.begin(), ports_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < ports_.size(); i++) {
      if (ports_[i - 1].first == ports_[i].first) return ports_[i].first;
    }
    return 0;
  }

  const Entry& ForPort(uint16_t port) const noexcept {
    auto it = std::lower_bound(ports_.begin(), ports_.end(), port, [](const auto& e, uint16_t p) { return e.first < p; });
    return it != ports_.end() && it->first == port ? it->second : default_;
  }

  Decision Decide(uint16_t port, const Address& client, bool client_has_identity) const noexcept {
    const Entry& entry = ForPort(port);
    return Decision{&entry, entry.Allows(client, client_has_identity)};
  }

 private:
  uint64_t generation_;
  Entry default_;
  std::vector<std::pair<uint16_t, Entry>> ports_;  // sorted by port
};

}  // namespace meshlet::policy
