// Socket addresses as the front door uses them: IPv4/IPv6 endpoints that parse from and print to
// "ip:port" / "[ip]:port", compare, and come from accept/getsockname/SO_ORIGINAL_DST.
#pragma once

#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace meshlet::frontdoor {

// IP6T_SO_ORIGINAL_DST from <linux/netfilter_ipv6/ip6_tables.h>, which does not compile as C++.
constexpr int kIp6SoOriginalDst = 80;

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;

  bool valid() const noexcept { return length != 0; }
  int family() const noexcept { return storage.ss_family; }
  const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* sa() noexcept { return reinterpret_cast<sockaddr*>(&storage); }

  uint16_t port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    return 0;
  }

  // Parses a numeric IP (v4 or v6, without brackets) and a port. Returns false if `ip` is not numeric.
  static bool FromIp(const std::string& ip, uint16_t port, Endpoint* out) noexcept {
    Endpoint e;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&e.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.storage);
    if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port);
      e.length = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(port);
      e.length = sizeof(sockaddr_in6);
    } else {
      return false;
    }
    *out = e;
    return true;
  }

  std::string ip() const {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (family() == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
    } else if (family() == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
    }
    return buf;
  }

  bool operator==(const Endpoint& other) const noexcept {
    if (family() != other.family() || port() != other.port()) return false;
    if (family() == AF_INET) {
      return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr ==
             reinterpret_cast<const sockaddr_in*>(&other.storage)->sin_addr.s_addr;
    }
    if (family() == AF_INET6) {
      return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr,
                         &reinterpret_cast<const sockaddr_in6*>(&other.storage)->sin6_addr, 16) == 0;
    }
    return false;
  }

  static Endpoint Local(int fd) noexcept {
    Endpoint e;
    e.length = sizeof e.storage;
    if (::getsockname(fd, e.sa(), &e.length) != 0) e.length = 0;
    return e;
  }

  // The destination before an iptables REDIRECT/DNAT, or an invalid endpoint when there was none.
  static Endpoint OriginalDestination(int fd, int family) noexcept {
    Endpoint e;
    e.length = sizeof e.storage;
    int rc = family == AF_INET6 ? ::getsockopt(fd, SOL_IPV6, kIp6SoOriginalDst, e.sa(), &e.length)
                                : ::getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, e.sa(), &e.length);
    if (rc != 0) e.length = 0;
    return e;
  }
};

}  // namespace meshlet::frontdoor
