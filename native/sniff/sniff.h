// Protocol sniffing of a connection's first bytes (peeked by the caller with MSG_PEEK): HTTP/1
// request line, HTTP/2 prior-knowledge preface, TLS ClientHello + SNI. Pure: no I/O, no allocation,
// O(len). Follows linkerd2-proxy's detection, but asks for more bytes where Linkerd would guess.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace meshlet::sniff {

enum class Verdict : uint8_t {
  NeedMore = 0,  // a valid prefix of HTTP/1, HTTP/2 or a ClientHello: peek again when more arrives
  Http1 = 1,
  Http2 = 2,
  Tls = 3,       // a ClientHello; `sni` holds its host_name when it had a valid one
  NotHttp = 4,   // cannot be any of the above: forward as opaque TCP
};

struct Result {
  Verdict verdict;
  uint16_t sni_len;  // bytes in `sni`; 0 unless verdict == Tls and the hello named a valid DNS host
  char sni[256];     // host_name as sent (not case-folded), NUL-terminated; "" when sni_len == 0
};

// TLS ClientHello budget: Linkerd's BUFFER_CAPACITY (linkerd/tls/src/server.rs). Sniff never looks
// past this many bytes, so a verdict on kMaxPeekBytes bytes is final.
constexpr size_t kMaxPeekBytes = 8192;

// Linkerd decides HTTP only on >= 14 bytes: the H2 preface prefix "PRI * HTTP/2.0" and the smallest
// HTTP/1 request "GET / HTTP/1.1" are both 14 bytes (linkerd/http/detect/src/lib.rs).
constexpr size_t kMinHttpBytes = 14;

// Classifies the first `len` bytes of a connection. Reads only data[0, min(len, kMaxPeekBytes)),
// keeps no reference to it, never allocates. Deterministic, and a verdict other than NeedMore or
// Http1 stays the same for every longer input with the same prefix.
inline Result Sniff(const uint8_t* data, size_t len) noexcept;

// Lower-case name of a verdict ("need_more", "http/1", ...) for logs and tests; static storage.
constexpr const char* VerdictName(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::NeedMore: return "need_more";
    case Verdict::Http1: return "http/1";
    case Verdict::Http2: return "http/2";
    case Verdict::Tls: return "tls";
    case Verdict::NotHttp: return "not_http";
  }
  return "invalid";
}

