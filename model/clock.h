#pragma once

// Clocks are passed in, never read from globals, so tests control time.
//
// Thread-safety: both implementations are safe to call from any thread.

#include <atomic>
#include <cstdint>

namespace hearth {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() const = 0;
};

class RealClock final : public Clock {
 public:
  int64_t NowMs() const override;
};

// A clock that only moves when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 0) : now_(start_ms) {}
  int64_t NowMs() const override { return now_.load(std::memory_order_relaxed); }
  void Set(int64_t ms) { now_.store(ms, std::memory_order_relaxed); }
  void Advance(int64_t ms) { now_.fetch_add(ms, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_;
};

// Nanoseconds on a monotonic clock, for measuring durations.
int64_t MonotonicNowNs();

}  // namespace hearth
