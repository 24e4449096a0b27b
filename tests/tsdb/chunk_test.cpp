#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "model/sample.h"
#include "tsdb/chunk/float_chunk.h"

namespace hearth::tsdb::chunk {
namespace {

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// Samples compare by timestamp and by value bits (NaN payloads, -0).
void RequireSameSamples(const std::vector<Sample>& got, const std::vector<Sample>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("sample " << i);
    REQUIRE(got[i].t == want[i].t);
    REQUIRE(Bits(got[i].v) == Bits(want[i].v));
  }
}

void RoundTrip(const std::vector<Sample>& samples, FloatParams params = {}) {
  std::string bytes = EncodeFloatChunk(samples, params);
  auto decoded = DecodeFloatChunk(bytes);
  REQUIRE(decoded.ok());
  RequireSameSamples(*decoded, samples);
  // The best-params encoding decodes to the same samples too.
  FloatParams chosen;
  std::string best = EncodeFloatChunkBest(samples, params, &chosen);
  REQUIRE(best.size() <= bytes.size());
  auto again = DecodeFloatChunk(best);
  REQUIRE(again.ok());
  RequireSameSamples(*again, samples);
}

constexpr int64_t kT0 = 1700000000000;  // a realistic epoch ms

TEST_CASE("float chunk round-trips special values bit for bit", "[tsdb][chunk]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const double payload_nan = std::bit_cast<double>(uint64_t{0x7ff8000000000123});
  std::vector<Sample> s;
  int64_t t = kT0;
  for (double v : {1.0, nan, 1.0, inf, -inf, StaleNaN(), 0.0, -0.0, 0.0, -0.0, payload_nan,
                   StaleNaN(), StaleNaN(), 5.0, std::numeric_limits<double>::denorm_min(),
                   std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::lowest(), 0.1, 0.30000000000000004, 7.0}) {
    s.push_back({t, v});
    t += 15000;
  }
  RoundTrip(s);
  RoundTrip(s, {2, true});
  auto d = DecodeFloatChunk(EncodeFloatChunk(s, {}));
  REQUIRE(d.ok());
  REQUIRE(IsStaleNaN((*d)[5].v));
  REQUIRE(!IsStaleNaN((*d)[1].v));
  REQUIRE(std::signbit((*d)[7].v));
  REQUIRE(!std::signbit((*d)[6].v));
}

TEST_CASE("float chunk holds one sample", "[tsdb][chunk]") {
  for (double v : {0.0, -0.0, 42.0, 0.5, StaleNaN(), -1e300}) {
    RoundTrip({{kT0, v}});
    RoundTrip({{-5, v}}, {3, true});
  }
}

TEST_CASE("float chunk round-trips extreme and negative timestamps", "[tsdb][chunk]") {
  const int64_t lo = std::numeric_limits<int64_t>::min();
  const int64_t hi = std::numeric_limits<int64_t>::max();
  RoundTrip({{lo, 1}, {lo + 1, 2}, {0, 3}, {hi - 1, 4}, {hi, 5}});
  RoundTrip({{-1000000, 1}, {-999985, 1}, {-999970, 1}, {-2, 1}, {-1, 2}, {0, 2}, {1, 2}});
  RoundTrip({{lo, 1}, {hi, 1}});
}

TEST_CASE("float chunk round-trips irregular intervals", "[tsdb][chunk]") {
  std::mt19937_64 rng(7);
  std::vector<Sample> s;
  int64_t t = kT0;
  for (int i = 0; i < 300; ++i) {
    switch (rng() % 5) {
      case 0: t += 1; break;
      case 1: t += 15000 + static_cast<int64_t>(rng() % 7) - 3; break;
      case 2: t += static_cast<int64_t>(rng() % 100000) + 1; break;
      case 3: t += static_cast<int64_t>(rng() % (int64_t{1} << 40)) + 1; break;
      default: t += 15000; break;
    }
    s.push_back({t, static_cast<double>(rng() % 10)});
  }
  RoundTrip(s);
  RoundTrip(s, {0, true});
}

TEST_CASE("float chunk round-trips 120+ samples of realistic series", "[tsdb][chunk]") {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> noise(0, 1);
  for (int kind = 0; kind < 6; ++kind) {
    INFO("kind " << kind);
    std::vector<Sample> s;
    double counter = 1000, gauge = 50;
    for (int i = 0; i < 240; ++i) {
      int64_t t = kT0 + 15000 * i + (kind == 5 ? static_cast<int64_t>(rng() % 5) : 0);
      double v = 0;
      switch (kind) {
        case 0: v = 1; break;                                    // constant (up)
        case 1: counter += static_cast<double>(rng() % 200); v = counter; break;  // counter
        case 2: if (i == 100) counter = 0; counter += 3; v = counter; break;      // reset
        case 3: gauge += noise(rng); v = std::round(gauge * 100) / 100; break;    // decimals
        case 4: v = noise(rng); break;                                             // random
        case 5: counter += 0.25; v = counter; break;                              // float counter
      }
      s.push_back({t, v});
    }
    RoundTrip(s);
    RoundTrip(s, GuessParams(s[0].v));
    RoundTrip(s, {kMaxScale, true});
  }
}

TEST_CASE("float chunk encodes steady data compactly", "[tsdb][chunk]") {
  std::vector<Sample> constant, counter;
  for (int i = 0; i < 240; ++i) {
    constant.push_back({kT0 + 15000 * i, 1});
    counter.push_back({kT0 + 15000 * i, 1000.0 + 10 * i});
  }
  // One bit per sample plus the header for an unchanged value at a regular interval.
  REQUIRE(EncodeFloatChunk(constant, {}).size() < 50);
  // A counter with a steady rate: delta of delta 0 on both axes.
  FloatParams chosen;
  std::string best = EncodeFloatChunkBest(counter, {}, &chosen);
  REQUIRE(chosen.int_dod);
  REQUIRE(best.size() < 160);
}

TEST_CASE("float encoder bytes taken mid-stream decode to the prefix", "[tsdb][chunk]") {
  std::mt19937_64 rng(3);
  FloatEncoder e(GuessParams(10));
  std::vector<Sample> s;
  for (int i = 0; i < 150; ++i) {
    Sample x{kT0 + 1000 * i + static_cast<int64_t>(rng() % 3), (rng() % 4 == 0)
                                                                   ? std::sqrt(double(i))
                                                                   : double(rng() % 50)};
    e.Append(x.t, x.v);
    s.push_back(x);
    REQUIRE(e.ByteSize() == e.Bytes().size());
    auto d = DecodeFloatChunk(e.Bytes());
    REQUIRE(d.ok());
    RequireSameSamples(*d, s);
  }
  REQUIRE(e.count() == 150);
  REQUIRE(e.min_time() == s.front().t);
  REQUIRE(e.max_time() == s.back().t);
}

TEST_CASE("ToScaledInt accepts exact decimals only", "[tsdb][chunk]") {
  int64_t n;
  REQUIRE(ToScaledInt(12.34, 2, &n));
  REQUIRE(n == 1234);
  REQUIRE(!ToScaledInt(12.34, 1, &n));
  REQUIRE(ToScaledInt(-7, 0, &n));
  REQUIRE(n == -7);
  REQUIRE(!ToScaledInt(-0.0, 0, &n));
  REQUIRE(!ToScaledInt(std::nan(""), 0, &n));
  REQUIRE(!ToScaledInt(1e300, 0, &n));
  REQUIRE(!ToScaledInt(0.30000000000000004, kMaxScale, &n));
  REQUIRE(MinScale(0.53) == 2);
  REQUIRE(MinScale(1e15) == 0);
  REQUIRE(MinScale(std::sqrt(2.0)) == -1);
}

TEST_CASE("float chunk decoder rejects bad headers with a clear error", "[tsdb][chunk]") {
  auto err = [](std::string bytes) {
    auto r = DecodeFloatChunk(bytes);
    REQUIRE(!r.ok());
    REQUIRE(r.status().code() == StatusCode::kCorruption);
    return r.status().message();
  };
  REQUIRE(err("") == "empty chunk");
  REQUIRE(err(std::string("\x02\x01\x00\x00", 4)) ==
          "native histogram chunks are not supported yet");
  REQUIRE(err("\x07") == "unknown chunk encoding 0x07");
  REQUIRE(err(std::string("\x01\x00\x00\x00", 4)).find("sample count 0") != std::string::npos);
  REQUIRE(err(std::string("\x01\x01\x00\xff", 4)).find("parameter byte") != std::string::npos);
  REQUIRE(err(std::string("\x01\x01\x00", 3)).find("missing parameters") != std::string::npos);
}

TEST_CASE("float chunk decoder detects truncation and trailing bytes", "[tsdb][chunk]") {
  std::vector<Sample> s;
  for (int i = 0; i < 130; ++i) s.push_back({kT0 + 15000 * i + (i % 3), std::sin(i)});
  std::string bytes = EncodeFloatChunk(s, {});
  for (size_t len = 0; len < bytes.size(); ++len) {
    INFO("length " << len);
    auto r = DecodeFloatChunk(bytes.substr(0, len));
    REQUIRE(!r.ok());
    REQUIRE(r.status().code() == StatusCode::kCorruption);
  }
  auto r = DecodeFloatChunk(bytes + std::string(1, '\0'));
  REQUIRE(!r.ok());
  REQUIRE(r.status().message().find("after its 130 samples") != std::string::npos);
}

TEST_CASE("float chunk decoder survives random corruption", "[tsdb][chunk]") {
  std::mt19937_64 rng(11);
  std::vector<Sample> s;
  double c = 0;
  for (int i = 0; i < 200; ++i) {
    c += static_cast<double>(rng() % 100) / 4;
    s.push_back({kT0 + 15000 * i + static_cast<int64_t>(rng() % 4), i % 7 == 0 ? std::exp(c / 1000) : c});
  }
  const std::string good = EncodeFloatChunkBest(s, {});
  int errors = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bad = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<char>(1 << (rng() % 8));
    FloatDecoder d;
    if (!d.Init(bad).ok()) {
      ++errors;
      continue;
    }
    int64_t prev = std::numeric_limits<int64_t>::min();
    int n = 0;
    while (d.Next()) {
      REQUIRE(d.t() > prev);  // never out of order, even when wrong
      prev = d.t();
      ++n;
    }
    REQUIRE(n <= d.count());
    if (!d.status().ok()) ++errors;
  }
  // Most single-bit damage is caught (the stream is checked for exact length and order).
  REQUIRE(errors > 1500);
}

TEST_CASE("float params byte round-trips and rejects reserved bits", "[tsdb][chunk]") {
  for (int k = 0; k <= kMaxScale; ++k) {
    for (bool dod : {false, true}) {
      FloatParams p{static_cast<uint8_t>(k), dod};
      auto back = FloatParams::FromByte(p.ToByte());
      REQUIRE(back.has_value());
      REQUIRE(*back == p);
    }
  }
  REQUIRE(!FloatParams::FromByte(0x20).has_value());
  REQUIRE(!FloatParams::FromByte(0x80).has_value());
}

}  // namespace
}  // namespace hearth::tsdb::chunk
