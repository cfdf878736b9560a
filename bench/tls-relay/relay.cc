// Benchmark prototype, not product code: a TLS 1.3 mTLS relay on its own epoll thread inside the Bun
// process, built on the system OpenSSL (libssl-dev), to measure "OpenSSL in the addon" against Bun's TLS
// and HAProxy (bench/tls-engines.sh). Each connection is relayed byte for byte.
//   mode "server": TLS in (client certificate verified against the CA, TLS 1.3 only), plaintext out —
//                  to a TCP upstream, or (with onFd) to a socketpair whose other end JavaScript adopts.
//   mode "client": plaintext in, TLS out with a client certificate, SNI = server name, and the server
//                  certificate must carry exactly that DNS name (no wildcards); with listen port -1 there
//                  is no listener and originate() returns the JavaScript end of a socketpair instead.
#include <napi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kBufBytes = 64 * 1024;

// One direction's in-flight bytes: [off, off + len) of data.
struct Buf {
  std::unique_ptr<uint8_t[]> data{new uint8_t[kBufBytes]};
  size_t off = 0;
  size_t len = 0;
  size_t Room() {
    if (len == 0) off = 0;
    if (off + len == kBufBytes && off > 0) {
      memmove(data.get(), data.get() + off, len);
      off = 0;
    }
    return kBufBytes - off - len;
  }
};

enum : int { kWouldBlock = -1, kFailed = -2 };

// One side of a relayed connection; `ssl` is null on the plaintext side.
struct End {
  int fd = -1;
  SSL* ssl = nullptr;
  bool eof = false;         // read side finished
  bool shut = false;        // write side shut down
  bool want_write = false;  // TLS needs the socket writable to make progress
  uint32_t events = 0;      // current epoll interest
  bool watched = false;     // in the epoll set
};

struct Conn {
  End a;    // the accepted side
  End b;    // the upstream side
  Buf a2b;  // bytes read from a, to be written to b
  Buf b2a;
  bool handshaken = false;
  bool dead = false;
};

ssize_t ReadEnd(End& e, uint8_t* p, size_t n) {
  if (e.ssl == nullptr) {
    ssize_t r = ::recv(e.fd, p, n, 0);
    if (r >= 0) return r;
    return (errno == EAGAIN || errno == EINTR) ? kWouldBlock : kFailed;
  }
  int r = SSL_read(e.ssl, p, static_cast<int>(n));
  if (r > 0) return r;
  switch (SSL_get_error(e.ssl, r)) {
    case SSL_ERROR_WANT_READ: return kWouldBlock;
    case SSL_ERROR_WANT_WRITE: e.want_write = true; return kWouldBlock;
    case SSL_ERROR_ZERO_RETURN: return 0;
    default: return kFailed;
  }
}

ssize_t WriteEnd(End& e, const uint8_t* p, size_t n) {
  if (e.ssl == nullptr) {
    ssize_t r = ::send(e.fd, p, n, MSG_NOSIGNAL);
    if (r >= 0) return r;
    return (errno == EAGAIN || errno == EINTR) ? kWouldBlock : kFailed;
  }
  int r = SSL_write(e.ssl, p, static_cast<int>(n));
  if (r > 0) return r;
  switch (SSL_get_error(e.ssl, r)) {
    case SSL_ERROR_WANT_WRITE: e.want_write = true; return kWouldBlock;
    case SSL_ERROR_WANT_READ: return kWouldBlock;
    default: return kFailed;
  }
}

// Moves src -> buf -> dst until nothing moves; false on failure.
// A short read means the socket's receive queue (and OpenSSL's read-ahead) is empty: the next read
// would only say EAGAIN, so it is skipped until the next readiness event (level-triggered).
bool Pump(End& src, End& dst, Buf& buf) {
  bool drained = false;
  for (;;) {
    bool moved = false;
    size_t room = buf.Room();
    if (!src.eof && !drained && room > 0) {
      ssize_t r = ReadEnd(src, buf.data.get() + buf.off + buf.len, room);
      if (r > 0) {
        buf.len += static_cast<size_t>(r);
        moved = true;
        drained = static_cast<size_t>(r) < room && (src.ssl == nullptr || SSL_has_pending(src.ssl) == 0);
      } else if (r == 0) {
        src.eof = true;
        moved = true;
      } else if (r == kFailed) {
        return false;
      }
    }
    if (buf.len > 0) {
      ssize_t w = WriteEnd(dst, buf.data.get() + buf.off, buf.len);
      if (w > 0) {
        buf.off += static_cast<size_t>(w);
        buf.len -= static_cast<size_t>(w);
        moved = true;
      } else if (w == kFailed) {
        return false;
      }
    }
    if (src.eof && buf.len == 0 && !dst.shut) {
      if (dst.ssl != nullptr) SSL_shutdown(dst.ssl);  // close_notify; TLS 1.3 allows reading on
      ::shutdown(dst.fd, SHUT_WR);
      dst.shut = true;
      moved = true;
    }
    if (!moved) return true;
  }
}

