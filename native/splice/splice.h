// Splice duplex core: moves bytes between two non-blocking sockets through one kernel pipe per
// direction — splice(2) for bulk, recv/send for small messages — and propagates half-close (FIN after
// the pipe is flushed) and failures by errno. No epoll, no Node-API: the caller drives readiness.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace meshlet::splice {

// The kernel's default pipe size, used when the caller asks for nothing else (the proxy asks for
// MESHLET_SPLICE_PIPE_SIZE). Larger pipes move more per wake-up but their pages count against
// fs.pipe-user-pages-soft for an unprivileged sidecar (64 MiB per user by default), past which the
// kernel hands out small pipes; bench/RESULTS.md records the measurements.
constexpr size_t kDefaultPipeBytes = 64 * 1024;

// A kernel pipe used as the in-flight buffer of one direction. `fill_bytes` tracks what sits in it,
// because EAGAIN from splice cannot tell "socket empty" from "pipe full".
struct Pipe {
  int read_fd = -1;
  int write_fd = -1;
  size_t capacity_bytes = 0;
  size_t fill_bytes = 0;

  // Returns 0 or the errno of pipe2(2). The capacity is a request; the kernel may round it.
  int Open(size_t wanted_bytes) noexcept {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return errno;
    read_fd = fds[0];
    write_fd = fds[1];
    int got = ::fcntl(write_fd, F_SETPIPE_SZ, static_cast<int>(wanted_bytes));
    if (got < 0) got = ::fcntl(write_fd, F_GETPIPE_SZ);  // over /proc/sys/fs/pipe-max-size: keep default
    capacity_bytes = got > 0 ? static_cast<size_t>(got) : 65536;
    return 0;
  }

  void Close() noexcept {
    if (read_fd >= 0) ::close(read_fd);
    if (write_fd >= 0) ::close(write_fd);
    read_fd = write_fd = -1;
    fill_bytes = 0;
  }
};

enum class Status : uint8_t {
  kBlocked,   // waiting for the source to be readable or the sink to be writable
  kFinished,  // source reached EOF, pipe flushed, sink shut down for writing
  kFailed,    // a syscall failed; Flow::error_errno and Flow::failed_fd say which and why
  kYielded,   // moved its byte budget and could move more: call again after serving others
};

// One direction of a duplex: source socket -> pipe -> sink socket.
struct Flow {
  int source_fd = -1;
  int sink_fd = -1;
  Pipe pipe;
  bool source_eof = false;
  bool sink_shut = false;
  uint64_t bytes_read = 0;     // taken from the source
  uint64_t bytes_written = 0;  // moved into the sink
  bool bulk = false;           // splicing (large transfers) rather than copying (small messages)
  // The pipe is opened on first need (a leftover of a copy, or bulk): a connection that only ever
  // carries small messages, or sits idle, costs no pipe fds and no pipe memory.
  size_t pipe_wanted_bytes = kDefaultPipeBytes;
  int error_errno = 0;
  int failed_fd = -1;
};

// Copies are bounded by what the pipe is sure to hold when a send leaves bytes behind: its capacity
// once open, else the smallest pipe the kernel hands out (one page, when pipe-user-pages-soft is hit).
constexpr size_t kSmallestPipeBytes = 4096;

namespace detail {
inline Status Fail(Flow& flow, int fd, int err) noexcept {
  flow.error_errno = err;
  flow.failed_fd = fd;
  return Status::kFailed;
}

// Opens the flow's pipe if it is not open yet; false (with the flow failed) when that is impossible.
inline bool EnsurePipe(Flow& flow) noexcept {
  if (flow.pipe.read_fd >= 0) return true;
  int err = flow.pipe.Open(flow.pipe_wanted_bytes);
  if (err == 0) return true;
  Fail(flow, -1, err);
  return false;
}

// Copy mode: recv into scratch, send what the sink takes, queue the rest in the (empty) pipe.
// Returns recv's result; a failure of the sink or the pipe is recorded in flow.error_errno.
inline ssize_t CopyThrough(Flow& flow, uint8_t* scratch, size_t copy_bytes) noexcept {
  ssize_t n = ::recv(flow.source_fd, scratch, copy_bytes, 0);
  if (n <= 0) return n;
  flow.bytes_read += static_cast<uint64_t>(n);
  ssize_t sent = ::send(flow.sink_fd, scratch, static_cast<size_t>(n), MSG_NOSIGNAL);
  if (sent < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      Fail(flow, flow.sink_fd, errno);
      return n;
    }
    sent = 0;
  }
  flow.bytes_written += static_cast<uint64_t>(sent);
  if (sent < n) {
    size_t left = static_cast<size_t>(n - sent);
    if (!EnsurePipe(flow)) return n;
    ssize_t queued = ::write(flow.pipe.write_fd, scratch + sent, left);
    if (queued != static_cast<ssize_t>(left)) {
      Fail(flow, flow.pipe.write_fd, queued < 0 ? errno : EIO);
      return n;
    }
    flow.pipe.fill_bytes = left;
  }
  if (static_cast<size_t>(n) == copy_bytes) flow.bulk = true;  // a full read: bulk from now on
  return n;
}

