// Table-driven tests for native/sniff/sniff.h: every verdict, every prefix length of every valid
// input, and the malformed inputs that must be refused. Inputs are copied into exact-size heap
// buffers so ASan catches any read past `len`.
#include "sniff/sniff.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "test/check.h"
#include "test/testdata/client_hellos.h"

namespace {

using meshlet::sniff::kMaxPeekBytes;
using meshlet::sniff::kMinHttpBytes;
using meshlet::sniff::Result;
using meshlet::sniff::Verdict;
using meshlet::sniff::VerdictName;
using Bytes = std::vector<uint8_t>;

// === Helpers ===

Bytes FromString(const std::string& text) { return Bytes(text.begin(), text.end()); }

template <size_t N>
Bytes FromArray(const uint8_t (&array)[N]) {
  return Bytes(array, array + N);
}

// Sniffs the first `len` bytes from a heap copy of exactly that size (ASan red zones right after).
Result SniffExact(const Bytes& input, size_t len) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[len == 0 ? 1 : len]);
  if (len > 0) std::memcpy(copy.get(), input.data(), len);
  return meshlet::sniff::Sniff(len == 0 ? nullptr : copy.get(), len);
}

Result SniffAll(const Bytes& input) { return SniffExact(input, input.size()); }

std::string Sni(const Result& result) { return std::string(result.sni, result.sni_len); }

std::string Printable(const Bytes& input, size_t max_chars = 48) {
  std::string out;
  for (size_t i = 0; i < input.size() && i < max_chars; ++i) {
    const uint8_t c = input[i];
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (input.size() > max_chars) out += "...(" + std::to_string(input.size()) + " bytes)";
  return out;
}

std::string VerdictOf(const Result& result) { return VerdictName(result.verdict); }

// Invariants every result must satisfy, whatever the input.
void CheckWellFormed(const Result& result) {
  CHECK(static_cast<uint8_t>(result.verdict) <= static_cast<uint8_t>(Verdict::NotHttp));
  CHECK(result.sni_len <= 253);
  CHECK_EQ(result.sni[result.sni_len], '\0');
  if (result.sni_len > 0) CHECK(result.verdict == Verdict::Tls);
}

// === A ClientHello builder (RFC 8446 §4.1.2, RFC 6066 §3) ===

void PutU16(Bytes* out, size_t value) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value));
}

struct Extension {
  uint16_t type;
  Bytes body;
};

Extension ServerName(const std::string& host, uint8_t name_type = 0) {
  Bytes body;
  PutU16(&body, host.size() + 3);  // server_name_list length
  body.push_back(name_type);
  PutU16(&body, host.size());
  body.insert(body.end(), host.begin(), host.end());
  return {0, body};
}

Extension Alpn() {  // application_layer_protocol_negotiation: "h2", "http/1.1"
  return {16, {0x00, 0x0c, 0x02, 'h', '2', 0x08, 'h', 't', 't', 'p', '/', '1', '.', '1'}};
}

Extension SupportedVersions() { return {43, {0x04, 0x03, 0x04, 0x03, 0x03}}; }

Extension Padding(size_t bytes) { return {21, Bytes(bytes, 0)}; }

struct HelloSpec {
  uint8_t record_major = 3;
  uint8_t record_minor = 1;
  uint8_t handshake_type = 1;
  uint8_t client_version_major = 3;
  uint8_t client_version_minor = 3;
  size_t session_id_bytes = 32;
  size_t cipher_suites_bytes = 6;
  size_t compression_bytes = 1;
  bool has_extensions_block = true;
  std::vector<Extension> extensions;
};

