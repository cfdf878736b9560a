// Commands posted to the front-door thread from other threads, and the eventfd that wakes it. A command
// may own an fd: refused (the queue is not open) or still queued when the queue closes, it closes that
// fd instead of running, so no fd handed to the front door is ever lost.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace meshlet::frontdoor {

class CommandQueue {
 public:
  CommandQueue() = default;
  ~CommandQueue() { Close(); }
  CommandQueue(const CommandQueue&) = delete;
  CommandQueue& operator=(const CommandQueue&) = delete;

  // Opens the wake fd and starts accepting commands. 0 or an errno (then nothing is open).
  int Open() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (wake_fd_ >= 0) return 0;
    int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return errno;
    wake_fd_ = fd;
    accepting_ = true;
    return 0;
  }

  // The fd the loop polls (readable after a Post); -1 when not open.
  int wake_fd() {
    std::lock_guard<std::mutex> lock(mutex_);
    return wake_fd_;
  }

  // Queues `run` and wakes the loop; false (and `owned_fd` closed) when the queue does not accept.
  bool Post(std::function<void()> run, int owned_fd = -1) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_) {
      if (owned_fd >= 0) ::close(owned_fd);
      return false;
    }
    commands_.push_back(Command{std::move(run), owned_fd});
    WakeLocked();
    return true;
  }

  // Stops accepting (later posts close their fds) and wakes the loop once more, so it sees it must end.
  void Refuse() {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
    if (wake_fd_ >= 0) WakeLocked();
  }

  // Loop thread: runs what was queued so far.
  void RunPending() {
    std::vector<Command> batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      uint64_t count;
      if (wake_fd_ >= 0) {
        ssize_t ignored = ::read(wake_fd_, &count, sizeof count);
        (void)ignored;
      }
      batch.swap(commands_);
    }
    for (auto& command : batch) command.run();
  }

  // Once the loop thread is gone: closes the fds of commands that never ran, then the wake fd (under
  // the lock, after `accepting_` went false: no Post can write into the fd number afterwards).
  // Idempotent; Open() may follow.
  void Close() {
    std::vector<Command> leftover;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      accepting_ = false;
      leftover.swap(commands_);
      if (wake_fd_ >= 0) ::close(wake_fd_);
      wake_fd_ = -1;
    }
    for (auto& command : leftover) {
      if (command.owned_fd >= 0) ::close(command.owned_fd);
    }
  }

 private:
  struct Command {
    std::function<void()> run;
    int owned_fd;  // -1: none
  };

  void WakeLocked() {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
    (void)ignored;
  }

  std::mutex mutex_;
  std::vector<Command> commands_;
  int wake_fd_ = -1;
  bool accepting_ = false;
};

}  // namespace meshlet::frontdoor