// Splice mode: moves what the source has into the pipe's free room. Returns splice's result.
inline ssize_t SpliceIn(Flow& flow, size_t copy_bytes) noexcept {
  size_t room = flow.pipe.capacity_bytes - flow.pipe.fill_bytes;
  ssize_t n = ::splice(flow.source_fd, nullptr, flow.pipe.write_fd, nullptr, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n <= 0) return n;
  flow.pipe.fill_bytes += static_cast<size_t>(n);
  flow.bytes_read += static_cast<uint64_t>(n);
  if (static_cast<size_t>(n) < copy_bytes) flow.bulk = false;  // small again: copy from now on
  return n;
}

}  // namespace detail

// A scratch buffer the caller owns (one per thread) for copying small transfers; see Pump.
struct Scratch {
  uint8_t* data = nullptr;
  size_t size_bytes = 0;
};

// Moves as many bytes as the sockets accept right now. Call it when the source is readable or the
// sink writable; it returns kBlocked once it has hit EAGAIN (or knows the source is drained).
//
// Like HAProxy's splice-auto it adapts to the traffic: small messages (request/response protocols
// such as redis) are copied with recv/send through `scratch`, which costs fewer and cheaper syscalls
// than two splices, and a read that fills the scratch switches the flow to splice(2) for bulk
// transfers; a short splice read switches it back. Bytes a short send leaves behind go into the pipe,
// so the pipe stays the only per-connection buffer and ordering is kept.
//
// `source_hup`: the caller saw the source hang up. Without it, a short recv means the receive queue
// is empty and a new edge will report more data, so the trailing EAGAIN read is skipped; with it the
// EOF still has to be read.
//
// The classic splice bug is shutting down the sink with bytes still in the pipe: FIN is sent only
// once the source hit EOF *and* the pipe is empty.
// `budget_bytes` bounds one call, so that one fast flow cannot starve the others on the thread: when
// it is used up while bytes still move, Pump returns kYielded (edge-triggered callers must then call
// again later without waiting for an event, since no new edge may come).
inline Status Pump(Flow& flow, Scratch scratch = {}, bool source_hup = true, uint64_t budget_bytes = UINT64_MAX) noexcept {
  const uint64_t read_before = flow.bytes_read;
  constexpr unsigned kFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
  for (;;) {
    bool progressed = false;
    // Leftovers of a copy must fit in the (empty) pipe, whatever size the kernel gave it.
    const size_t pipe_bytes = flow.pipe.read_fd >= 0 ? flow.pipe.capacity_bytes : kSmallestPipeBytes;
    const size_t copy_bytes = scratch.size_bytes < pipe_bytes ? scratch.size_bytes : pipe_bytes;
    if (flow.pipe.fill_bytes > 0) {
      ssize_t n = ::splice(flow.pipe.read_fd, nullptr, flow.sink_fd, nullptr, flow.pipe.fill_bytes, kFlags);
      if (n > 0) {
        flow.pipe.fill_bytes -= static_cast<size_t>(n);
        flow.bytes_written += static_cast<uint64_t>(n);
        progressed = true;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (!(n < 0 && errno == EAGAIN)) {
        return detail::Fail(flow, flow.sink_fd, n < 0 ? errno : EPIPE);
      }
    }
    const bool copying = flow.pipe.fill_bytes == 0 && !flow.bulk && copy_bytes > 0;
    if (!flow.source_eof && !copying && !detail::EnsurePipe(flow)) return Status::kFailed;
    if (!flow.source_eof && (copying || flow.pipe.fill_bytes < flow.pipe.capacity_bytes)) {
      ssize_t n = copying ? detail::CopyThrough(flow, scratch.data, copy_bytes) : detail::SpliceIn(flow, copy_bytes);
      if (n > 0) {
        if (flow.error_errno != 0) return Status::kFailed;  // the sink or the pipe failed
        progressed = true;
        if (copying && static_cast<size_t>(n) < copy_bytes && flow.pipe.fill_bytes == 0 && !source_hup) {
          return Status::kBlocked;  // a short recv emptied the receive queue
        }
      } else if (n == 0) {
        flow.source_eof = true;
        progressed = true;
      } else if (errno == EINTR) {
        continue;
      } else if (errno != EAGAIN) {
        return detail::Fail(flow, flow.source_fd, errno);
      }
    }
    if (flow.source_eof && flow.pipe.fill_bytes == 0) {
      if (!flow.sink_shut) {
        // ENOTCONN means the sink is already gone; the other direction will report it.
        ::shutdown(flow.sink_fd, SHUT_WR);
        flow.sink_shut = true;
      }
      return Status::kFinished;
    }
    if (!progressed) return Status::kBlocked;
    if (flow.bytes_read - read_before >= budget_bytes) return Status::kYielded;
  }
}

}  // namespace meshlet::splice
