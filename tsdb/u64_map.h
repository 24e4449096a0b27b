#pragma once

// U64Map: an open-addressing hash map from nonzero uint64 keys to pointers, with linear probing
// and backward-shift deletion (no tombstones). 16 bytes per slot at a load factor of at most
// 0.7: about a third of what std::unordered_map costs per entry, which matters at millions of
// head series.
//
// Thread-safety: none; the head guards each map with its shard lock.

#include <cstdint>
#include <memory>
#include <utility>

namespace hearth::tsdb {

template <typename T>
class U64Map {
 public:
  U64Map() = default;
  U64Map(U64Map&&) noexcept = default;
  U64Map& operator=(U64Map&&) noexcept = default;

  // The value of `key`, or nullptr. REQUIRES: key != 0.
  T* Get(uint64_t key) const {
    if (size_ == 0) return nullptr;
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return slots_[i].value;
      if (slots_[i].key == 0) return nullptr;
    }
  }
  // Inserts or replaces. REQUIRES: key != 0, value != nullptr.
  void Put(uint64_t key, T* value) {
    if ((size_ + 1) * 10 > cap_ * 7) Rehash(cap_ == 0 ? 16 : cap_ * 2);
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) {
        slots_[i].value = value;
        return;
      }
      if (slots_[i].key == 0) {
        slots_[i] = {key, value};
        ++size_;
        return;
      }
    }
  }
  // Removes `key`; returns whether it was present.
  bool Erase(uint64_t key) {
    if (size_ == 0) return false;
    size_t i = Home(key);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].key == key) break;
      if (slots_[i].key == 0) return false;
    }
    // Backward-shift: move later entries of the probe run into the hole when their home
    // position allows it.
    size_t hole = i;
    for (size_t j = (i + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
      size_t home = Home(slots_[j].key);
      // Entry j may move to `hole` if hole lies cyclically in [home, j).
      bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
      if (movable) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = {0, nullptr};
    --size_;
    return true;
  }
  size_t size() const { return size_; }
  size_t MemoryBytes() const { return cap_ * sizeof(Slot); }

  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < cap_; ++i) {
      if (slots_[i].key != 0) f(slots_[i].key, slots_[i].value);
    }
  }

 private:
  struct Slot {
    uint64_t key = 0;
    T* value = nullptr;
  };
  size_t Home(uint64_t key) const {
    // Fibonacci hashing: refs are sequential and label hashes are already mixed.
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_;
  }
  void Rehash(size_t cap) {
    std::unique_ptr<Slot[]> old = std::move(slots_);
    size_t old_cap = cap_;
    slots_.reset(new Slot[cap]);
    cap_ = cap;
    mask_ = cap - 1;
    size_ = 0;
    for (size_t i = 0; i < old_cap; ++i) {
      if (old[i].key != 0) Put(old[i].key, old[i].value);
    }
  }

  std::unique_ptr<Slot[]> slots_;
  size_t cap_ = 0;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace hearth::tsdb
