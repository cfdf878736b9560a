// libFuzzer target for native/policy/l4_policy.h: on arbitrary text, Cidr::Parse and Address::Parse
// stay in bounds and, when they accept, give a canonical network (host bits clear, prefix within the
// family) that contains its own address, prints and parses back to itself, and matches addresses
// exactly as a bit-by-bit comparison does.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "policy/l4_policy.h"

namespace {

using meshlet::policy::Address;
using meshlet::policy::Cidr;

#define FUZZ_ASSERT(cond)                                                                 \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);    \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

bool Bit(const uint8_t* bytes, size_t i) { return (bytes[i / 8] >> (7 - i % 8)) & 1; }

bool SameAddress(const Address& a, const Address& b) {
  return a.family == b.family && std::memcmp(a.bytes, b.bytes, 16) == 0;
}

std::string Print(const Address& a) {
  char buf[INET6_ADDRSTRLEN] = {0};
  ::inet_ntop(a.family, a.bytes, buf, sizeof buf);
  return buf;
}

// A client address from raw bytes: the first decides the family (IPv4, IPv6, IPv4-mapped IPv6).
Address ClientFrom(const uint8_t* data, size_t len) {
  uint8_t raw[17] = {0};
  std::memcpy(raw, data, len < sizeof raw ? len : sizeof raw);
  switch (raw[0] % 3) {
    case 0:
      return Address::V4(raw + 1);
    case 1:
      return Address::V6(raw + 1);
    default: {
      uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      std::memcpy(mapped + 12, raw + 1, 4);
      return Address::V6(mapped);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Text up to the first newline (or all of it); the rest, if any, is a client address.
  const uint8_t* newline = static_cast<const uint8_t*>(std::memchr(data, '\n', size));
  size_t text_len = newline ? static_cast<size_t>(newline - data) : size;
  std::unique_ptr<char[]> text(new char[text_len == 0 ? 1 : text_len]);  // exact size: ASan sees overreads
  if (text_len > 0) std::memcpy(text.get(), data, text_len);
  std::string_view view(text.get(), text_len);

  Address address;
  if (Address::Parse(view, &address)) {
    FUZZ_ASSERT(address.family == AF_INET || address.family == AF_INET6);
    Address again;
    FUZZ_ASSERT(Address::Parse(Print(address), &again));
    FUZZ_ASSERT(SameAddress(address, again));
  }

  Cidr cidr;
  if (!Cidr::Parse(view, &cidr)) return 0;
  FUZZ_ASSERT(cidr.network.family == AF_INET || cidr.network.family == AF_INET6);
  size_t bits = cidr.network.bits();
  FUZZ_ASSERT(cidr.prefix_bits <= bits);
  for (size_t i = cidr.prefix_bits; i < 128; i++) FUZZ_ASSERT(!Bit(cidr.network.bytes, i));
  FUZZ_ASSERT(cidr.Contains(cidr.network));
  Cidr again;
  std::string printed = Print(cidr.network) + "/" + std::to_string(cidr.prefix_bits);
  FUZZ_ASSERT(Cidr::Parse(printed, &again));
  FUZZ_ASSERT(SameAddress(again.network, cidr.network) && again.prefix_bits == cidr.prefix_bits);

  if (newline != nullptr) {
    Address client = ClientFrom(newline + 1, size - text_len - 1);
    bool expected = client.family == cidr.network.family;
    for (size_t i = 0; expected && i < cidr.prefix_bits; i++) {
      expected = Bit(client.bytes, i) == Bit(cidr.network.bytes, i);
    }
    FUZZ_ASSERT(cidr.Contains(client) == expected);
  }
  return 0;
}
