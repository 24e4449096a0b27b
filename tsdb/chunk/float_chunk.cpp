#include "tsdb/chunk/float_chunk.h"

#include <bit>
#include <cmath>

#include "tsdb/chunk/varint.h"

namespace hearth::tsdb::chunk {
namespace {

constexpr double kPow10[kMaxScale + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                           1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
constexpr int64_t kMaxInt = int64_t{1} << 53;

// Bucket widths of the timestamp delta-of-delta after the joint control prefix ('110', '1110',
// '11110'; '11111' is a raw 64-bit escape).
constexpr int kDodBits1 = 5, kDodBits2 = 14, kDodBits3 = 24;
// Bucket widths of SIGNED integers ('0', '10', '110', '1110', '11110'; '11111' is 64 bits).
constexpr int kIntBits[5] = {3, 7, 12, 20, 32};

inline bool FitsSigned(int64_t x, int bits) {
  const int64_t lim = int64_t{1} << (bits - 1);
  return x >= -lim && x < lim;
}
inline uint64_t LowBits(uint64_t x, int bits) { return x & ((uint64_t{1} << bits) - 1); }
inline int64_t SignExtend(uint64_t v, int bits) {
  return static_cast<int64_t>(v << (64 - bits)) >> (64 - bits);
}
inline double IntValue(int64_t n, int scale) {
  return scale == 0 ? static_cast<double>(n) : static_cast<double>(n) / kPow10[scale];
}
size_t UvarintLen(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace

std::optional<FloatParams> FloatParams::FromByte(uint8_t b) {
  if ((b & 0xe0) != 0 || (b & 0x0f) > kMaxScale) return std::nullopt;
  return FloatParams{static_cast<uint8_t>(b & 0x0f), (b & 0x10) != 0};
}

bool ToScaledInt(double v, int scale, int64_t* n) {
  const double s = v * kPow10[scale];
  if (!(std::fabs(s) <= static_cast<double>(kMaxInt))) return false;  // also NaN
  const int64_t c = std::llrint(s);
  if (std::bit_cast<uint64_t>(IntValue(c, scale)) != std::bit_cast<uint64_t>(v)) return false;
  *n = c;
  return true;
}

int MinScale(double v) {
  int64_t n;
  for (int k = 0; k <= kMaxScale; ++k) {
    if (ToScaledInt(v, k, &n)) return k;
  }
  return -1;
}

FloatParams GuessParams(double first_value) {
  int k = MinScale(first_value);
  return FloatParams{static_cast<uint8_t>(k < 0 ? 0 : k), false};
}

// ---------------------------------------------------------------------------------------------
// Encoder

double FloatEncoder::last_value() const { return std::bit_cast<double>(prev_bits_); }

void FloatEncoder::WriteSigned(int64_t x, bool zero_code) {
  if (zero_code) {
    // Deltas of deltas of steady counters are mostly 0: one bit, then the usual buckets
    // behind a '1'.
    if (x == 0) {
      bw_.Write(0, 1);
      return;
    }
    bw_.Write(1, 1);
  }
  if (FitsSigned(x, kIntBits[0])) {
    bw_.Write(LowBits(static_cast<uint64_t>(x), kIntBits[0]), 1 + kIntBits[0]);  // '0' + bits
  } else if (FitsSigned(x, kIntBits[1])) {
    bw_.Write(0b10, 2);
    bw_.Write(LowBits(static_cast<uint64_t>(x), kIntBits[1]), kIntBits[1]);
  } else if (FitsSigned(x, kIntBits[2])) {
    bw_.Write(0b110, 3);
    bw_.Write(LowBits(static_cast<uint64_t>(x), kIntBits[2]), kIntBits[2]);
  } else if (FitsSigned(x, kIntBits[3])) {
    bw_.Write(0b1110, 4);
    bw_.Write(LowBits(static_cast<uint64_t>(x), kIntBits[3]), kIntBits[3]);
  } else if (FitsSigned(x, kIntBits[4])) {
    bw_.Write(0b11110, 5);
    bw_.Write(LowBits(static_cast<uint64_t>(x), kIntBits[4]), kIntBits[4]);
  } else {
    bw_.Write(0b11111, 5);
    bw_.Write(static_cast<uint64_t>(x), 64);
  }
}

void FloatEncoder::WriteXor(uint64_t bits) {
  const uint64_t x = bits ^ prev_bits_;  // nonzero: equal values are coded as "same"
  int lead = std::countl_zero(x);
  const int trail = std::countr_zero(x);
  if (lead > 31) lead = 31;
  const int m_new = 64 - lead - trail;
  if (lead_ != 0xff && lead >= lead_ && trail >= trail_) {
    const int m_old = 64 - lead_ - trail_;
    // Reusing costs 1 + m_old bits, a new window 1 + 11 + m_new.
    if (m_old <= m_new + 11) {
      bw_.Write(0, 1);
      bw_.Write(x >> trail_, m_old);
      return;
    }
  }
  bw_.Write(1, 1);
  bw_.Write(static_cast<uint64_t>(lead), 5);
  bw_.Write(static_cast<uint64_t>(m_new & 63), 6);
  bw_.Write(x >> trail, m_new);
  lead_ = static_cast<uint8_t>(lead);
  trail_ = static_cast<uint8_t>(trail);
}

// The value code after the stream has said "changed".
void FloatEncoder::WriteValue(double v, uint64_t bits) {
  int64_t n;
  if (int_state_) {
    if (ToScaledInt(v, params_.scale, &n)) {
      const int64_t d = n - int_n_;
      bw_.Write(0, 1);
      if (params_.int_dod) {
        WriteSigned(d - int_delta_, true);
      } else {
        WriteSigned(d, false);
      }
      int_n_ = n;
      int_delta_ = d;
    } else {
      bw_.Write(1, 1);
      WriteXor(bits);
      int_state_ = false;
    }
  } else {
    if (ToScaledInt(v, params_.scale, &n)) {
      bw_.Write(1, 1);
      WriteSigned(n, false);
      int_state_ = true;
      int_n_ = n;
      int_delta_ = 0;
    } else {
      bw_.Write(0, 1);
      WriteXor(bits);
    }
  }
}

void FloatEncoder::Append(int64_t t, double v) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (count_ == 0) {
    t0_ = prev_t_ = t;
    prev_delta_ = 0;
    int64_t n;
    if (ToScaledInt(v, params_.scale, &n)) {
      bw_.Write(1, 1);
      WriteSigned(n, false);
      int_state_ = true;
      int_n_ = n;
      int_delta_ = 0;
    } else {
      bw_.Write(0, 1);
      bw_.Write(bits, 64);
      int_state_ = false;
    }
    prev_bits_ = bits;
    count_ = 1;
    return;
  }
  // Unsigned arithmetic: deltas of extreme timestamps wrap, and the decoder wraps the same way.
  const uint64_t delta = static_cast<uint64_t>(t) - static_cast<uint64_t>(prev_t_);
  const auto dod = static_cast<int64_t>(delta - static_cast<uint64_t>(prev_delta_));
  const bool same = bits == prev_bits_;
  if (dod == 0) {
    if (same) {
      bw_.Write(0, 1);
    } else {
      bw_.Write(0b10, 2);
      WriteValue(v, bits);
    }
  } else {
    if (FitsSigned(dod, kDodBits1)) {
      bw_.Write(0b110, 3);
      bw_.Write(LowBits(static_cast<uint64_t>(dod), kDodBits1), kDodBits1);
    } else if (FitsSigned(dod, kDodBits2)) {
      bw_.Write(0b1110, 4);
      bw_.Write(LowBits(static_cast<uint64_t>(dod), kDodBits2), kDodBits2);
    } else if (FitsSigned(dod, kDodBits3)) {
      bw_.Write(0b11110, 5);
      bw_.Write(LowBits(static_cast<uint64_t>(dod), kDodBits3), kDodBits3);
    } else {
      bw_.Write(0b11111, 5);
      bw_.Write(static_cast<uint64_t>(dod), 64);
    }
    if (same) {
      bw_.Write(0, 1);
    } else {
      bw_.Write(1, 1);
      WriteValue(v, bits);
    }
  }
  if (same) int_delta_ = 0;  // an unchanged integer has delta 0
  prev_delta_ = static_cast<int64_t>(delta);
  prev_t_ = t;
  prev_bits_ = bits;
  ++count_;
}

void FloatEncoder::AppendTo(std::string* out) const {
  out->reserve(out->size() + ByteSize());
  out->push_back(static_cast<char>(kEncodingFloat));
  PutUvarint(out, count_);
  PutVarint(out, t0_);
  out->push_back(static_cast<char>(params_.ToByte()));
  bw_.AppendTo(out);
}

size_t FloatEncoder::ByteSize() const {
  return 2 + UvarintLen(count_) + UvarintLen(ZigZag(t0_)) + bw_.ByteCount();
}

void FloatEncoder::SaveState(std::string* out) const {
  out->push_back(static_cast<char>(params_.ToByte()));
  PutUvarint(out, count_);
  PutVarint(out, t0_);
  PutVarint(out, prev_t_);
  PutVarint(out, prev_delta_);
  PutUvarint(out, prev_bits_);
  PutVarint(out, int_n_);
  PutVarint(out, int_delta_);
  out->push_back(static_cast<char>(lead_));
  out->push_back(static_cast<char>(trail_));
  out->push_back(static_cast<char>(int_state_ ? 1 : 0));
  const std::string_view bytes = bw_.whole_bytes();
  PutUvarint(out, bytes.size());
  out->append(bytes);
  out->push_back(static_cast<char>(bw_.pending_count()));
  out->push_back(static_cast<char>(bw_.pending_bits()));
}

Result<FloatEncoder> FloatEncoder::LoadState(std::string_view* in) {
  auto bad = [](std::string_view what) {
    return Errorf(StatusCode::kCorruption, "open chunk state: bad {}", what);
  };
  if (in->empty()) return bad("parameters");
  auto params = FloatParams::FromByte(static_cast<uint8_t>((*in)[0]));
  if (!params) return bad("parameters");
  in->remove_prefix(1);
  FloatEncoder e(*params);
  uint64_t count, bits, nbytes;
  if (!GetUvarint(in, &count) || count > kMaxSamples) return bad("count");
  if (!GetVarint(in, &e.t0_) || !GetVarint(in, &e.prev_t_) || !GetVarint(in, &e.prev_delta_) ||
      !GetUvarint(in, &bits) || !GetVarint(in, &e.int_n_) || !GetVarint(in, &e.int_delta_)) {
    return bad("fields");
  }
  if (in->size() < 3) return bad("window");
  e.count_ = static_cast<uint16_t>(count);
  e.prev_bits_ = bits;
  e.lead_ = static_cast<uint8_t>((*in)[0]);
  e.trail_ = static_cast<uint8_t>((*in)[1]);
  e.int_state_ = (*in)[2] != 0;
  in->remove_prefix(3);
  if (e.lead_ != 0xff && (e.lead_ > 31 || e.lead_ + e.trail_ >= 64)) return bad("window");
  if (!GetUvarint(in, &nbytes) || nbytes > in->size() || nbytes > (1u << 20)) {
    return bad("stream length");
  }
  std::string_view bytes = in->substr(0, nbytes);
  in->remove_prefix(nbytes);
  if (in->size() < 2) return bad("pending bits");
  const int nacc = static_cast<uint8_t>((*in)[0]);
  const uint64_t acc = static_cast<uint8_t>((*in)[1]);
  in->remove_prefix(2);
  if (nacc >= 8 || acc >= (uint64_t{1} << nacc)) return bad("pending bits");
  if ((count == 0) != (nbytes == 0 && nacc == 0)) return bad("count");
  e.bw_.Restore(bytes, acc, nacc);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Decoder

Result<FloatHeader> ParseFloatHeader(std::string_view chunk) {
  std::string_view in = chunk;
  if (in.empty()) return Status(StatusCode::kCorruption, "empty chunk");
  const auto enc = static_cast<uint8_t>(in[0]);
  if (enc == kEncodingHistogram) {
    return Status(StatusCode::kCorruption, "native histogram chunks are not supported yet");
  }
  if (enc != kEncodingFloat) {
    return Errorf(StatusCode::kCorruption, "unknown chunk encoding 0x{:02x}", enc);
  }
  in.remove_prefix(1);
  FloatHeader h;
  uint64_t n;
  if (!GetUvarint(&in, &n)) return Status(StatusCode::kCorruption, "chunk header: bad count");
  if (n == 0 || n > kMaxSamples) {
    return Errorf(StatusCode::kCorruption, "chunk header: sample count {} out of range", n);
  }
  if (!GetVarint(&in, &h.t0)) {
    return Status(StatusCode::kCorruption, "chunk header: bad first timestamp");
  }
  if (in.empty()) return Status(StatusCode::kCorruption, "chunk header: missing parameters");
  auto params = FloatParams::FromByte(static_cast<uint8_t>(in[0]));
  if (!params) {
    return Errorf(StatusCode::kCorruption, "chunk header: bad parameter byte 0x{:02x}",
                  static_cast<uint8_t>(in[0]));
  }
  in.remove_prefix(1);
  h.count = static_cast<int>(n);
  h.params = *params;
  h.body_offset = chunk.size() - in.size();
  return h;
}

Status FloatDecoder::Init(std::string_view chunk) {
  *this = FloatDecoder();
  auto h = ParseFloatHeader(chunk);
  if (!h.ok()) {
    status_ = h.status();
    done_ = true;
    return status_;
  }
  r_ = BitReader(chunk.substr(h->body_offset));
  n_ = h->count;
  t_ = h->t0;
  int_dod_ = h->params.int_dod;
  scaled_ = h->params.scale != 0;
  pow10_ = kPow10[h->params.scale];
  return Status::Ok();
}

double FloatDecoder::v() const { return std::bit_cast<double>(bits_); }

bool FloatDecoder::Fail(std::string_view what) {
  done_ = true;
  status_ = Errorf(StatusCode::kCorruption, "chunk corrupt at sample {} of {}: {}", i_ + 1, n_,
                   what);
  return false;
}

bool FloatDecoder::ReadSigned(int64_t* x, bool zero_code) {
  if (zero_code && !r_.ReadBit()) {
    *x = 0;
    return true;
  }
  const uint64_t c = r_.Peek(5);
  if (c < 0b10000) {
    r_.Skip(1);
    *x = SignExtend(r_.Read(kIntBits[0]), kIntBits[0]);
  } else if (c < 0b11000) {
    r_.Skip(2);
    *x = SignExtend(r_.Read(kIntBits[1]), kIntBits[1]);
  } else if (c < 0b11100) {
    r_.Skip(3);
    *x = SignExtend(r_.Read(kIntBits[2]), kIntBits[2]);
  } else if (c < 0b11110) {
    r_.Skip(4);
    *x = SignExtend(r_.Read(kIntBits[3]), kIntBits[3]);
  } else if (c == 0b11110) {
    r_.Skip(5);
    *x = SignExtend(r_.Read(kIntBits[4]), kIntBits[4]);
  } else {
    r_.Skip(5);
    *x = static_cast<int64_t>(r_.Read(64));
  }
  return true;
}

bool FloatDecoder::SetInt(uint64_t n) {
  const auto s = static_cast<int64_t>(n);
  if (s < -kMaxInt || s > kMaxInt) return Fail("scaled integer out of range");
  int_n_ = n;
  const double v = scaled_ ? static_cast<double>(s) / pow10_ : static_cast<double>(s);
  bits_ = std::bit_cast<uint64_t>(v);
  return true;
}

bool FloatDecoder::ReadXor() {
  uint64_t x;
  if (!r_.ReadBit()) {
    if (lead_ == 0xff) return Fail("XOR window reused before one was set");
    x = r_.Read(64 - lead_ - trail_) << trail_;
  } else {
    const int lead = static_cast<int>(r_.Read(5));
    int m = static_cast<int>(r_.Read(6));
    if (m == 0) m = 64;
    if (lead + m > 64) return Fail("XOR window wider than 64 bits");
    const int trail = 64 - lead - m;
    x = r_.Read(m) << trail;
    lead_ = static_cast<uint8_t>(lead);
    trail_ = static_cast<uint8_t>(trail);
  }
  if (x == 0) return Fail("XOR of a changed value is zero");
  bits_ ^= x;
  return true;
}

bool FloatDecoder::ReadValueChanged() {
  const uint64_t old = bits_;
  int64_t x;
  if (int_state_) {
    if (!r_.ReadBit()) {
      ReadSigned(&x, int_dod_);
      const uint64_t d = int_dod_ ? int_delta_ + static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
      int_delta_ = d;
      if (!SetInt(int_n_ + d)) return false;
    } else {
      if (!ReadXor()) return false;
      int_state_ = false;
    }
  } else {
    if (!r_.ReadBit()) {
      if (!ReadXor()) return false;
    } else {
      ReadSigned(&x, false);
      if (!SetInt(static_cast<uint64_t>(x))) return false;
      int_state_ = true;
      int_delta_ = 0;
    }
  }
  if (bits_ == old) return Fail("value marked as changed is unchanged");
  return true;
}

bool FloatDecoder::Next() {
  if (done_) return false;
  if (i_ >= n_) {
    done_ = true;
    // The stream must end here: less than a byte of zero padding left.
    const size_t left = r_.BitsLeft();
    if (r_.Overrun() || left >= 8 || (left > 0 && r_.Peek(static_cast<int>(left)) != 0)) {
      status_ = Errorf(StatusCode::kCorruption, "chunk has {} bits after its {} samples", left,
                       n_);
    }
    return false;
  }
  if (i_ == 0) {
    if (r_.ReadBit()) {
      int64_t x;
      ReadSigned(&x, false);
      if (!SetInt(static_cast<uint64_t>(x))) return false;
      int_state_ = true;
      int_delta_ = 0;
    } else {
      bits_ = r_.Read(64);
      int_state_ = false;
    }
  } else {
    const uint64_t c = r_.Peek(5);
    uint64_t dod = 0;
    bool changed;
    if (c < 0b10000) {
      r_.Skip(1);
      changed = false;
    } else if (c < 0b11000) {
      r_.Skip(2);
      changed = true;
    } else {
      if (c < 0b11100) {
        r_.Skip(3);
        dod = static_cast<uint64_t>(SignExtend(r_.Read(kDodBits1), kDodBits1));
      } else if (c < 0b11110) {
        r_.Skip(4);
        dod = static_cast<uint64_t>(SignExtend(r_.Read(kDodBits2), kDodBits2));
      } else if (c == 0b11110) {
        r_.Skip(5);
        dod = static_cast<uint64_t>(SignExtend(r_.Read(kDodBits3), kDodBits3));
      } else {
        r_.Skip(5);
        dod = r_.Read(64);
      }
      changed = r_.ReadBit();
    }
    const uint64_t delta = static_cast<uint64_t>(delta_) + dod;
    const auto t = static_cast<int64_t>(static_cast<uint64_t>(t_) + delta);
    if (t <= t_) return Fail("timestamps do not increase");
    if (changed) {
      if (!ReadValueChanged()) return false;
    } else {
      int_delta_ = 0;
    }
    delta_ = static_cast<int64_t>(delta);
    t_ = t;
  }
  if (r_.Overrun()) return Fail("chunk ends early");
  ++i_;
  return true;
}

size_t FloatDecoder::NextBatch(Sample* out, size_t max) {
  size_t n = 0;
  while (n < max && Next()) out[n++] = Sample{t_, std::bit_cast<double>(bits_)};
  return n;
}

Result<std::vector<Sample>> DecodeFloatChunk(std::string_view chunk) {
  FloatDecoder d;
  HEARTH_RETURN_IF_ERROR(d.Init(chunk));
  std::vector<Sample> out;
  out.reserve(static_cast<size_t>(d.count()));
  while (d.Next()) out.push_back({d.t(), d.v()});
  if (!d.status().ok()) return d.status();
  return out;
}

std::string EncodeFloatChunk(std::span<const Sample> samples, FloatParams params) {
  FloatEncoder e(params);
  for (const Sample& s : samples) e.Append(s.t, s.v);
  return e.Bytes();
}

std::string EncodeFloatChunkBest(std::span<const Sample> samples, FloatParams hint,
                                 FloatParams* chosen) {
  // The largest scale any value needs, ignoring values no scale represents.
  int max_scale = -1;
  for (const Sample& s : samples) {
    int64_t n;
    if (max_scale >= 0 && ToScaledInt(s.v, max_scale, &n)) continue;
    int k = MinScale(s.v);
    if (k > max_scale) max_scale = k;
  }
  std::string best = EncodeFloatChunk(samples, hint);
  FloatParams best_params = hint;
  auto consider = [&](FloatParams p) {
    if (p == hint) return;
    std::string c = EncodeFloatChunk(samples, p);
    if (c.size() < best.size()) {
      best = std::move(c);
      best_params = p;
    }
  };
  if (max_scale >= 0) {
    consider({hint.scale, !hint.int_dod});
    consider({static_cast<uint8_t>(max_scale), false});
    consider({static_cast<uint8_t>(max_scale), true});
  }
  if (chosen) *chosen = best_params;
  return best;
}

}  // namespace hearth::tsdb::chunk
