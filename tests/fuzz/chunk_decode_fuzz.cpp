// Fuzz target: the chunk decoder on untrusted bytes (chunks read back from disk, snapshots,
// imported data). Invariants: no crash, no read out of bounds; decoded timestamps strictly
// increase; a chunk that decodes re-encodes to a chunk that decodes to the same samples.
// Inputs starting with 0xA5 are instead turned into samples (varint time deltas and raw value
// bits), encoded with every parameter choice and decoded again, checking the round trip.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "tsdb/chunk/float_chunk.h"
#include "tsdb/chunk/varint.h"

namespace {

using namespace hearth;
using namespace hearth::tsdb;
using namespace hearth::tsdb::chunk;

bool SameSamples(const std::vector<Sample>& a, const std::vector<Sample>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].t != b[i].t) return false;
    if (std::bit_cast<uint64_t>(a[i].v) != std::bit_cast<uint64_t>(b[i].v)) return false;
  }
  return true;
}

void CheckRoundTrip(const std::vector<Sample>& samples, FloatParams params) {
  auto back = DecodeFloatChunk(EncodeFloatChunk(samples, params));
  if (!back.ok() || !SameSamples(*back, samples)) __builtin_trap();
  auto best = DecodeFloatChunk(EncodeFloatChunkBest(samples, params));
  if (!best.ok() || !SameSamples(*best, samples)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (!in.empty() && static_cast<uint8_t>(in[0]) == 0xA5) {
    in.remove_prefix(1);
    if (in.empty()) return 0;
    const auto params = FloatParams::FromByte(static_cast<uint8_t>(in[0]) & 0x1f);
    in.remove_prefix(1);
    std::vector<Sample> samples;
    int64_t t = -1000;
    while (samples.size() < static_cast<size_t>(kMaxSamples)) {
      uint64_t dt;
      if (!GetUvarint(&in, &dt) || in.size() < 8) break;
      if (dt == 0) dt = 1;
      int64_t next;
      if (__builtin_add_overflow(t, static_cast<int64_t>(dt & 0x7fffffffffffffff), &next)) break;
      t = next;
      uint64_t bits;
      std::memcpy(&bits, in.data(), 8);
      in.remove_prefix(8);
      samples.push_back({t, std::bit_cast<double>(bits)});
    }
    if (!samples.empty() && params) CheckRoundTrip(samples, *params);
    return 0;
  }

  FloatDecoder d;
  if (!d.Init(in).ok()) return 0;
  std::vector<Sample> samples;
  while (d.Next()) {
    if (!samples.empty() && d.t() <= samples.back().t) __builtin_trap();
    samples.push_back({d.t(), d.v()});
  }
  if (static_cast<int>(samples.size()) > d.count()) __builtin_trap();
  if (d.status().ok()) {
    if (static_cast<int>(samples.size()) != d.count()) __builtin_trap();
    auto h = ParseFloatHeader(in);
    if (!h.ok()) __builtin_trap();
    CheckRoundTrip(samples, h->params);
  }
  return 0;
}
