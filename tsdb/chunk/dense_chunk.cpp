#include "tsdb/chunk/dense_chunk.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

#include "tsdb/chunk/bitstream.h"
#include "tsdb/chunk/float_chunk.h"
#include "tsdb/chunk/varint.h"

namespace hearth::tsdb::chunk {
namespace {

constexpr int kRiceEscape = 31;  // this many 1 bits introduce a raw 64-bit value
constexpr int kMaxRiceParam = 60;
constexpr int64_t kMaxInt = int64_t{1} << 53;
constexpr double kPow10[kMaxScale + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                           1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

enum TimeMode : uint8_t { kTimeRegular = 0, kTimeDod = 1, kTimeGrid = 2 };
enum ValueMode : uint8_t { kValueConst = 0, kValueInt = 1, kValueXor = 2 };

uint64_t RiceBits(uint64_t z, int k) {
  const uint64_t q = z >> k;
  return q < kRiceEscape ? q + 1 + static_cast<uint64_t>(k) : kRiceEscape + 64;
}

// The Rice parameter that codes `zs` in the fewest bits.
int BestRiceParam(const std::vector<uint64_t>& zs, uint64_t* total) {
  int best_k = 0;
  uint64_t best = ~uint64_t{0};
  for (int k = 0; k <= kMaxRiceParam; ++k) {
    uint64_t bits = 0;
    for (uint64_t z : zs) bits += RiceBits(z, k);
    if (bits < best) {
      best = bits;
      best_k = k;
    }
    if (k > 0 && bits > best + zs.size()) break;  // cost only rises from here
  }
  *total = best;
  return best_k;
}

void WriteRice(BitWriter& w, uint64_t z, int k) {
  const uint64_t q = z >> k;
  if (q < kRiceEscape) {
    w.Write(((uint64_t{1} << q) - 1) << 1, static_cast<int>(q) + 1);  // q ones, then a zero
    if (k > 0) w.Write(z & ((uint64_t{1} << k) - 1), k);
  } else {
    w.Write((uint64_t{1} << kRiceEscape) - 1, kRiceEscape);
    w.Write(z, 64);
  }
}

[[gnu::always_inline]] inline uint64_t ReadRice(BitReader& r, int k) {
  const uint64_t w = r.PeekWord();
  const int ones = std::countl_one(w);
  const int len = ones + 1 + k;
  if (ones < kRiceEscape && len <= 32) [[likely]] {
    // Unary part and remainder from one word.
    const uint64_t rem = k == 0 ? 0 : (w << (ones + 1)) >> (64 - k);
    r.Skip(len);
    return (static_cast<uint64_t>(ones) << k) | rem;
  }
  if (ones >= kRiceEscape) {
    r.Skip(kRiceEscape);
    return r.Read(64);
  }
  r.Skip(ones + 1);
  return (static_cast<uint64_t>(ones) << k) | r.Read(k);
}

// A Rice-coded section: u8 k, uvarint byte length, the bits.
void PutRiceSection(std::string* out, const std::vector<uint64_t>& zs, int k) {
  BitWriter w;
  for (uint64_t z : zs) WriteRice(w, z, k);
  out->push_back(static_cast<char>(k));
  PutUvarint(out, w.ByteCount());
  w.AppendTo(out);
}

uint64_t RiceSectionBytes(const std::vector<uint64_t>& zs, int* k) {
  uint64_t bits;
  *k = BestRiceParam(zs, &bits);
  return 1 + 3 + (bits + 7) / 8;
}

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// ---- encoding

void EncodeTimes(std::string* out, std::span<const Sample> s) {
  const size_t n = s.size();
  if (n == 1) return;
  std::vector<uint64_t> deltas(n - 1);
  bool regular = true;
  for (size_t i = 1; i < n; ++i) {
    deltas[i - 1] = static_cast<uint64_t>(s[i].t) - static_cast<uint64_t>(s[i - 1].t);
    regular = regular && deltas[i - 1] == deltas[0];
  }
  if (regular) {
    out->push_back(static_cast<char>(kTimeRegular));
    PutUvarint(out, deltas[0]);
    return;
  }
  // Delta of delta, or offsets from the grid t0 + i * step: the smaller.
  std::vector<uint64_t> dod;
  for (size_t i = 1; i < deltas.size(); ++i) {
    dod.push_back(ZigZag(static_cast<int64_t>(deltas[i] - deltas[i - 1])));
  }
  const uint64_t span = static_cast<uint64_t>(s[n - 1].t) - static_cast<uint64_t>(s[0].t);
  const uint64_t step = span / (n - 1);
  // Offsets from the grid t0 + anchor + i * step; the anchor (the median offset) centres them,
  // since t0 itself carries jitter.
  std::vector<int64_t> offsets;
  for (size_t i = 1; i < n; ++i) {
    const uint64_t at = static_cast<uint64_t>(s[0].t) + step * i;
    offsets.push_back(static_cast<int64_t>(static_cast<uint64_t>(s[i].t) - at));
  }
  std::vector<int64_t> sorted = offsets;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(sorted.size() / 2),
                   sorted.end());
  const int64_t anchor = sorted[sorted.size() / 2];
  std::vector<uint64_t> grid;
  for (int64_t o : offsets) {
    grid.push_back(ZigZag(static_cast<int64_t>(static_cast<uint64_t>(o) -
                                               static_cast<uint64_t>(anchor))));
  }
  int k_dod, k_grid;
  const uint64_t dod_bytes = RiceSectionBytes(dod, &k_dod);
  const uint64_t grid_bytes = RiceSectionBytes(grid, &k_grid);
  if (dod_bytes <= grid_bytes) {
    out->push_back(static_cast<char>(kTimeDod));
    PutUvarint(out, deltas[0]);
    PutRiceSection(out, dod, k_dod);
  } else {
    out->push_back(static_cast<char>(kTimeGrid));
    PutUvarint(out, step);
    PutVarint(out, anchor);
    PutRiceSection(out, grid, k_grid);
  }
}

void EncodeXorValues(std::string* out, std::span<const Sample> s) {
  out->push_back(static_cast<char>(kValueXor));
  uint64_t prev = std::bit_cast<uint64_t>(s[0].v);
  PutFixed64(out, prev);
  BitWriter w;
  int lead_w = -1, trail_w = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    const uint64_t bits = std::bit_cast<uint64_t>(s[i].v);
    const uint64_t x = bits ^ prev;
    prev = bits;
    if (x == 0) {
      w.Write(0, 1);
      continue;
    }
    w.Write(1, 1);
    int lead = std::min(std::countl_zero(x), 31);
    const int trail = std::countr_zero(x);
    const int m_new = 64 - lead - trail;
    if (lead_w >= 0 && lead >= lead_w && trail >= trail_w && 64 - lead_w - trail_w <= m_new + 11) {
      w.Write(0, 1);
      w.Write(x >> trail_w, 64 - lead_w - trail_w);
      continue;
    }
    w.Write(1, 1);
    w.Write(static_cast<uint64_t>(lead), 5);
    w.Write(static_cast<uint64_t>(m_new & 63), 6);
    w.Write(x >> trail, m_new);
    lead_w = lead;
    trail_w = trail;
  }
  w.AppendTo(out);
}

// Scaled-integer values; false when they do not suit (too many exceptions).
bool EncodeIntValues(std::string* out, std::span<const Sample> s) {
  const size_t n = s.size();
  int scale = 0;
  size_t representable = 0;
  for (const Sample& x : s) {
    int64_t v;
    if (ToScaledInt(x.v, scale, &v)) {
      ++representable;
      continue;
    }
    const int k = MinScale(x.v);
    if (k < 0) continue;
    ++representable;
    scale = std::max(scale, k);
  }
  if (representable * 2 < n) return false;
  std::vector<int64_t> ints;
  std::vector<std::pair<size_t, uint64_t>> exceptions;
  for (size_t i = 0; i < n; ++i) {
    int64_t v;
    if (ToScaledInt(s[i].v, scale, &v)) {
      ints.push_back(v);
    } else {
      exceptions.push_back({i, std::bit_cast<uint64_t>(s[i].v)});
    }
  }
  if (ints.empty() || exceptions.size() * 2 > n) return false;
  uint64_t unit = 0;
  for (size_t j = 1; j < ints.size(); ++j) {
    const int64_t d = ints[j] - ints[j - 1];
    unit = std::gcd(unit, static_cast<uint64_t>(d < 0 ? -d : d));
  }
  if (unit == 0) unit = 1;
  std::vector<uint64_t> delta, dod;
  int64_t prev = 0;
  for (size_t j = 1; j < ints.size(); ++j) {
    const int64_t x = (ints[j] - ints[j - 1]) / static_cast<int64_t>(unit);
    delta.push_back(ZigZag(x));
    dod.push_back(ZigZag(x - prev));
    prev = x;
  }
  int k_delta, k_dod;
  const uint64_t b_delta = RiceSectionBytes(delta, &k_delta);
  const uint64_t b_dod = RiceSectionBytes(dod, &k_dod);
  const bool use_dod = b_dod < b_delta;
  out->push_back(static_cast<char>(kValueInt));
  out->push_back(static_cast<char>(scale));
  out->push_back(static_cast<char>(use_dod ? 1 : 0));
  PutUvarint(out, unit);
  PutVarint(out, ints[0]);
  PutUvarint(out, exceptions.size());
  size_t last = 0;
  for (const auto& [i, bits] : exceptions) {
    PutUvarint(out, i - last);
    PutFixed64(out, bits);
    last = i;
  }
  PutRiceSection(out, use_dod ? dod : delta, use_dod ? k_dod : k_delta);
  return true;
}

void EncodeValues(std::string* out, std::span<const Sample> s) {
  const uint64_t first = std::bit_cast<uint64_t>(s[0].v);
  bool constant = true;
  for (const Sample& x : s) constant = constant && std::bit_cast<uint64_t>(x.v) == first;
  if (constant) {
    out->push_back(static_cast<char>(kValueConst));
    PutFixed64(out, first);
    return;
  }
  std::string as_int, as_xor;
  const bool have_int = EncodeIntValues(&as_int, s);
  EncodeXorValues(&as_xor, s);
  out->append(have_int && as_int.size() <= as_xor.size() ? as_int : as_xor);
}

// ---- decoding

struct Cursor {
  std::string_view in;
  bool U(uint64_t* v) { return GetUvarint(&in, v); }
  bool S(int64_t* v) { return GetVarint(&in, v); }
  bool Byte(uint8_t* b) {
    if (in.empty()) return false;
    *b = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    return true;
  }
  bool Fixed64(uint64_t* v) {
    if (in.size() < 8) return false;
    uint64_t x = 0;
    for (int i = 7; i >= 0; --i) x = (x << 8) | static_cast<uint8_t>(in[static_cast<size_t>(i)]);
    in.remove_prefix(8);
    *v = x;
    return true;
  }
};

Status Corrupt(std::string_view what) {
  return Errorf(StatusCode::kCorruption, "dense chunk corrupt: {}", what);
}

// Reads a Rice section header and returns a reader over its bits; the section must be
// consumed by exactly `count` values (checked by FinishRice).
bool OpenRice(Cursor& c, int* k, BitReader* r, std::string_view* bits) {
  uint8_t kb;
  uint64_t len;
  if (!c.Byte(&kb) || kb > kMaxRiceParam || !c.U(&len) || len > c.in.size()) return false;
  *k = kb;
  *bits = c.in.substr(0, len);
  *r = BitReader(*bits);
  c.in.remove_prefix(len);
  return true;
}
bool FinishRice(BitReader& r) {
  if (r.Overrun()) return false;
  const size_t left = r.BitsLeft();
  return left < 8 && (left == 0 || r.Peek(static_cast<int>(left)) == 0);
}

Status DecodeTimes(Cursor& c, int64_t t0, std::vector<Sample>* out) {
  const size_t n = out->size();
  Sample* o = out->data();
  o[0].t = t0;
  if (n == 1) return Status::Ok();
  uint8_t mode;
  if (!c.Byte(&mode)) return Corrupt("missing timestamp section");
  uint64_t a;
  if (!c.U(&a)) return Corrupt("bad timestamp parameters");
  // Unsigned arithmetic: corrupt input wraps instead of overflowing; order is checked below.
  switch (mode) {
    case kTimeRegular: {
      // Increasing by construction unless the last timestamp overflows.
      const uint64_t room = static_cast<uint64_t>(kMaxTime) - static_cast<uint64_t>(t0);
      if (a == 0 || a > room / (n - 1)) return Corrupt("timestamps do not increase");
      uint64_t t = static_cast<uint64_t>(t0);
      for (size_t i = 1; i < n; ++i) o[i].t = static_cast<int64_t>(t += a);
      return Status::Ok();
    }
    case kTimeDod:
    case kTimeGrid: {
      int k;
      BitReader r;
      std::string_view bits;
      int64_t anchor = 0;
      if (mode == kTimeGrid && !c.S(&anchor)) return Corrupt("bad timestamp parameters");
      if (!OpenRice(c, &k, &r, &bits)) return Corrupt("bad timestamp bits");
      if (mode == kTimeDod) {
        uint64_t delta = a, t = static_cast<uint64_t>(t0) + a;
        o[1].t = static_cast<int64_t>(t);
        for (size_t i = 2; i < n; ++i) {
          delta += static_cast<uint64_t>(UnZigZag(ReadRice(r, k)));
          o[i].t = static_cast<int64_t>(t += delta);
        }
      } else {
        for (size_t i = 1; i < n; ++i) {
          o[i].t = static_cast<int64_t>(static_cast<uint64_t>(t0) + a * i +
                                        static_cast<uint64_t>(anchor) +
                                        static_cast<uint64_t>(UnZigZag(ReadRice(r, k))));
        }
      }
      if (!FinishRice(r)) return Corrupt("bad timestamp bits");
      break;
    }
    default:
      return Corrupt("unknown timestamp mode");
  }
  for (size_t i = 1; i < n; ++i) {
    if (o[i].t <= o[i - 1].t) return Corrupt("timestamps do not increase");
  }
  return Status::Ok();
}

Status DecodeXor(Cursor& c, std::vector<Sample>* out) {
  uint64_t bits;
  if (!c.Fixed64(&bits)) return Corrupt("missing first value");
  (*out)[0].v = std::bit_cast<double>(bits);
  BitReader r(c.in);
  int lead_w = -1, trail_w = 0;
  for (size_t i = 1; i < out->size(); ++i) {
    if (r.ReadBit()) {
      uint64_t x;
      if (!r.ReadBit()) {
        if (lead_w < 0) return Corrupt("XOR window reused before one was set");
        x = r.Read(64 - lead_w - trail_w) << trail_w;
      } else {
        const int lead = static_cast<int>(r.Read(5));
        int m = static_cast<int>(r.Read(6));
        if (m == 0) m = 64;
        if (lead + m > 64) return Corrupt("XOR window wider than 64 bits");
        trail_w = 64 - lead - m;
        lead_w = lead;
        x = r.Read(m) << trail_w;
      }
      if (x == 0) return Corrupt("XOR of a changed value is zero");
      bits ^= x;
    }
    (*out)[i].v = std::bit_cast<double>(bits);
    if (r.Overrun()) return Corrupt("value bits end early");
  }
  const size_t left = r.BitsLeft();
  if (left >= 8 || (left > 0 && r.Peek(static_cast<int>(left)) != 0)) {
    return Corrupt("bytes after the last value");
  }
  c.in = {};
  return Status::Ok();
}

Status DecodeInts(Cursor& c, std::vector<Sample>* out) {
  const size_t n = out->size();
  uint8_t scale, mode;
  uint64_t unit, nexc;
  int64_t first;
  if (!c.Byte(&scale) || scale > kMaxScale || !c.Byte(&mode) || mode > 1 || !c.U(&unit) ||
      unit == 0 || unit > static_cast<uint64_t>(kMaxInt) * 2 || !c.S(&first) || !c.U(&nexc) ||
      nexc >= n) {
    return Corrupt("bad integer parameters");
  }
  // Exceptions: positions (strictly increasing) and raw values.
  std::pair<uint32_t, uint64_t> exc_small[8];
  std::vector<std::pair<uint32_t, uint64_t>> exc_big;
  std::pair<uint32_t, uint64_t>* exc = exc_small;
  if (nexc > 8) {
    exc_big.resize(nexc);
    exc = exc_big.data();
  }
  size_t at = 0;
  for (uint64_t e = 0; e < nexc; ++e) {
    uint64_t gap, bits;
    if (!c.U(&gap) || !c.Fixed64(&bits) || (e > 0 && gap == 0) || gap >= n - at) {
      return Corrupt("bad exception list");
    }
    at += gap;
    exc[e] = {static_cast<uint32_t>(at), bits};
  }
  int k;
  BitReader r;
  std::string_view bits;
  if (!OpenRice(c, &k, &r, &bits)) return Corrupt("bad value bits");
  if (first < -kMaxInt || first > kMaxInt) return Corrupt("integer out of range");
  (void)bits;
  const double pow10 = kPow10[scale];
  Sample* o = out->data();
  // Unsigned arithmetic: corrupt input wraps (never undefined), and every integer is range
  // checked before it becomes a value.
  uint64_t cur = static_cast<uint64_t>(first), x = 0;
  constexpr uint64_t kLim = static_cast<uint64_t>(kMaxInt);
  if (nexc == 0) {
    // The common case, without exception bookkeeping.
    bool ok = true;
    if (scale == 0) {
      o[0].v = static_cast<double>(static_cast<int64_t>(cur));
      if (mode == 1) {
        for (size_t i = 1; i < n; ++i) {
          x += static_cast<uint64_t>(UnZigZag(ReadRice(r, k)));
          cur += x * unit;
          ok &= cur + kLim <= 2 * kLim;
          o[i].v = static_cast<double>(static_cast<int64_t>(cur));
        }
      } else {
        for (size_t i = 1; i < n; ++i) {
          cur += static_cast<uint64_t>(UnZigZag(ReadRice(r, k))) * unit;
          ok &= cur + kLim <= 2 * kLim;
          o[i].v = static_cast<double>(static_cast<int64_t>(cur));
        }
      }
    } else {
      o[0].v = static_cast<double>(static_cast<int64_t>(cur)) / pow10;
      for (size_t i = 1; i < n; ++i) {
        const auto z = static_cast<uint64_t>(UnZigZag(ReadRice(r, k)));
        x = mode == 1 ? x + z : z;
        cur += x * unit;
        ok &= cur + kLim <= 2 * kLim;
        o[i].v = static_cast<double>(static_cast<int64_t>(cur)) / pow10;
      }
    }
    if (!ok) return Corrupt("integer out of range");
  } else {
    size_t next_exc = 0;
    bool have_first = false;
    for (size_t i = 0; i < n; ++i) {
      if (next_exc < nexc && exc[next_exc].first == i) {
        o[i].v = std::bit_cast<double>(exc[next_exc++].second);
        continue;
      }
      if (have_first) {
        const auto z = static_cast<uint64_t>(UnZigZag(ReadRice(r, k)));
        x = mode == 1 ? x + z : z;
        cur += x * unit;
        if (cur + kLim > 2 * kLim) return Corrupt("integer out of range");
      }
      have_first = true;
      const auto v = static_cast<int64_t>(cur);
      o[i].v = scale == 0 ? static_cast<double>(v) : static_cast<double>(v) / pow10;
    }
  }
  if (!FinishRice(r)) return Corrupt("bad value bits");
  return Status::Ok();
}

}  // namespace