namespace detail {

// === HTTP ===

constexpr char kH2PrefacePrefix[] = "PRI * HTTP/2.0";  // first 14 of the 24-byte preface (RFC 9113 §3.4)
static_assert(sizeof(kH2PrefacePrefix) - 1 == kMinHttpBytes, "Linkerd checks exactly 14 preface bytes");

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//                          "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
constexpr bool IsTokenChar(uint8_t c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// Request-target bytes as far as detection cares: anything but SP and the line ends. Whether the
// target is valid (visible ASCII only: no NUL or other controls, no DEL) is for the HTTP engine to
// answer with 400; detecting such a request as "not HTTP" would splice it to the app unchecked.
constexpr bool IsTargetChar(uint8_t c) noexcept { return c != ' ' && c != '\r' && c != '\n'; }

constexpr bool IsDigit(uint8_t c) noexcept { return c >= '0' && c <= '9'; }

enum class Http1Scan : uint8_t { Invalid, Partial, Complete };

// Scans an HTTP/1 request head like linkerd2-proxy does (httparse::Request::parse with zero header
// slots, where Partial, Complete and TooManyHeaders all mean HTTP/1), on the shape of the request
// line (RFC 9112 §3): request-line = method SP request-target SP HTTP-version CRLF, method = token
// (case-sensitive, no whitelist), HTTP-version = "HTTP/" DIGIT "." DIGIT. Two differences:
// - a request line of that shape is HTTP/1 even when its target holds control bytes or its version
//   is not 1.0/1.1 (httparse fails, so Linkerd splices it as TCP): the HTTP engine answers 400 / 505,
//   as RFC 9112 and HAProxy do, instead of passing it to the app;
// - leading empty lines (RFC 9112 §2.2 robustness) are not skipped, so a CRLF flood is not HTTP.
inline Http1Scan ScanHttp1(const uint8_t* p, size_t len) noexcept {
  size_t i = 0;

  // method: one or more tchar, then exactly one SP (httparse rejects repeated SP by default).
  if (i == len) return Http1Scan::Partial;
  if (!IsTokenChar(p[i])) return Http1Scan::Invalid;
  while (i < len && IsTokenChar(p[i])) ++i;
  if (i == len) return Http1Scan::Partial;
  if (p[i++] != ' ') return Http1Scan::Invalid;

  // request-target: one or more bytes other than SP/CR/LF, then one SP.
  if (i == len) return Http1Scan::Partial;
  if (!IsTargetChar(p[i])) return Http1Scan::Invalid;
  while (i < len && IsTargetChar(p[i])) ++i;
  if (i == len) return Http1Scan::Partial;
  if (p[i++] != ' ') return Http1Scan::Invalid;

  // HTTP-version: "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3). Lower case or a
  // multi-digit version is not HTTP; HTTP/2.0 or HTTP/1.2 in a request line is HTTP the engine refuses.
  static constexpr char kVersionPrefix[] = "HTTP/";
  for (size_t k = 0; k < sizeof(kVersionPrefix) - 1; ++k, ++i) {
    if (i == len) return Http1Scan::Partial;
    if (p[i] != static_cast<uint8_t>(kVersionPrefix[k])) return Http1Scan::Invalid;
  }
  if (i == len) return Http1Scan::Partial;
  if (!IsDigit(p[i++])) return Http1Scan::Invalid;
  if (i == len) return Http1Scan::Partial;
  if (p[i++] != '.') return Http1Scan::Invalid;
  if (i == len) return Http1Scan::Partial;
  if (!IsDigit(p[i++])) return Http1Scan::Invalid;

  // End of the request line: CRLF, or a bare LF (RFC 9112 §2.2 lets a recipient accept it; httparse does).
  if (i == len) return Http1Scan::Partial;
  if (p[i] == '\r') {
    if (++i == len) return Http1Scan::Partial;
    if (p[i] != '\n') return Http1Scan::Invalid;
  } else if (p[i] != '\n') {
    return Http1Scan::Invalid;
  }
  ++i;

  // First byte of the header section. With zero header slots httparse stops here: an empty line is
  // Complete, a field-name start (tchar, RFC 9110 §5.1) is TooManyHeaders, anything else (e.g. the
  // obs-fold SP that RFC 9112 §5.2 forbids before the first field) is an error.
  if (i == len) return Http1Scan::Partial;
  if (p[i] == '\r') {
    if (++i == len) return Http1Scan::Partial;
    return p[i] == '\n' ? Http1Scan::Complete : Http1Scan::Invalid;
  }
  if (p[i] == '\n' || IsTokenChar(p[i])) return Http1Scan::Complete;
  return Http1Scan::Invalid;
}

// === TLS ===

constexpr uint8_t kTlsContentHandshake = 22;       // RFC 8446 §5.1 ContentType.handshake
constexpr uint8_t kTlsHandshakeClientHello = 1;    // RFC 8446 §4 HandshakeType.client_hello
constexpr uint16_t kTlsExtensionServerName = 0;    // RFC 6066 §3 ExtensionType.server_name
constexpr uint8_t kTlsNameTypeHostName = 0;        // RFC 6066 §3 NameType.host_name
constexpr size_t kTlsRecordHeaderBytes = 5;
constexpr size_t kTlsHandshakeHeaderBytes = 4;
constexpr size_t kTlsMaxRecordBodyBytes = 16384;   // RFC 8446 §5.1: length MUST NOT exceed 2^14
constexpr size_t kDnsMaxNameChars = 253;           // RFC 1035 §2.3.4: 255 octets on the wire
constexpr size_t kDnsMaxLabelChars = 63;           // RFC 1035 §2.3.4
static_assert(kDnsMaxNameChars < sizeof(Result::sni), "a valid name plus NUL fits in Result::sni");

// RFC 6066 §3: HostName is an ASCII DNS hostname without a trailing dot; IP literals are not
// permitted. Labels are 1..63 letters, digits and hyphens, neither starting nor ending with a hyphen
// (RFC 1123 §2.1, which also allows a leading digit). '_' is accepted for compatibility, as webpki
// (behind Linkerd's dns::Name) does. An all-numeric last label is refused: it would be an IPv4 literal.
inline bool IsValidDnsName(const uint8_t* name, size_t len) noexcept {
  if (len == 0 || len > kDnsMaxNameChars) return false;
  size_t label_chars = 0;
  bool label_all_digits = true;
  bool label_ends_with_hyphen = false;
  for (size_t i = 0; i < len; ++i) {
    const uint8_t c = name[i];
    if (c == '.') {
      if (label_chars == 0 || label_ends_with_hyphen) return false;
      label_chars = 0;
      label_all_digits = true;
      continue;
    }
    if (c == '-') {
      if (label_chars == 0) return false;
      label_ends_with_hyphen = true;
      label_all_digits = false;
    } else if (c >= '0' && c <= '9') {
      label_ends_with_hyphen = false;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
      label_ends_with_hyphen = false;
      label_all_digits = false;
    } else {
      return false;
    }
    if (++label_chars > kDnsMaxLabelChars) return false;
  }
  return label_chars > 0 && !label_ends_with_hyphen && !label_all_digits;
}

enum class TlsParse : uint8_t { Incomplete, NotTls, Tls };

// Outcome of one bounded read; a failed read ends the parse with ReadFailure(read).
enum class Read : uint8_t { Ok, Incomplete, Malformed };
constexpr TlsParse ReadFailure(Read read) noexcept {
  return read == Read::Incomplete ? TlsParse::Incomplete : TlsParse::NotTls;
}

// Bounds-checked big-endian reader over the peeked bytes. Every read names the end of the structure
// it belongs to (a length the peer declared): reading past that end is Malformed, reading past the
// peeked bytes is Incomplete ("peek more"). The end is checked first, so an outcome depends only
// on bytes already seen and stays the same as more data arrives.
class ByteReader {
 public:
  static constexpr size_t kNoEnd = SIZE_MAX;

  ByteReader(const uint8_t* data, size_t avail) noexcept : data_(data), avail_(avail) {}

  Read U8(size_t end, uint8_t* value) noexcept {
    const Read fit = Fit(1, end);
    if (fit == Read::Ok) *value = data_[pos_++];
    return fit;
  }
  Read U16(size_t end, size_t* value) noexcept {
    const Read fit = Fit(2, end);
    if (fit == Read::Ok) {
      *value = static_cast<size_t>(data_[pos_]) << 8 | data_[pos_ + 1];
      pos_ += 2;
    }
    return fit;
  }
  Read Take(size_t bytes, size_t end, const uint8_t** at) noexcept {
    const Read fit = Fit(bytes, end);
    if (fit == Read::Ok) {
      *at = data_ + pos_;
      pos_ += bytes;
    }
    return fit;
  }
  Read Skip(size_t bytes, size_t end) noexcept {
    const uint8_t* ignored = nullptr;
    return Take(bytes, end, &ignored);
  }
  size_t pos() const noexcept { return pos_; }

 private:
  Read Fit(size_t bytes, size_t end) const noexcept {
    if (bytes > end - pos_) return Read::Malformed;  // pos_ <= end: no read passes its end
    if (bytes > avail_ - pos_) return Read::Incomplete;
    return Read::Ok;
  }

  const uint8_t* data_;
  size_t avail_;
  size_t pos_ = 0;
};

// Walks a ClientHello as linkerd/tls/src/server/client_hello.rs does, reading byte by byte so
// that non-TLS is refused on its first wrong byte, and stops once the server_name is read. On Tls,
// `out` holds the SNI if the hello named a valid DNS host.
inline TlsParse ParseClientHello(const uint8_t* data, size_t avail, Result* out) noexcept {
  constexpr size_t kNoEnd = ByteReader::kNoEnd;
  ByteReader in(data, avail);
  Read read = Read::Ok;
  uint8_t byte = 0;

  // TLSPlaintext header (RFC 8446 §5.1): type, legacy_record_version, length.
  if ((read = in.U8(kNoEnd, &byte)) != Read::Ok) return ReadFailure(read);
  if (byte != kTlsContentHandshake) return TlsParse::NotTls;
  // Linkerd accepts record versions 3.1 and 3.3 only (RFC 8446 §5.1: 0x0301 is allowed for a
  // first ClientHello, 0x0303 otherwise).
  if ((read = in.U8(kNoEnd, &byte)) != Read::Ok) return ReadFailure(read);
  if (byte != 3) return TlsParse::NotTls;
  if ((read = in.U8(kNoEnd, &byte)) != Read::Ok) return ReadFailure(read);
  if (byte != 1 && byte != 3) return TlsParse::NotTls;
  size_t record_body_bytes = 0;
  if ((read = in.U16(kNoEnd, &record_body_bytes)) != Read::Ok) return ReadFailure(read);
  if (record_body_bytes < kTlsHandshakeHeaderBytes || record_body_bytes > kTlsMaxRecordBodyBytes) {
    return TlsParse::NotTls;
  }
  const size_t record_end = in.pos() + record_body_bytes;

  // Handshake header (RFC 8446 §4): msg_type, uint24 length.
  if ((read = in.U8(record_end, &byte)) != Read::Ok) return ReadFailure(read);
  if (byte != kTlsHandshakeClientHello) return TlsParse::NotTls;
  // Linkerd: nobody sends a ClientHello of 64 KiB or more, so the top length byte must be 0.
  if ((read = in.U8(record_end, &byte)) != Read::Ok) return ReadFailure(read);
  if (byte != 0) return TlsParse::NotTls;
  size_t hello_bytes = 0;
  if ((read = in.U16(record_end, &hello_bytes)) != Read::Ok) return ReadFailure(read);
  // RFC 8446 §5.1 lets a handshake message span records; Linkerd (and we) read SNI only from a
  // ClientHello that fits its first record. It is still TLS, just without a name we can read.
  if (hello_bytes > record_end - in.pos()) return TlsParse::Tls;
  const size_t hello_end = in.pos() + hello_bytes;

  // ClientHello (RFC 8446 §4.1.2). legacy_version is 0x0303 for TLS 1.2 and 1.3; Linkerd refuses
  // anything else.
  if ((read = in.U8(hello_end, &byte)) != Read::Ok) return ReadFailure(read);
  if (byte != 3) return TlsParse::NotTls;
  if ((read = in.U8(hello_end, &byte)) != Read::Ok) return ReadFailure(read);
  if (byte != 3) return TlsParse::NotTls;
  if ((read = in.Skip(32, hello_end)) != Read::Ok) return ReadFailure(read);  // random
  // legacy_session_id<0..32>
  if ((read = in.U8(hello_end, &byte)) != Read::Ok) return ReadFailure(read);
  if (byte > 32) return TlsParse::NotTls;
  if ((read = in.Skip(byte, hello_end)) != Read::Ok) return ReadFailure(read);
  // cipher_suites<2..2^16-2>: a non-empty list of 2-byte suites.
  size_t cipher_suites_bytes = 0;
  if ((read = in.U16(hello_end, &cipher_suites_bytes)) != Read::Ok) return ReadFailure(read);
  if (cipher_suites_bytes < 2 || cipher_suites_bytes % 2 != 0) return TlsParse::NotTls;
  if ((read = in.Skip(cipher_suites_bytes, hello_end)) != Read::Ok) return ReadFailure(read);
  // legacy_compression_methods<1..2^8-1>
  if ((read = in.U8(hello_end, &byte)) != Read::Ok) return ReadFailure(read);
  if (byte < 1) return TlsParse::NotTls;
  if ((read = in.Skip(byte, hello_end)) != Read::Ok) return ReadFailure(read);

  // RFC 5246 §7.4.1.2: a hello may end here (no extensions, hence no SNI).
  if (in.pos() == hello_end) return TlsParse::Tls;
  // extensions<8..2^16-1> is the last field: it must end exactly where the hello does.
  size_t extensions_bytes = 0;
  if ((read = in.U16(hello_end, &extensions_bytes)) != Read::Ok) return ReadFailure(read);
  if (extensions_bytes != hello_end - in.pos()) return TlsParse::NotTls;

  while (in.pos() < hello_end) {
    size_t extension_type = 0;
    size_t extension_bytes = 0;
    if ((read = in.U16(hello_end, &extension_type)) != Read::Ok) return ReadFailure(read);
    if ((read = in.U16(hello_end, &extension_bytes)) != Read::Ok) return ReadFailure(read);
    if (extension_type != kTlsExtensionServerName) {
      if ((read = in.Skip(extension_bytes, hello_end)) != Read::Ok) return ReadFailure(read);
      continue;
    }

    // RFC 6066 §3: ServerNameList server_name_list<1..2^16-1>; ServerName { NameType name_type;
    // HostName host_name<1..2^16-1> }. Linkerd reads only the first entry, and so do we.
    if (extension_bytes > hello_end - in.pos()) return TlsParse::NotTls;
    const size_t extension_end = in.pos() + extension_bytes;
    size_t name_list_bytes = 0;
    if ((read = in.U16(extension_end, &name_list_bytes)) != Read::Ok) return ReadFailure(read);
    if (name_list_bytes != extension_end - in.pos()) return TlsParse::NotTls;
    uint8_t name_type = 0;
    if ((read = in.U8(extension_end, &name_type)) != Read::Ok) return ReadFailure(read);
    // Only host_name is defined, and another type's layout is unknown: stop here, TLS without SNI.
    if (name_type != kTlsNameTypeHostName) return TlsParse::Tls;
    size_t name_bytes = 0;
    const uint8_t* name = nullptr;
    if ((read = in.U16(extension_end, &name_bytes)) != Read::Ok) return ReadFailure(read);
    if ((read = in.Take(name_bytes, extension_end, &name)) != Read::Ok) return ReadFailure(read);
    // A name that is not a valid DNS host leaves the SNI empty, but the connection is still TLS
    // (Linkerd would call it "not TLS"; we keep the better-informed verdict).
    if (IsValidDnsName(name, name_bytes)) {
      std::memcpy(out->sni, name, name_bytes);
      out->sni[name_bytes] = '\0';
      out->sni_len = static_cast<uint16_t>(name_bytes);
    }
    return TlsParse::Tls;
  }
  return TlsParse::Tls;  // no server_name extension
}

}  // namespace detail

inline Result Sniff(const uint8_t* data, size_t len) noexcept {
  Result result{};  // zeroed: sni is "" unless a host_name is found
  result.verdict = Verdict::NeedMore;
  if (len == 0) return result;
  if (len > kMaxPeekBytes) len = kMaxPeekBytes;

  // 0x16 (TLS handshake record) is not a tchar: a connection starting with it can only be TLS.
  if (data[0] == detail::kTlsContentHandshake) {
    switch (detail::ParseClientHello(data, len, &result)) {
      case detail::TlsParse::Tls:
        result.verdict = Verdict::Tls;
        break;
      case detail::TlsParse::NotTls:
        result.verdict = Verdict::NotHttp;
        break;
      case detail::TlsParse::Incomplete:
        // At the peek budget (Linkerd's BUFFER_CAPACITY) stop waiting: what we saw is a well-formed
        // ClientHello so far, so it is TLS, just without a name we could read.
        result.verdict = len < kMaxPeekBytes ? Verdict::NeedMore : Verdict::Tls;
        break;
    }
    return result;
  }

  // HTTP/2 prior knowledge: Linkerd compares only the first 14 preface bytes
  // (linkerd/http/detect/src/lib.rs).
  const size_t preface_bytes_seen = len < kMinHttpBytes ? len : kMinHttpBytes;
  const bool preface_so_far = std::memcmp(data, detail::kH2PrefacePrefix, preface_bytes_seen) == 0;
  if (preface_so_far && len >= kMinHttpBytes) {
    result.verdict = Verdict::Http2;
    return result;
  }

  // HTTP/1: Linkerd needs 14 bytes and then calls any still-valid prefix HTTP/1. Below 14 bytes it
  // says NotHttp; we instead ask for more while the bytes could still become HTTP/1 or the preface
  // (the caller's detect timeout bounds the wait), and refuse at once what never can.
  if (detail::ScanHttp1(data, len) == detail::Http1Scan::Invalid) {
    result.verdict = preface_so_far ? Verdict::NeedMore : Verdict::NotHttp;
    return result;
  }
  result.verdict = len < kMinHttpBytes ? Verdict::NeedMore : Verdict::Http1;
  return result;
}

}  // namespace meshlet::sniff
