// The set of meshed endpoints (ip:port of peers with an identity, from discovery): outbound TCP to one
// of them is handed to TypeScript for mTLS origination instead of spliced. Built off the epoll thread,
// swapped in whole; Contains() is a hash lookup on the raw address bytes and port.
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "frontdoor/endpoint.h"

namespace meshlet::frontdoor {

class MeshedEndpoints {
 public:
  MeshedEndpoints() = default;
  explicit MeshedEndpoints(const std::vector<Endpoint>& endpoints) {
    for (const Endpoint& e : endpoints) {
      if (e.valid()) keys_.insert(Key(e));
    }
  }

  bool Contains(const Endpoint& e) const { return !keys_.empty() && e.valid() && keys_.count(Key(e)) != 0; }
  size_t size() const noexcept { return keys_.size(); }

 private:
  // family byte, port (network order), then the 4 or 16 address bytes: equal exactly when operator== is.
  static std::string Key(const Endpoint& e) {
    std::string key(1, static_cast<char>(e.family()));
    if (e.family() == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&e.storage);
      key.append(reinterpret_cast<const char*>(&v4->sin_port), 2);
      key.append(reinterpret_cast<const char*>(&v4->sin_addr), 4);
    } else if (e.family() == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&e.storage);
      key.append(reinterpret_cast<const char*>(&v6->sin6_port), 2);
      key.append(reinterpret_cast<const char*>(&v6->sin6_addr), 16);
    }
    return key;
  }

  std::unordered_set<std::string> keys_;
};

}  // namespace meshlet::frontdoor