struct Relay {
  std::string mode;
  uint16_t upstream_port = 0;
  std::string server_name;
  SSL_CTX* ctx = nullptr;
  int listen_fd = -1;
  int epoll_fd = -1;
  std::atomic<uint64_t> handshakes{0};
  std::atomic<uint64_t> failures{0};
  Napi::ThreadSafeFunction on_fd;  // server mode with plaintext to JavaScript: receives the fds
  bool to_js = false;

  bool tls_on_accepted() const { return mode == "server"; }

  void Watch(End& e, Conn* c, bool in, bool out) {
    uint32_t want = (in ? EPOLLIN : 0u) | (out ? EPOLLOUT : 0u);
    if (e.watched && want == e.events) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.ptr = c;
    ::epoll_ctl(epoll_fd, e.watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, e.fd, &ev);
    e.watched = true;
    e.events = want;
  }

  void Kill(Conn* c, std::vector<Conn*>& graveyard) {
    if (c->dead) return;
    c->dead = true;
    for (End* e : {&c->a, &c->b}) {
      if (e->ssl != nullptr) SSL_free(e->ssl);
      if (e->fd >= 0) ::close(e->fd);  // also removes it from the epoll set
    }
    graveyard.push_back(c);
  }

  // The handshake on the TLS end; true once done (and verified), false while it waits.
  bool Handshake(Conn* c, End& t, std::vector<Conn*>& graveyard) {
    int r = SSL_do_handshake(t.ssl);
    if (r == 1) {
      c->handshaken = true;
      handshakes.fetch_add(1, std::memory_order_relaxed);
      if (mode == "server") {
        // The client identity: the first SAN of the verified leaf (what the proxy would record).
        X509* peer = SSL_get0_peer_certificate(t.ssl);
        auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(peer, NID_subject_alt_name, nullptr, nullptr));
        if (names == nullptr) {
          failures.fetch_add(1, std::memory_order_relaxed);
          Kill(c, graveyard);
          return false;
        }
        GENERAL_NAMES_free(names);
      }
      return true;
    }
    int err = SSL_get_error(t.ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      t.want_write = err == SSL_ERROR_WANT_WRITE;
      return false;
    }
    failures.fetch_add(1, std::memory_order_relaxed);
    ERR_clear_error();
    Kill(c, graveyard);
    return false;
  }

  void Serve(Conn* c, std::vector<Conn*>& graveyard) {
    if (c->dead) return;
    End& t = tls_on_accepted() ? c->a : c->b;
    t.want_write = false;
    if (!c->handshaken) {
      if (!Handshake(c, t, graveyard)) {
        if (!c->dead) {
          Watch(t, c, true, t.want_write);
          End& plain = tls_on_accepted() ? c->b : c->a;
          Watch(plain, c, false, false);
        }
        return;
      }
    }
    if (!Pump(c->a, c->b, c->a2b) || !Pump(c->b, c->a, c->b2a)) {
      ERR_clear_error();
      Kill(c, graveyard);
      return;
    }
    if (c->a.eof && c->b.eof && c->a2b.len == 0 && c->b2a.len == 0) {
      Kill(c, graveyard);
      return;
    }
    Watch(c->a, c, !c->a.eof && c->a2b.Room() > 0, c->b2a.len > 0 || c->a.want_write);
    Watch(c->b, c, !c->b.eof && c->b2a.Room() > 0, c->a2b.len > 0 || c->b.want_write);
  }

  // A non-blocking TCP connection to the upstream under way; -1 on failure.
  int DialUpstream(uint16_t port) {
    int up = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(up, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS) {
      ::close(up);
      return -1;
    }
    return up;
  }

  Conn* NewConn(int accepted_fd, int upstream_fd) {
    auto* c = new Conn();
    c->a.fd = accepted_fd;
    c->b.fd = upstream_fd;
    End& t = tls_on_accepted() ? c->a : c->b;
    t.ssl = SSL_new(ctx);
    SSL_set_fd(t.ssl, t.fd);
    if (tls_on_accepted()) {
      SSL_set_accept_state(t.ssl);
    } else {
      SSL_set_connect_state(t.ssl);
      SSL_set_tlsext_host_name(t.ssl, server_name.c_str());
      SSL_set_hostflags(t.ssl, X509_CHECK_FLAG_NO_WILDCARDS);
      SSL_set1_host(t.ssl, server_name.c_str());
    }
    return c;
  }

  void Accept() {
    for (;;) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      int up = -1;
      if (to_js) {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
          ::close(fd);
          continue;
        }
        up = pair[0];
        on_fd.NonBlockingCall(new int(pair[1]), [](Napi::Env env, Napi::Function callback, int* js_fd) {
          callback.Call({Napi::Number::New(env, *js_fd)});
          delete js_fd;
        });
      } else {
        up = DialUpstream(upstream_port);
      }
      if (up < 0) {
        ::close(fd);
        continue;
      }
      std::vector<Conn*> graveyard;
      Serve(NewConn(fd, up), graveyard);
      for (Conn* g : graveyard) delete g;
    }
  }

  // Called on the JavaScript thread: the plaintext end for JavaScript, or -errno. The epoll thread
  // drives the connection from its first event on; this thread never touches it again.
  int Originate(uint16_t port) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) return -errno;
    int up = DialUpstream(port);
    if (up < 0) {
      ::close(pair[0]);
      ::close(pair[1]);
      return -ECONNREFUSED;
    }
    Conn* c = NewConn(pair[0], up);
    // Only the upstream end is registered here; its first event (writable once connected) hands the
    // connection to the epoll thread, which registers the plaintext end itself.
    c->b.watched = true;
    c->b.events = EPOLLIN | EPOLLOUT;
    epoll_event ev{};
    ev.events = c->b.events;
    ev.data.ptr = c;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->b.fd, &ev);
    return pair[1];
  }

  void Loop() {
    epoll_event events[256];
    std::vector<Conn*> graveyard;
    for (;;) {
      int n = ::epoll_wait(epoll_fd, events, 256, -1);
      for (int i = 0; i < n; i++) {
        if (events[i].data.ptr == nullptr) {
          Accept();
        } else {
          Serve(static_cast<Conn*>(events[i].data.ptr), graveyard);
        }
      }
      for (Conn* g : graveyard) delete g;  // after the batch: later events may name them
      graveyard.clear();
    }
  }
};