Bytes BuildHello(const HelloSpec& spec) {
  Bytes hello;
  hello.push_back(spec.client_version_major);
  hello.push_back(spec.client_version_minor);
  for (int i = 0; i < 32; ++i) hello.push_back(static_cast<uint8_t>(0xA0 + i));  // random
  hello.push_back(static_cast<uint8_t>(spec.session_id_bytes));
  hello.insert(hello.end(), spec.session_id_bytes, 0x5A);
  PutU16(&hello, spec.cipher_suites_bytes);
  for (size_t i = 0; i < spec.cipher_suites_bytes; ++i) hello.push_back(i % 2 == 0 ? 0x13 : 0x01);
  hello.push_back(static_cast<uint8_t>(spec.compression_bytes));
  hello.insert(hello.end(), spec.compression_bytes, 0x00);
  if (spec.has_extensions_block) {
    Bytes extensions;
    for (const Extension& extension : spec.extensions) {
      PutU16(&extensions, extension.type);
      PutU16(&extensions, extension.body.size());
      extensions.insert(extensions.end(), extension.body.begin(), extension.body.end());
    }
    PutU16(&hello, extensions.size());
    hello.insert(hello.end(), extensions.begin(), extensions.end());
  }

  Bytes record = {22, spec.record_major, spec.record_minor};
  PutU16(&record, hello.size() + 4);
  record.push_back(spec.handshake_type);
  record.push_back(static_cast<uint8_t>(hello.size() >> 16));
  PutU16(&record, hello.size() & 0xFFFF);
  record.insert(record.end(), hello.begin(), hello.end());
  return record;
}

HelloSpec TypicalSpec(const std::string& host) {
  HelloSpec spec;
  spec.extensions = {SupportedVersions(), ServerName(host), Alpn()};
  return spec;
}

Bytes HelloFor(const std::string& host) { return BuildHello(TypicalSpec(host)); }

// Byte offsets inside a BuildHello() record, for targeted corruption.
constexpr size_t kRecordLengthAt = 3;
constexpr size_t kHandshakeLengthAt = 6;  // uint24
constexpr size_t kHelloBodyAt = 9;

size_t ExtensionsLengthAt(const HelloSpec& spec) {
  return kHelloBodyAt + 2 + 32 + 1 + spec.session_id_bytes + 2 + spec.cipher_suites_bytes + 1 +
         spec.compression_bytes;
}

void SetU16(Bytes* bytes, size_t at, size_t value) {
  (*bytes)[at] = static_cast<uint8_t>(value >> 8);
  (*bytes)[at + 1] = static_cast<uint8_t>(value);
}

// Smallest prefix of `hello` on which a verdict is possible: the end of the host name if the bytes
// of `host` appear, else the whole record.
size_t DecisionLength(const Bytes& hello, const std::string& host) {
  if (host.empty()) return hello.size();
  for (size_t at = hello.size() - host.size() + 1; at-- > 0;) {
    if (std::memcmp(hello.data() + at, host.data(), host.size()) == 0) return at + host.size();
  }
  return hello.size();
}

// === Whole inputs ===

struct Row {
  const char* why;
  Bytes input;
  Verdict verdict;
  std::string sni;
};

void CheckRows(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    TRACE(std::string(row.why) + ": \"" + Printable(row.input) + "\"");
    const Result result = SniffAll(row.input);
    CheckWellFormed(result);
    CHECK_EQ(VerdictOf(result), std::string(VerdictName(row.verdict)));
    CHECK_EQ(Sni(result), row.sni);
    // Deterministic: same bytes, same answer, byte for byte.
    const Result again = SniffAll(row.input);
    CHECK(std::memcmp(&result, &again, sizeof(Result)) == 0);
  }
}

TEST(empty_input_needs_more) {
  CHECK(meshlet::sniff::Sniff(nullptr, 0).verdict == Verdict::NeedMore);
  const uint8_t byte = 'G';
  CHECK(meshlet::sniff::Sniff(&byte, 0).verdict == Verdict::NeedMore);
  CHECK_EQ(meshlet::sniff::Sniff(nullptr, 0).sni_len, 0);
}

TEST(every_verdict) {
  CheckRows({
      {"short prefix of a request", FromString("GET /"), Verdict::NeedMore, ""},
      {"smallest request", FromString("GET / HTTP/1.1"), Verdict::Http1, ""},
      {"h2 preface", FromString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Verdict::Http2, ""},
      {"client hello", HelloFor("example.com"), Verdict::Tls, "example.com"},
      {"ping", FromString("PING\r\n"), Verdict::NotHttp, ""},
  });
}