std::string EncodeDenseChunk(std::span<const Sample> samples) {
  std::string out;
  out.push_back(static_cast<char>(kEncodingDense));
  PutUvarint(&out, samples.size());
  PutVarint(&out, samples.empty() ? 0 : samples[0].t);
  if (samples.empty()) return out;
  EncodeTimes(&out, samples);
  EncodeValues(&out, samples);
  return out;
}

Status DecodeDenseChunk(std::string_view chunk, std::vector<Sample>* out) {
  Cursor c{chunk};
  uint8_t enc;
  uint64_t n;
  int64_t t0;
  if (!c.Byte(&enc) || enc != kEncodingDense) return Corrupt("not a dense chunk");
  if (!c.U(&n) || n == 0 || n > kMaxSamples) return Corrupt("sample count out of range");
  if (!c.S(&t0)) return Corrupt("bad first timestamp");
  out->resize(n);
  HEARTH_RETURN_IF_ERROR(DecodeTimes(c, t0, out));
  uint8_t mode;
  if (!c.Byte(&mode)) return Corrupt("missing value section");
  switch (mode) {
    case kValueConst: {
      uint64_t bits;
      if (!c.Fixed64(&bits)) return Corrupt("missing constant value");
      for (Sample& s : *out) s.v = std::bit_cast<double>(bits);
      break;
    }
    case kValueInt:
      HEARTH_RETURN_IF_ERROR(DecodeInts(c, out));
      break;
    case kValueXor:
      HEARTH_RETURN_IF_ERROR(DecodeXor(c, out));
      break;
    default:
      return Corrupt("unknown value mode");
  }
  if (!c.in.empty()) return Corrupt("bytes after the values");
  return Status::Ok();
}

}  // namespace hearth::tsdb::chunk
