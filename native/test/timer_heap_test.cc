// Tests for native/frontdoor/timer_heap.h: timers fire earliest first and only when due, the wait
// until the next deadline is clamped, and a timer pushed while firing fires in the same run if due.
#include "frontdoor/timer_heap.h"

#include <vector>

#include "test/check.h"

namespace {

using meshlet::frontdoor::Timer;
using meshlet::frontdoor::TimerHeap;

TEST(wait_is_minus_one_when_empty_and_clamped_otherwise) {
  TimerHeap heap;
  CHECK_EQ(heap.WaitMs(1000, 60000), -1);
  heap.Push(Timer{1500, 1, 1});
  CHECK_EQ(heap.WaitMs(1000, 60000), 500);
  CHECK_EQ(heap.WaitMs(1000, 100), 100);
  CHECK_EQ(heap.WaitMs(2000, 60000), 0);  // overdue: do not sleep
  heap.Push(Timer{1200, 2, 1});
  CHECK_EQ(heap.WaitMs(1000, 60000), 200);  // the earliest counts
}

TEST(fires_due_timers_earliest_first_and_keeps_the_rest) {
  TimerHeap heap;
  for (int64_t deadline : {300, 100, 200, 500, 400}) heap.Push(Timer{deadline, static_cast<uint64_t>(deadline), 0});
  std::vector<uint64_t> fired;
  heap.RunDue(300, [&](const Timer& t) { fired.push_back(t.conn_id); });
  CHECK_EQ(fired.size(), size_t{3});
  CHECK_EQ(fired[0], uint64_t{100});
  CHECK_EQ(fired[1], uint64_t{200});
  CHECK_EQ(fired[2], uint64_t{300});
  CHECK_EQ(heap.size(), size_t{2});
  CHECK_EQ(heap.WaitMs(300, 60000), 100);
}

TEST(a_timer_pushed_while_firing_fires_now_only_if_due) {
  TimerHeap heap;
  heap.Push(Timer{100, 1, 1});
  std::vector<uint64_t> fired;
  heap.RunDue(100, [&](const Timer& t) {
    fired.push_back(t.conn_id);
    if (t.conn_id == 1) {
      heap.Push(Timer{100, 2, 1});  // due: same run
      heap.Push(Timer{150, 3, 1});  // not yet
    }
  });
  CHECK_EQ(fired.size(), size_t{2});
  CHECK_EQ(fired[1], uint64_t{2});
  CHECK_EQ(heap.size(), size_t{1});
  heap.Clear();
  CHECK(heap.empty());
}

}  // namespace
