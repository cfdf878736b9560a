// Tests for native/frontdoor/command_queue.h: commands run in order once the loop drains them, the
// wake fd becomes readable on a post, and an fd given with a command is closed when the queue refuses
// it (not open, refused, closed) or never ran it (still queued at Close).
#include "frontdoor/command_queue.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <vector>

#include "test/check.h"

namespace {

using meshlet::frontdoor::CommandQueue;

bool FdOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

int NewFd() { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); }

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(posts_run_in_order_and_wake_the_loop) {
  CommandQueue queue;
  CHECK_EQ(queue.Open(), 0);
  CHECK(!Readable(queue.wake_fd()));
  std::vector<int> ran;
  CHECK(queue.Post([&] { ran.push_back(1); }));
  CHECK(queue.Post([&] { ran.push_back(2); }));
  CHECK(Readable(queue.wake_fd()));
  queue.RunPending();
  CHECK(!Readable(queue.wake_fd()));  // the wake count was consumed
  CHECK_EQ(ran.size(), size_t{2});
  CHECK_EQ(ran[0], 1);
  CHECK_EQ(ran[1], 2);
  queue.RunPending();  // nothing queued: nothing runs
  CHECK_EQ(ran.size(), size_t{2});
}

TEST(a_command_that_runs_keeps_its_fd) {
  CommandQueue queue;
  CHECK_EQ(queue.Open(), 0);
  int fd = NewFd();
  int got = -1;
  CHECK(queue.Post([&, fd] { got = fd; }, fd));
  queue.RunPending();
  CHECK_EQ(got, fd);
  CHECK(FdOpen(fd));
  queue.Close();
  CHECK(FdOpen(fd));  // ran: the command owned it, not the queue
  ::close(fd);
}

TEST(refused_posts_close_their_fds) {
  CommandQueue queue;
  int before_open = NewFd();
  bool ran = false;
  CHECK(!queue.Post([&] { ran = true; }, before_open));
  CHECK(!FdOpen(before_open));
  CHECK_EQ(queue.Open(), 0);
  queue.Refuse();
  CHECK(Readable(queue.wake_fd()));  // the loop is woken to see it must end
  int after_refuse = NewFd();
  CHECK(!queue.Post([&] { ran = true; }, after_refuse));
  CHECK(!FdOpen(after_refuse));
  queue.Close();
  int after_close = NewFd();
  CHECK(!queue.Post([&] { ran = true; }, after_close));
  CHECK(!FdOpen(after_close));
  queue.RunPending();
  CHECK(!ran);
}

TEST(close_closes_fds_of_commands_never_run_and_the_wake_fd) {
  CommandQueue queue;
  CHECK_EQ(queue.Open(), 0);
  int wake = queue.wake_fd();
  int a = NewFd(), b = NewFd();
  bool ran = false;
  CHECK(queue.Post([&] { ran = true; }, a));
  CHECK(queue.Post([&] { ran = true; }));
  CHECK(queue.Post([&] { ran = true; }, b));
  queue.Close();
  CHECK(!ran);
  CHECK(!FdOpen(a));
  CHECK(!FdOpen(b));
  CHECK(!FdOpen(wake));
  CHECK_EQ(queue.wake_fd(), -1);
  queue.Close();  // idempotent
  CHECK_EQ(queue.Open(), 0);  // and reopenable
  CHECK(queue.Post([&] { ran = true; }));
  queue.RunPending();
  CHECK(ran);
}

}  // namespace
