#pragma once

// The float chunk codec (encoding byte 0x01): delta-of-delta timestamps with a joint one-bit
// code for "same interval and same value", and values either as XOR of IEEE-754 bits (Gorilla)
// or, when they are decimals with at most 15 fractional digits, as deltas (or deltas of deltas)
// of scaled integers. The exact bit format is in tsdb/FORMAT.md ("Float chunks"); the comments
// here only summarise it.
//
// A chunk holds 1 to kMaxSamples samples with strictly increasing timestamps. Encoding is
// lossless for every float64 bit pattern (NaN payloads, the staleness marker, -0, ±Inf).
// Decoding never reads outside the given bytes and never trusts them: malformed input gives a
// kCorruption status naming what is wrong and at which sample.
//
// Thread-safety: encoders and decoders are not thread-safe; distinct objects are independent.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/sample.h"
#include "model/status.h"
#include "tsdb/chunk/bitstream.h"

namespace hearth::tsdb::chunk {

// The first byte of every chunk.
inline constexpr uint8_t kEncodingFloat = 0x01;
// Reserved for native histogram chunks (not implemented yet; decoders reject it clearly).
inline constexpr uint8_t kEncodingHistogram = 0x02;

inline constexpr int kMaxSamples = 65535;
inline constexpr int kMaxScale = 15;

// How values are coded when they are scaled integers. Stored in the chunk header.
struct FloatParams {
  uint8_t scale = 0;     // values are n / 10^scale for integer n; 0..kMaxScale
  bool int_dod = false;  // integers coded as delta of delta (counters) or as delta (gauges)

  uint8_t ToByte() const { return static_cast<uint8_t>(scale | (int_dod ? 0x10 : 0)); }
  static std::optional<FloatParams> FromByte(uint8_t b);
  friend bool operator==(const FloatParams&, const FloatParams&) = default;
};

// If v == n / 10^scale exactly (bit for bit, as the decoder computes it) for an integer n with
// |n| <= 2^53, stores n and returns true. False for NaN, ±Inf, -0 and values needing more
// digits.
bool ToScaledInt(double v, int scale, int64_t* n);
// The smallest scale that represents v, or -1.
int MinScale(double v);

// Appends samples to an open chunk. The encoded bytes can be taken at any point (for queries
// and checkpoints) while appending goes on.
class FloatEncoder {
 public:
  explicit FloatEncoder(FloatParams params = {}) : params_(params) {}

  // REQUIRES: count() < kMaxSamples, and t > max_time() unless the chunk is empty.
  void Append(int64_t t, double v);

  int count() const { return count_; }
  bool empty() const { return count_ == 0; }
  int64_t min_time() const { return t0_; }  // REQUIRES: !empty()
  int64_t max_time() const { return prev_t_; }
  double last_value() const;
  FloatParams params() const { return params_; }

  // Appends the chunk bytes (header and bit stream) to `out`.
  void AppendTo(std::string* out) const;
  std::string Bytes() const {
    std::string s;
    AppendTo(&s);
    return s;
  }
  // Size of Bytes() without building it.
  size_t ByteSize() const;
  // Heap bytes held by the encoder (for memory accounting).
  size_t MemoryBytes() const { return bw_.MemoryBytes(); }
  void ShrinkToFit() { bw_.ShrinkToFit(); }

  // The encoder's whole state (for head checkpoints, FORMAT.md section 5), so an open chunk
  // resumes without re-encoding its samples. LoadState checks the state is self-consistent
  // (kCorruption otherwise) and advances *in.
  void SaveState(std::string* out) const;
  static Result<FloatEncoder> LoadState(std::string_view* in);

 private:
  void WriteSigned(int64_t x, bool zero_code);
  void WriteXor(uint64_t bits);
  void WriteValue(double v, uint64_t bits);

  BitWriter bw_;
  int64_t t0_ = 0;
  int64_t prev_t_ = 0;
  int64_t prev_delta_ = 0;
  uint64_t prev_bits_ = 0;
  int64_t int_n_ = 0;      // the current integer (state INT)
  int64_t int_delta_ = 0;  // its last delta (int_dod mode)
  uint16_t count_ = 0;
  uint8_t lead_ = 0xff;    // XOR window; 0xff = none yet
  uint8_t trail_ = 0;
  bool int_state_ = false;
  FloatParams params_;
};

struct FloatHeader {
  int count = 0;
  int64_t t0 = 0;
  FloatParams params;
  size_t body_offset = 0;  // where the bit stream starts
};
// Parses and checks a float chunk header.
Result<FloatHeader> ParseFloatHeader(std::string_view chunk);

// Iterates the samples of a chunk in order.
//
// Usage: FloatDecoder d; if (!d.Init(bytes).ok()) ...; while (d.Next()) use(d.t(), d.v());
// then check d.status() (a corrupt chunk stops Next() with a kCorruption status). The bytes
// must outlive the decoder.
class FloatDecoder {
 public:
  FloatDecoder() = default;
  Status Init(std::string_view chunk);

  bool Next();
  // Decodes up to `max` samples into out; returns how many (0 at the end or on error).
  size_t NextBatch(Sample* out, size_t max);
  int64_t t() const { return t_; }
  double v() const;
  int count() const { return n_; }
  const Status& status() const { return status_; }

 private:
  bool Fail(std::string_view what);
  bool ReadSigned(int64_t* x, bool zero_code);
  bool ReadXor();
  bool ReadValueChanged();
  bool SetInt(uint64_t n);

  BitReader r_;
  Status status_;
  int n_ = 0;
  int i_ = 0;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint64_t bits_ = 0;
  uint64_t int_n_ = 0;      // unsigned: corrupt input may wrap; range-checked on use
  uint64_t int_delta_ = 0;
  double pow10_ = 1;
  uint8_t lead_ = 0xff;
  uint8_t trail_ = 0;
  bool int_state_ = false;
  bool int_dod_ = false;
  bool scaled_ = false;
  bool done_ = false;
};

// Decodes a whole chunk.
Result<std::vector<Sample>> DecodeFloatChunk(std::string_view chunk);

// Encodes samples (strictly increasing timestamps, 1..kMaxSamples of them).
std::string EncodeFloatChunk(std::span<const Sample> samples, FloatParams params);

// Encodes samples with the parameters that give the smallest chunk, trying `hint` and the
// scales the values call for with both integer modes. Used when a chunk is sealed, so the
// head can append with cheap guesses and disk still gets the dense form.
std::string EncodeFloatChunkBest(std::span<const Sample> samples, FloatParams hint,
                                 FloatParams* chosen = nullptr);

// A first guess of parameters from the first value of a chunk.
FloatParams GuessParams(double first_value);

}  // namespace hearth::tsdb::chunk
