// The front-door loop's deadlines on one min-heap. An entry names a connection and the generation it
// was armed with (a newer Arm or a disarm bumps the connection's generation, making older entries
// stale); conn_id 0 names a paused listener to resume instead.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

namespace meshlet::frontdoor {

struct Timer {
  int64_t deadline_ms;
  uint64_t conn_id;     // 0: a paused listener to resume (listener id in `generation`)
  uint32_t generation;
  bool operator>(const Timer& other) const { return deadline_ms > other.deadline_ms; }
};

class TimerHeap {
 public:
  void Push(const Timer& timer) { heap_.push(timer); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  void Clear() { heap_ = decltype(heap_)(); }

  // Milliseconds until the earliest deadline, in [0, max_wait_ms]; -1 when nothing is armed.
  int WaitMs(int64_t now_ms, int max_wait_ms) const {
    if (heap_.empty()) return -1;
    int64_t wait = heap_.top().deadline_ms - now_ms;
    return wait < 0 ? 0 : static_cast<int>(wait > max_wait_ms ? max_wait_ms : wait);
  }

  // Pops every timer due at `now_ms`, earliest first, and calls fire(timer); fire may push new ones
  // (a deadline still <= now_ms fires in the same call).
  template <typename Fire>
  void RunDue(int64_t now_ms, Fire fire) {
    while (!heap_.empty() && heap_.top().deadline_ms <= now_ms) {
      Timer timer = heap_.top();
      heap_.pop();
      fire(timer);
    }
  }

 private:
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> heap_;
};

}  // namespace meshlet::frontdoor
