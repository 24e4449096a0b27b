#pragma once

// Bit streams for the chunk codecs. Bits are written most-significant first, so a stream reads
// left to right in hex dumps and the bit format in tsdb/FORMAT.md maps one to one onto it.
//
// BitWriter keeps whole bytes in a growable buffer and up to 7 pending bits in a register;
// AppendTo() emits the stream padded with zero bits, without disturbing the writer, so a
// chunk that is still being appended can be copied for a query at any point.
//
// BitReader never reads outside [data, data + size): past the end it supplies zero bits and
// remembers how far it went, and the caller checks Overrun() once per decoded sample.
//
// Thread-safety: neither class is thread-safe.

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace hearth::tsdb::chunk {

class BitWriter {
 public:
  BitWriter() = default;
  BitWriter(BitWriter&&) noexcept = default;
  BitWriter& operator=(BitWriter&&) noexcept = default;
  BitWriter(const BitWriter& o) { *this = o; }
  BitWriter& operator=(const BitWriter& o) {
    if (this == &o) return *this;
    size_ = o.size_;
    cap_ = o.size_;
    buf_.reset(cap_ ? new uint8_t[cap_] : nullptr);
    if (size_) std::memcpy(buf_.get(), o.buf_.get(), size_);
    acc_ = o.acc_;
    nacc_ = o.nacc_;
    return *this;
  }

  // Writes the low `n` bits of `v`, most significant first. REQUIRES: 0 <= n <= 64 and no bits
  // of v above n are set.
  void Write(uint64_t v, int n) {
    if (n == 0) return;
    if (n > 56) {
      Write(v >> 32, n - 32);
      Write(v & 0xffffffffu, 32);
      return;
    }
    // acc_ holds nacc_ (< 8) pending bits in its low bits.
    acc_ = (acc_ << n) | v;
    nacc_ += n;
    if (nacc_ >= 8) Spill();
  }
  void WriteBit(bool b) { Write(b ? 1 : 0, 1); }

  // Bits written so far.
  uint64_t BitCount() const { return uint64_t{size_} * 8 + nacc_; }
  // Bytes of the padded stream.
  size_t ByteCount() const { return size_ + (nacc_ > 0 ? 1 : 0); }
  // Appends the stream, zero-padded to a whole byte, to `out`.
  void AppendTo(std::string* out) const {
    out->append(reinterpret_cast<const char*>(buf_.get()), size_);
    if (nacc_ > 0) out->push_back(static_cast<char>((acc_ << (8 - nacc_)) & 0xff));
  }
  // Heap bytes held.
  size_t MemoryBytes() const { return cap_; }
  // Raw state, for checkpoints: whole bytes, and the pending bits (< 8) in the low bits of acc.
  std::string_view whole_bytes() const {
    return {reinterpret_cast<const char*>(buf_.get()), size_};
  }
  uint64_t pending_bits() const { return acc_; }
  int pending_count() const { return nacc_; }
  // REQUIRES: nacc < 8 and acc < 2^nacc.
  void Restore(std::string_view bytes, uint64_t acc, int nacc) {
    Reallocate(static_cast<uint32_t>(bytes.size()));
    if (!bytes.empty()) std::memcpy(buf_.get(), bytes.data(), bytes.size());
    size_ = static_cast<uint32_t>(bytes.size());
    acc_ = acc;
    nacc_ = nacc;
  }
  // Drops spare capacity (for streams that will not grow much more).
  void ShrinkToFit() {
    if (cap_ == size_) return;
    Reallocate(size_);
  }

 private:
  void Spill() {
    int whole = nacc_ / 8;
    if (size_ + whole > cap_) Grow(size_ + whole);
    for (int j = 1; j <= whole; ++j) buf_[size_++] = static_cast<uint8_t>(acc_ >> (nacc_ - 8 * j));
    nacc_ -= whole * 8;
    acc_ &= (uint64_t{1} << nacc_) - 1;
  }
  void Grow(uint32_t need) {
    // Grow by half (at least 16 bytes): chunks live long in the head, so slack costs memory.
    uint32_t cap = cap_ < 16 ? 16 : cap_ + cap_ / 2;
    if (cap < need) cap = need;
    Reallocate(cap);
  }
  void Reallocate(uint32_t cap) {
    std::unique_ptr<uint8_t[]> b(cap ? new uint8_t[cap] : nullptr);
    if (size_) std::memcpy(b.get(), buf_.get(), size_);
    buf_ = std::move(b);
    cap_ = cap;
  }

  std::unique_ptr<uint8_t[]> buf_;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
  uint64_t acc_ = 0;
  int nacc_ = 0;
};

class BitReader {
 public:
  BitReader() = default;
  explicit BitReader(std::string_view data)
      : data_(reinterpret_cast<const uint8_t*>(data.data())), size_(data.size()) {}

  // The next n bits (1 <= n <= 56) without consuming them.
  uint64_t Peek(int n) {
    if (avail_ < n) Refill();
    return buf_ >> (64 - n);
  }
  void Skip(int n) {
    buf_ <<= n;
    avail_ -= n;
  }
  // Reads n bits, 0 <= n <= 64.
  uint64_t Read(int n) {
    if (n == 0) return 0;
    if (n > 56) {
      uint64_t hi = Read(n - 32);
      return (hi << 32) | Read(32);
    }
    uint64_t v = Peek(n);
    Skip(n);
    return v;
  }
  bool ReadBit() { return Read(1) != 0; }

  // Bits consumed so far (including zero bits supplied past the end).
  uint64_t BitsConsumed() const { return pos_ * 8 - static_cast<uint64_t>(avail_); }
  // Whether more bits were consumed than the stream holds.
  bool Overrun() const { return BitsConsumed() > uint64_t{size_} * 8; }
  // The bits between the current position and the end of the stream, if fewer than 8 remain
  // (the padding of the last byte); used to check that padding is zero.
  size_t BitsLeft() const {
    uint64_t used = BitsConsumed(), total = uint64_t{size_} * 8;
    return used >= total ? 0 : static_cast<size_t>(total - used);
  }

 private:
  void Refill() {
    // Loads whole bytes until at least 57 bits are available. Past the end, loads zeros and
    // keeps counting (pos_ may exceed size_), so Overrun() can tell.
    if (pos_ + 8 <= size_) {
      uint64_t w;
      std::memcpy(&w, data_ + pos_, 8);
      w = __builtin_bswap64(w);
      buf_ |= w >> avail_;
      size_t bytes = static_cast<size_t>(63 - avail_) >> 3;
      pos_ += bytes;
      avail_ += static_cast<int>(bytes) * 8;
      return;
    }
    while (avail_ <= 56) {
      uint64_t b = pos_ < size_ ? data_[pos_] : 0;
      buf_ |= b << (56 - avail_);
      ++pos_;
      avail_ += 8;
    }
  }

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;    // next byte to load
  uint64_t buf_ = 0;  // valid bits at the top
  int avail_ = 0;     // number of valid bits in buf_
};

}  // namespace hearth::tsdb::chunk
