// libFuzzer target for native/sniff/sniff.h: on arbitrary bytes, Sniff must stay in bounds and
// deterministic, keep its result well-formed, and give verdicts on prefixes that agree with longer input.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "sniff/sniff.h"

namespace {

using meshlet::sniff::kMaxPeekBytes;
using meshlet::sniff::kMinHttpBytes;
using meshlet::sniff::Result;
using meshlet::sniff::Sniff;
using meshlet::sniff::Verdict;

#define FUZZ_ASSERT(cond)                                                         \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

// Sniffs a prefix from an exact-size heap copy, so ASan flags any read past `len`.
Result SniffCopy(const uint8_t* data, size_t len) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[len == 0 ? 1 : len]);
  if (len > 0) std::memcpy(copy.get(), data, len);
  return Sniff(copy.get(), len);
}

bool IsDnsChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

void CheckShape(const Result& result, const uint8_t* data, size_t len) {
  FUZZ_ASSERT(static_cast<uint8_t>(result.verdict) <= static_cast<uint8_t>(Verdict::NotHttp));
  FUZZ_ASSERT(result.sni_len <= 253);
  FUZZ_ASSERT(result.sni[result.sni_len] == '\0');
  if (result.sni_len > 0) {
    FUZZ_ASSERT(result.verdict == Verdict::Tls);
    for (size_t i = 0; i < result.sni_len; ++i) FUZZ_ASSERT(IsDnsChar(result.sni[i]));
    FUZZ_ASSERT(memmem(data, len, result.sni, result.sni_len) != nullptr);
  }
  // A full peek budget always decides; so do 14 bytes of anything but TLS.
  if (len >= kMaxPeekBytes) FUZZ_ASSERT(result.verdict != Verdict::NeedMore);
  if (len >= kMinHttpBytes && data[0] != 0x16) FUZZ_ASSERT(result.verdict != Verdict::NeedMore);
  if (len == 0) FUZZ_ASSERT(result.verdict == Verdict::NeedMore);
  // 0x16 is not a token char: such input is TLS or nothing.
  if (len > 0 && data[0] == 0x16) {
    FUZZ_ASSERT(result.verdict == Verdict::NeedMore || result.verdict == Verdict::Tls ||
                result.verdict == Verdict::NotHttp);
  }
  // Linkerd's 14-byte minimum for any HTTP verdict, and its exact H2 rule.
  if (result.verdict == Verdict::Http1 || result.verdict == Verdict::Http2) {
    FUZZ_ASSERT(len >= kMinHttpBytes);
  }
  const bool preface = len >= kMinHttpBytes && std::memcmp(data, "PRI * HTTP/2.0", kMinHttpBytes) == 0;
  FUZZ_ASSERT(preface == (result.verdict == Verdict::Http2));
}

// What a caller that re-peeks relies on: only NeedMore and Http1 may change as bytes arrive, and
// Http1 may only turn into NotHttp (a later byte revealing a parse error).
void CheckConsistent(const Result& shorter, const Result& longer) {
  switch (shorter.verdict) {
    case Verdict::NeedMore:
      return;
    case Verdict::Http1:
      FUZZ_ASSERT(longer.verdict == Verdict::Http1 || longer.verdict == Verdict::NotHttp);
      return;
    default:
      FUZZ_ASSERT(std::memcmp(&shorter, &longer, sizeof(Result)) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Result full = Sniff(data, size);
  CheckShape(full, data, size);

  const Result again = Sniff(data, size);
  FUZZ_ASSERT(std::memcmp(&full, &again, sizeof(Result)) == 0);

  // Nothing past the budget is looked at.
  if (size > kMaxPeekBytes) {
    const Result capped = SniffCopy(data, kMaxPeekBytes);
    FUZZ_ASSERT(std::memcmp(&full, &capped, sizeof(Result)) == 0);
  }

  // Every adjacent pair of prefixes for small inputs (transitively, every pair); a sample otherwise.
  constexpr size_t kAllPrefixesUpTo = 384;
  if (size <= kAllPrefixesUpTo) {
    Result previous = SniffCopy(data, 0);
    for (size_t len = 1; len <= size; ++len) {
      const Result current = SniffCopy(data, len);
      CheckShape(current, data, len);
      CheckConsistent(previous, current);
      previous = current;
    }
  } else {
    const size_t samples[] = {1, 5, 9, kMinHttpBytes - 1, kMinHttpBytes, 64, size / 3, size / 2,
                              size - 1, kMaxPeekBytes - 1, kMaxPeekBytes};
    for (size_t len : samples) {
      if (len == 0 || len >= size) continue;
      const Result prefix = SniffCopy(data, len);
      CheckShape(prefix, data, len);
      CheckConsistent(prefix, full);
    }
  }
  return 0;
}
