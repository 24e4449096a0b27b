#pragma once

// Small synchronisation primitives for the head's hot paths.
//
// SpinLock: one byte, for critical sections of a few dozen nanoseconds (a series' open chunk,
// a shard of the ref map). Spins briefly, then yields.
//
// CommitGate: lets many commits apply their samples concurrently, and lets a query take a
// consistent cut of the head between commits (so it never sees half a batch). Queries are
// preferred: once one waits, new commits wait until it is done.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

namespace hearth::tsdb {

class SpinLock {
 public:
  void lock() {
    for (int spins = 0; locked_.exchange(true, std::memory_order_acquire); ++spins) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins > 64) std::this_thread::yield();
      }
    }
  }
  bool try_lock() { return !locked_.exchange(true, std::memory_order_acquire); }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

class CommitGate {
 public:
  void EnterCommit() {
    for (;;) {
      uint32_t s = state_.load(std::memory_order_acquire);
      if (s & kExclusive) {
        state_.wait(s, std::memory_order_acquire);
        continue;
      }
      if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) return;
    }
  }
  void ExitCommit() {
    const uint32_t prev = state_.fetch_sub(1, std::memory_order_acq_rel);
    if ((prev & kExclusive) && (prev & ~kExclusive) == 1) state_.notify_all();
  }
  void EnterExclusive() {
    exclusive_mu_.lock();
    state_.fetch_or(kExclusive, std::memory_order_acq_rel);
    for (;;) {
      uint32_t s = state_.load(std::memory_order_acquire);
      if ((s & ~kExclusive) == 0) return;
      state_.wait(s, std::memory_order_acquire);
    }
  }
  void ExitExclusive() {
    state_.fetch_and(~kExclusive, std::memory_order_acq_rel);
    state_.notify_all();
    exclusive_mu_.unlock();
  }

 private:
  static constexpr uint32_t kExclusive = 0x80000000u;
  std::atomic<uint32_t> state_{0};
  std::mutex exclusive_mu_;
};

}  // namespace hearth::tsdb