std::string OpenSslError(const char* what) {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return std::string(what) + ": " + buf;
}

Relay* originator = nullptr;

// start(mode, listenPort, upstreamPort, certFile, keyFile, caFile, serverName[, onFd]) -> bound port, or a
// message. Server mode with onFd: plaintext goes to socketpairs handed to onFd(fd). Client mode with
// listenPort -1: no listener, originate(port) makes the connections (one such relay per process).
Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* relay = new Relay();  // lives as long as the process
  relay->mode = info[0].As<Napi::String>().Utf8Value();
  int32_t listen_arg = info[1].As<Napi::Number>().Int32Value();
  uint16_t listen_port = static_cast<uint16_t>(listen_arg);
  relay->upstream_port = static_cast<uint16_t>(info[2].As<Napi::Number>().Uint32Value());
  std::string cert = info[3].As<Napi::String>().Utf8Value();
  std::string key = info[4].As<Napi::String>().Utf8Value();
  std::string ca = info[5].As<Napi::String>().Utf8Value();
  relay->server_name = info[6].As<Napi::String>().Utf8Value();
  if (relay->mode != "server" && relay->mode != "client") return Napi::String::New(env, "mode must be server or client");

  SSL_CTX* ctx = SSL_CTX_new(relay->mode == "server" ? TLS_server_method() : TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);  // one read(2) per batch of records, not two per record
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) return Napi::String::New(env, OpenSslError("certificate"));
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) return Napi::String::New(env, OpenSslError("key"));
  if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) return Napi::String::New(env, OpenSslError("trust anchors"));
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // Without a session id context, an OpenSSL server that verifies clients fails every resumption.
  static const unsigned char kSessionContext[] = "meshlet";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  relay->ctx = ctx;
  if (info.Length() > 7 && info[7].IsFunction()) {
    relay->to_js = true;
    relay->on_fd = Napi::ThreadSafeFunction::New(env, info[7].As<Napi::Function>(), "tls-relay", 0, 1);
  }
  if (listen_arg < 0) {
    relay->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    originator = relay;
    std::thread([relay] { relay->Loop(); }).detach();
    return Napi::Number::New(env, 0);
  }

  relay->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(relay->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(listen_port);
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(relay->listen_fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 || ::listen(relay->listen_fd, 1024) != 0) {
    return Napi::String::New(env, std::string("listen: ") + strerror(errno));
  }
  socklen_t len = sizeof at;
  ::getsockname(relay->listen_fd, reinterpret_cast<sockaddr*>(&at), &len);
  relay->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  ::epoll_ctl(relay->epoll_fd, EPOLL_CTL_ADD, relay->listen_fd, &ev);
  std::thread([relay] { relay->Loop(); }).detach();
  return Napi::Number::New(env, ntohs(at.sin_port));
}

// originate(upstreamPort) -> the JavaScript end of a socketpair whose bytes go TLS-encrypted to
// 127.0.0.1:upstreamPort, or -errno.
Napi::Value Originate(const Napi::CallbackInfo& info) {
  if (originator == nullptr) return Napi::Number::New(info.Env(), -ENOTCONN);
  return Napi::Number::New(info.Env(), originator->Originate(static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value())));
}

// opensslVersion() -> the libssl this addon runs with (proves which TLS library answered).
Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), OpenSSL_version(OPENSSL_VERSION)); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("originate", Napi::Function::New(env, Originate));
  exports.Set("opensslVersion", Napi::Function::New(env, Version));
  return exports;
}

}  // namespace

NODE_API_MODULE(tls_relay, Init)