TEST(http1_requests) {
  const std::string long_target(3000, 'a');
  CheckRows({
      {"complete head", FromString("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Verdict::Http1, ""},
      {"no headers, CRLF", FromString("GET / HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"no headers, bare LF (RFC 9112 §2.2)", FromString("GET / HTTP/1.1\n\n"), Verdict::Http1, ""},
      {"HTTP/1.0", FromString("GET /index.html HTTP/1.0\r\n\r\n"), Verdict::Http1, ""},
      {"one-char method, 14 bytes", FromString("A / HTTP/1.1\n\n"), Verdict::Http1, ""},
      {"PURGE", FromString("PURGE /cache/x HTTP/1.1\r\nHost: a\r\n"), Verdict::Http1, ""},
      {"M-SEARCH (SSDP)", FromString("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"),
       Verdict::Http1, ""},
      {"lowercase method is a token too", FromString("get / HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"PRI as a method with HTTP/1.1", FromString("PRI * HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"CONNECT authority-form", FromString("CONNECT example.com:443 HTTP/1.1\r\n\r\n"),
       Verdict::Http1, ""},
      {"OPTIONS asterisk-form", FromString("OPTIONS * HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"absolute-form", FromString("GET http://a.example/x?y=1#f HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"all tchar method", FromString("!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"prefix at version (Linkerd: Partial)", FromString("POST /foo HTTP/1."), Verdict::Http1, ""},
      {"prefix ending in CR", FromString("POST /foo HTTP/1.1\r"), Verdict::Http1, ""},
      {"prefix ending in head CR", FromString("GET / HTTP/1.1\r\n\r"), Verdict::Http1, ""},
      {"long method, no SP yet", FromString("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), Verdict::Http1, ""},
      {"long target, no version yet", FromString("GET /" + long_target), Verdict::Http1, ""},
      {"long target, complete", FromString("GET /" + long_target + " HTTP/1.1\r\n\r\n"),
       Verdict::Http1, ""},
      {"14 valid bytes then junk past the head", FromString("GET / HTTP/1.1\r\nX\x01\x02"),
       Verdict::Http1, ""},
      // HTTP-shaped request lines that the engine refuses (400 / 505) instead of splicing them to the
      // app unchecked (Linkerd's httparse fails on them, so Linkerd forwards them as TCP).
      {"control char in target", FromString("GET /a\x01z HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"tab in target", FromString("GET /a\tz HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"DEL in target", FromString("GET /a\x7fz HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"obs-text in target", FromString("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"), Verdict::Http1, ""},
      {"NUL in target", FromString(std::string("GET /a\0z HTTP/1.1\r\n\r\n", 21)), Verdict::Http1, ""},
      {"control char in short target: wait for the version", FromString("GET /\x1b"), Verdict::NeedMore, ""},
      {"HTTP/2.0 request line", FromString("GET / HTTP/2.0\r\n\r\n"), Verdict::Http1, ""},
      {"HTTP/1.2", FromString("GET / HTTP/1.2\r\n\r\n"), Verdict::Http1, ""},
      {"HTTP/0.9", FromString("GET / HTTP/0.9\r\n\r\n"), Verdict::Http1, ""},
  });
}

TEST(http2_preface) {
  CheckRows({
      {"full preface", FromString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Verdict::Http2, ""},
      {"14 bytes suffice (Linkerd)", FromString("PRI * HTTP/2.0"), Verdict::Http2, ""},
      {"rest of preface is not checked (Linkerd)", FromString("PRI * HTTP/2.0\r\n\r\nXX"),
       Verdict::Http2, ""},
      {"preface then a SETTINGS frame",
       FromString(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00", 33)),
       Verdict::Http2, ""},
      {"2.1 is not the preface: an HTTP/1-shaped line (505)", FromString("PRI * HTTP/2.1\r\n\r\nSM\r\n\r\n"),
       Verdict::Http1, ""},
      {"shared prefix, then neither", FromString("PRI * HTTP/3\r\n"), Verdict::NotHttp, ""},
      {"shared prefix", FromString("PRI * HTTP/"), Verdict::NeedMore, ""},
      {"preface-only prefix", FromString("PRI * HTTP/2."), Verdict::NeedMore, ""},
  });
}

TEST(not_http) {
  CheckRows({
      {"PING line", FromString("PING\r\n"), Verdict::NotHttp, ""},
      {"NUL first", FromString(std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8)), Verdict::NotHttp, ""},
      {"single NUL", FromString(std::string("\x00", 1)), Verdict::NotHttp, ""},
      {"high byte first", FromString("\xff\xfe"), Verdict::NotHttp, ""},
      {"SSLv2-compatible hello", FromString("\x80\x2e\x01\x03\x01"), Verdict::NotHttp, ""},
      {"redis RESP", FromString("*1\r\n$4\r\nPING\r\n"), Verdict::NotHttp, ""},
      {"SSH banner", FromString("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), Verdict::NotHttp, ""},
      {"leading CRLF (stricter than httparse)", FromString("\r\nGET / HTTP/1.1\r\n\r\n"),
       Verdict::NotHttp, ""},
      {"leading SP", FromString(" GET / HTTP/1.1\r\n\r\n"), Verdict::NotHttp, ""},
      {"empty method", FromString(" / HTTP/1.1\r\n\r\n"), Verdict::NotHttp, ""},
      {"missing SP after method", FromString("GET/ HTTP/1.1\r\n\r\n"), Verdict::NotHttp, ""},
      {"missing SP before version", FromString("GET /HTTP/1.1\r\n\r\n"), Verdict::NotHttp, ""},
      {"missing target", FromString("GET HTTP/1.1\r\n\r\n"), Verdict::NotHttp, ""},
      {"double SP", FromString("GET  / HTTP/1.1\r\n\r\n"), Verdict::NotHttp, ""},
      {"tab separator", FromString("GET\t/ HTTP/1.1\r\n\r\n"), Verdict::NotHttp, ""},
      {"multi-digit version", FromString("GET / HTTP/11.1\r\n\r\n"), Verdict::NotHttp, ""},
      {"version without minor", FromString("GET / HTTP/1\r\n\r\n"), Verdict::NotHttp, ""},
      {"lowercase version", FromString("GET / http/1.1\r\n\r\n"), Verdict::NotHttp, ""},
      {"junk after version", FromString("GET / HTTP/1.1 \r\n\r\n"), Verdict::NotHttp, ""},
      {"CR without LF", FromString("GET / HTTP/1.1\rX\r\n"), Verdict::NotHttp, ""},
      {"obs-fold before first field (RFC 9112 §5.2)", FromString("GET / HTTP/1.1\r\n Host: a\r\n"),
       Verdict::NotHttp, ""},
      {"h2 pseudo-header in h1 head", FromString("GET / HTTP/1.1\r\n:authority: a\r\n"), Verdict::NotHttp, ""},
      {"head CR without LF", FromString("GET / HTTP/1.1\r\n\rX"), Verdict::NotHttp, ""},
      {"invalid byte early, short", FromString("G{"), Verdict::NotHttp, ""},
      {"CR in short target", FromString("GET /\r"), Verdict::NotHttp, ""},
  });
}

TEST(short_valid_prefixes_need_more) {
  // Linkerd says NotHttp below 14 bytes; we wait for more while HTTP is still possible.
  CheckRows({
      {"one letter", FromString("G"), Verdict::NeedMore, ""},
      {"method only", FromString("DELETE"), Verdict::NeedMore, ""},
      {"PING (could be a method)", FromString("PING"), Verdict::NeedMore, ""},
      {"13 bytes", FromString("GET / HTTP/1."), Verdict::NeedMore, ""},
      {"complete line, LF, 13 bytes", FromString("A / HTTP/1.1\n"), Verdict::NeedMore, ""},
      {"P", FromString("P"), Verdict::NeedMore, ""},
  });
}

// === Every prefix of every valid input ===

struct PrefixCase {
  const char* why;
  Bytes input;
  size_t decision_len;  // shortest prefix with the final verdict; shorter ones need more
  Verdict verdict;
  std::string sni;
};

void CheckEveryPrefix(const PrefixCase& c) {
  TRACE(std::string(c.why));
  for (size_t len = 0; len <= c.input.size(); ++len) {
    TRACE("prefix length " + std::to_string(len));
    const Result result = SniffExact(c.input, len);
    CheckWellFormed(result);
    if (len < c.decision_len) {
      CHECK_EQ(VerdictOf(result), std::string("need_more"));
      CHECK_EQ(result.sni_len, 0);
    } else {
      CHECK_EQ(VerdictOf(result), std::string(VerdictName(c.verdict)));
      CHECK_EQ(Sni(result), c.sni);
    }
  }
}

TEST(every_prefix_of_http_inputs) {
  const std::string long_target = "/" + std::string(1500, 'x') + "?q=%20&r=~";
  const std::vector<PrefixCase> cases = {
      {"GET / HTTP/1.1", FromString("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), kMinHttpBytes,
       Verdict::Http1, ""},
      {"long request", FromString("POST " + long_target + " HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
       kMinHttpBytes, Verdict::Http1, ""},
      {"PURGE", FromString("PURGE /cache/key HTTP/1.1\r\n\r\n"), kMinHttpBytes, Verdict::Http1, ""},
      {"M-SEARCH", FromString("M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n\r\n"), kMinHttpBytes,
       Verdict::Http1, ""},
      {"PRI method over HTTP/1.1", FromString("PRI * HTTP/1.1\r\n\r\n"), kMinHttpBytes, Verdict::Http1, ""},
      {"H2 preface", FromString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), kMinHttpBytes, Verdict::Http2, ""},
  };
  for (const PrefixCase& c : cases) CheckEveryPrefix(c);
}

TEST(every_prefix_of_client_hellos) {
  using namespace meshlet::sniff::testdata;
  const Bytes built_sni = HelloFor("example.com");
  HelloSpec no_sni_spec = TypicalSpec("");
  no_sni_spec.extensions = {SupportedVersions(), Alpn()};
  const Bytes built_no_sni = BuildHello(no_sni_spec);
  HelloSpec tls12_spec = TypicalSpec("api.internal");
  tls12_spec.record_minor = 3;
  tls12_spec.session_id_bytes = 0;
  const Bytes built_tls12 = BuildHello(tls12_spec);
  const Bytes openssl_sni = FromArray(kOpensslHelloExampleCom);
  const Bytes openssl_no_sni = FromArray(kOpensslHelloNoSni);
  const Bytes openssl_tls12 = FromArray(kOpensslHelloTls12ApiExampleCom);

  const std::vector<PrefixCase> cases = {
      {"built, SNI", built_sni, DecisionLength(built_sni, "example.com"), Verdict::Tls, "example.com"},
      {"built, no SNI", built_no_sni, built_no_sni.size(), Verdict::Tls, ""},
      {"built, record 3.3, empty session id", built_tls12, DecisionLength(built_tls12, "api.internal"),
       Verdict::Tls, "api.internal"},
      {"openssl, SNI", openssl_sni, DecisionLength(openssl_sni, "example.com"), Verdict::Tls,
       "example.com"},
      {"openssl, -noservername", openssl_no_sni, openssl_no_sni.size(), Verdict::Tls, ""},
      {"openssl, -tls1_2", openssl_tls12, DecisionLength(openssl_tls12, "api.example.com"), Verdict::Tls,
       "api.example.com"},
  };
  for (const PrefixCase& c : cases) CheckEveryPrefix(c);
  // The SNI decision comes before the end of the record: the caller need not wait for the rest.
  CHECK(DecisionLength(openssl_sni, "example.com") < openssl_sni.size());
}

// === TLS specifics ===

TEST(captured_openssl_hellos) {
  using namespace meshlet::sniff::testdata;
  CheckRows({
      {"openssl -servername example.com", FromArray(kOpensslHelloExampleCom), Verdict::Tls, "example.com"},
      {"openssl -noservername", FromArray(kOpensslHelloNoSni), Verdict::Tls, ""},
      {"openssl -tls1_2 -servername api.example.com", FromArray(kOpensslHelloTls12ApiExampleCom),
       Verdict::Tls, "api.example.com"},
  });
}

TEST(sni_names) {
  const std::string label63(63, 'a');
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  CHECK_EQ(name253.size(), 253u);
  CheckRows({
      {"plain", HelloFor("example.com"), Verdict::Tls, "example.com"},
      {"single label", HelloFor("localhost"), Verdict::Tls, "localhost"},
      {"mixed case kept as sent", HelloFor("Api.Example.COM"), Verdict::Tls, "Api.Example.COM"},
      {"digits and hyphens", HelloFor("1st-svc.ns-2.svc.cluster.local"), Verdict::Tls,
       "1st-svc.ns-2.svc.cluster.local"},
      {"underscore (webpki compat)", HelloFor("_svc.under_score.local"), Verdict::Tls,
       "_svc.under_score.local"},
      {"punycode", HelloFor("xn--bcher-kva.example"), Verdict::Tls, "xn--bcher-kva.example"},
      {"63-char label", HelloFor(label63 + ".com"), Verdict::Tls, label63 + ".com"},
      {"253 chars", HelloFor(name253), Verdict::Tls, name253},
      {"numeric label, alpha TLD", HelloFor("10.0.0.example"), Verdict::Tls, "10.0.0.example"},
      // Invalid names: still TLS, but no SNI.
      {"space", HelloFor("exa mple.com"), Verdict::Tls, ""},
      {"leading hyphen", HelloFor("-bad.example.com"), Verdict::Tls, ""},
      {"trailing hyphen", HelloFor("bad-.example.com"), Verdict::Tls, ""},
      {"empty label", HelloFor("a..b"), Verdict::Tls, ""},
      {"leading dot", HelloFor(".example.com"), Verdict::Tls, ""},
      {"trailing dot (RFC 6066 §3)", HelloFor("example.com."), Verdict::Tls, ""},
      {"IPv4 literal (RFC 6066 §3)", HelloFor("10.0.0.1"), Verdict::Tls, ""},
      {"IPv6 literal", HelloFor("::1"), Verdict::Tls, ""},
      {"wildcard", HelloFor("*.example.com"), Verdict::Tls, ""},
      {"UTF-8", HelloFor("b\xc3\xbc" "cher.de"), Verdict::Tls, ""},
      {"NUL inside", HelloFor(std::string("evil.com\0.example.com", 21)), Verdict::Tls, ""},
      {"64-char label", HelloFor(std::string(64, 'a') + ".com"), Verdict::Tls, ""},
      {"254 chars", HelloFor(name253 + "c"), Verdict::Tls, ""},
      {"300 chars", HelloFor(std::string(100, 'a') + "." + std::string(100, 'b') + "." + std::string(98, 'c')),
       Verdict::Tls, ""},
      {"empty name", HelloFor(""), Verdict::Tls, ""},
  });
}

TEST(hello_shapes) {
  HelloSpec sni_last = TypicalSpec("");
  sni_last.extensions = {Alpn(), SupportedVersions(), Padding(200), ServerName("last.example")};
  HelloSpec no_extensions = TypicalSpec("");
  no_extensions.has_extensions_block = false;
  HelloSpec empty_extensions = TypicalSpec("");
  empty_extensions.extensions = {};
  HelloSpec other_name_type = TypicalSpec("");
  other_name_type.extensions = {ServerName("example.com", 1)};
  HelloSpec unknown_name_type = TypicalSpec("");
  Extension odd_entry = {0, {0x00, 0x03, 0x07, 0xFF, 0xFF}};  // type 7, then bytes of unknown layout
  unknown_name_type.extensions = {odd_entry};
  HelloSpec two_names = TypicalSpec("");
  Extension two = ServerName("first.example");
  two.body.push_back(0);
  PutU16(&two.body, 3);
  two.body.insert(two.body.end(), {'b', '.', 'c'});
  SetU16(&two.body, 0, two.body.size() - 2);
  two_names.extensions = {two};

  CheckRows({
      {"SNI after other extensions", BuildHello(sni_last), Verdict::Tls, "last.example"},
      {"no extensions block (RFC 5246 §7.4.1.2)", BuildHello(no_extensions), Verdict::Tls, ""},
      {"empty extensions block", BuildHello(empty_extensions), Verdict::Tls, ""},
      {"name_type other than host_name", BuildHello(other_name_type), Verdict::Tls, ""},
      {"unknown name_type: its layout is not parsed", BuildHello(unknown_name_type), Verdict::Tls, ""},
      {"two names: the first one wins", BuildHello(two_names), Verdict::Tls, "first.example"},
  });

  // Bytes after the hello (e.g. early data records) do not change the verdict.
  Bytes with_trailer = HelloFor("example.com");
  with_trailer.insert(with_trailer.end(), {0x17, 0x03, 0x03, 0x00, 0x01, 0xFF});
  CheckRows({{"trailing record", with_trailer, Verdict::Tls, "example.com"}});
}

TEST(malformed_hellos_are_not_http) {
  std::vector<Row> rows;
  auto add = [&rows](const char* why, const HelloSpec& spec) {
    rows.push_back({why, BuildHello(spec), Verdict::NotHttp, ""});
  };
  auto add_bytes = [&rows](const char* why, Bytes bytes) {
    rows.push_back({why, std::move(bytes), Verdict::NotHttp, ""});
  };
  HelloSpec spec = TypicalSpec("example.com");
  spec.record_major = 2;
  add("record major 2", spec);
  spec = TypicalSpec("example.com");
  spec.record_minor = 2;
  add("record minor 2 (Linkerd: 3.1 or 3.3)", spec);
  spec.record_minor = 0;
  add("record minor 0", spec);
  spec = TypicalSpec("example.com");
  spec.handshake_type = 2;
  add("ServerHello", spec);
  spec = TypicalSpec("example.com");
  spec.client_version_minor = 1;
  add("client_version 3.1", spec);
  spec = TypicalSpec("example.com");
  spec.session_id_bytes = 33;
  add("session_id longer than 32", spec);
  spec = TypicalSpec("example.com");
  spec.cipher_suites_bytes = 0;
  add("no cipher suites", spec);
  spec.cipher_suites_bytes = 5;
  add("odd cipher suites length", spec);
  spec = TypicalSpec("example.com");
  spec.compression_bytes = 0;
  add("no compression methods", spec);

  Bytes bytes = HelloFor("example.com");
  SetU16(&bytes, kRecordLengthAt, 0);
  add_bytes("record length 0", bytes);
  bytes = HelloFor("example.com");
  SetU16(&bytes, kRecordLengthAt, 3);
  add_bytes("record too short for a handshake header", bytes);
  bytes = HelloFor("example.com");
  SetU16(&bytes, kRecordLengthAt, 16385);
  add_bytes("record longer than 2^14 (RFC 8446 §5.1)", bytes);
  bytes = HelloFor("example.com");
  bytes[kHandshakeLengthAt] = 1;
  add_bytes("handshake length >= 64 KiB", bytes);

  const HelloSpec typical = TypicalSpec("example.com");
  const size_t extensions_at = ExtensionsLengthAt(typical);
  bytes = BuildHello(typical);
  SetU16(&bytes, extensions_at, ((bytes[extensions_at] << 8) | bytes[extensions_at + 1]) - 1);
  add_bytes("extensions shorter than the hello", bytes);
  bytes = BuildHello(typical);
  SetU16(&bytes, extensions_at, ((bytes[extensions_at] << 8) | bytes[extensions_at + 1]) + 1);
  add_bytes("extensions longer than the hello", bytes);
  // First extension is supported_versions (5 bytes): claim 500.
  bytes = BuildHello(typical);
  SetU16(&bytes, extensions_at + 4, 500);
  add_bytes("extension overruns the hello", bytes);

  // server_name internals: SupportedVersions ext is 4 + 5 bytes, then the SNI extension header.
  const size_t sni_at = extensions_at + 2 + 9;
  const size_t list_at = sni_at + 4;
  bytes = BuildHello(typical);
  SetU16(&bytes, list_at, 5);
  add_bytes("server_name_list length mismatch", bytes);
  bytes = BuildHello(typical);
  SetU16(&bytes, list_at + 3, 200);
  add_bytes("host_name overruns the extension", bytes);
  bytes = BuildHello(typical);
  SetU16(&bytes, sni_at + 2, 1);
  add_bytes("server_name extension too short for its list", bytes);

  add_bytes("record major 4, short", {0x16, 0x04});
  add_bytes("record minor 2, short", {0x16, 0x03, 0x02});
  CheckRows(rows);
}

TEST(hello_spanning_records_is_tls_without_sni) {
  // RFC 8446 §5.1 allows fragmenting a ClientHello; like Linkerd we read SNI from one record only.
  Bytes bytes = HelloFor("example.com");
  SetU16(&bytes, kRecordLengthAt, 40);
  bytes.resize(5 + 40);
  CheckRows({{"first fragment", bytes, Verdict::Tls, ""}});
  // Decided as soon as the handshake header is in.
  CHECK(SniffExact(bytes, 8).verdict == Verdict::NeedMore);
  CHECK(SniffExact(bytes, 9).verdict == Verdict::Tls);
}

TEST(peek_budget_ends_tls_detection) {
  // A hello whose SNI lies past kMaxPeekBytes: NeedMore until the budget, then Tls with no SNI,
  // and bytes past the budget are never looked at (so the verdict is final).
  HelloSpec spec = TypicalSpec("");
  spec.extensions = {Padding(9000), ServerName("far.example")};
  const Bytes hello = BuildHello(spec);
  CHECK(hello.size() > kMaxPeekBytes);
  CHECK(SniffExact(hello, kMaxPeekBytes - 1).verdict == Verdict::NeedMore);
  const Result at_budget = SniffExact(hello, kMaxPeekBytes);
  CHECK(at_budget.verdict == Verdict::Tls);
  CHECK_EQ(at_budget.sni_len, 0);
  const Result whole = SniffAll(hello);
  CHECK(whole.verdict == Verdict::Tls);
  CHECK_EQ(whole.sni_len, 0);

  // The same hello with the SNI first is read in full well before the budget.
  spec.extensions = {ServerName("near.example"), Padding(9000)};
  const Bytes near = BuildHello(spec);
  const Result near_result = SniffAll(near);
  CHECK(near_result.verdict == Verdict::Tls);
  CHECK_EQ(Sni(near_result), std::string("near.example"));
  CHECK(SniffExact(near, DecisionLength(near, "near.example")).verdict == Verdict::Tls);
}

TEST(peek_budget_caps_http_scan) {
  // A request-line prefix longer than the budget is HTTP/1 (Linkerd: Partial), and a bad byte
  // past the budget is not seen.
  Bytes request = FromString("GET /" + std::string(kMaxPeekBytes, 'a'));
  request.push_back(0x01);
  CHECK(SniffAll(request).verdict == Verdict::Http1);
}

TEST(short_tls_prefixes) {
  CheckRows({
      {"0x16 alone", {0x16}, Verdict::NeedMore, ""},
      {"record header", {0x16, 0x03, 0x01, 0x00, 0x10}, Verdict::NeedMore, ""},
      {"handshake type", {0x16, 0x03, 0x03, 0x00, 0x10, 0x01}, Verdict::NeedMore, ""},
  });
}

// Monotonicity over adjacent prefixes of every table input: the property the caller relies on
// when it re-peeks (also checked by the fuzzer on arbitrary bytes).
TEST(verdicts_are_stable_as_bytes_arrive) {
  const std::vector<Bytes> inputs = {
      FromString("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),  FromString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
      FromString("GET / HTTP/1.1\r\n Host: a\r\n"),     FromString("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
      HelloFor("example.com"),                          HelloFor("bad-.example"),
      FromArray(meshlet::sniff::testdata::kOpensslHelloNoSni),
  };
  for (const Bytes& input : inputs) {
    TRACE(Printable(input));
    Result previous = SniffExact(input, 0);
    for (size_t len = 1; len <= input.size(); ++len) {
      const Result current = SniffExact(input, len);
      switch (previous.verdict) {
        case Verdict::NeedMore:
          break;
        case Verdict::Http1:  // a longer prefix may reveal a parse error
          CHECK(current.verdict == Verdict::Http1 || current.verdict == Verdict::NotHttp);
          break;
        default:
          CHECK(std::memcmp(&previous, &current, sizeof(Result)) == 0);
      }
      previous = current;
    }
  }
}

TEST(verdict_names) {
  CHECK_EQ(std::string(VerdictName(Verdict::NeedMore)), std::string("need_more"));
  CHECK_EQ(std::string(VerdictName(Verdict::Http1)), std::string("http/1"));
  CHECK_EQ(std::string(VerdictName(Verdict::Http2)), std::string("http/2"));
  CHECK_EQ(std::string(VerdictName(Verdict::Tls)), std::string("tls"));
  CHECK_EQ(std::string(VerdictName(Verdict::NotHttp)), std::string("not_http"));
  CHECK_EQ(static_cast<int>(Verdict::NeedMore), 0);
  CHECK_EQ(static_cast<int>(Verdict::NotHttp), 4);
}

}  // namespace
