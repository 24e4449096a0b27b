#pragma once

// The deterministic workload of the crash test: batch k of round r is a fixed set of samples,
// so the checker can rebuild exactly what every committed batch wrote.

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "model/labels.h"
#include "model/sample.h"

namespace hearth::tsdb::crash {

inline constexpr int64_t kT0 = 1700000000000;

struct BatchSample {
  int series;  // id, see SeriesLabels
  int64_t t;
  double v;
};

inline uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline int64_t BatchTime(int round, int64_t k) { return kT0 + round * 100000000LL + k * 1000; }

// Series 0..19 get a sample every batch, 20..99 every (id - 17)th batch (so some go idle and
// leave the head), and churn series 1000+ live for 50 batches each.
inline Labels SeriesLabels(int id) {
  LabelsBuilder b;
  b.Set("__name__", id >= 1000 ? "churn" : (id < 20 ? "steady" : "sparse"));
  b.Set("id", std::to_string(id));
  b.Set("job", "crash");
  return b.Build();
}

inline double Value(int series, int round, int64_t k) {
  const uint64_t h = Mix((static_cast<uint64_t>(series) << 40) ^
                         (static_cast<uint64_t>(round) << 32) ^ static_cast<uint64_t>(k));
  switch (h % 5) {
    case 0: return static_cast<double>(k * (series + 1));             // counter-like
    case 1: return static_cast<double>(h % 100000) / 100;             // decimal
    case 2: return std::bit_cast<double>(h | 1);                      // any bits (NaNs too)
    case 3: return h % 7 == 0 ? StaleNaN() : static_cast<double>(series);
    default: return static_cast<double>(h >> 11) * 0x1.0p-53;        // random in [0, 1)
  }
}

inline std::vector<BatchSample> Batch(int round, int64_t k) {
  std::vector<BatchSample> out;
  const int64_t t = BatchTime(round, k);
  for (int s = 0; s < 20; ++s) out.push_back({s, t, Value(s, round, k)});
  for (int s = 20; s < 100; ++s) {
    if (k % (s - 17) == 0) out.push_back({s, t, Value(s, round, k)});
  }
  const int churn = 1000 + round * 100000 + static_cast<int>(k / 50);
  out.push_back({churn, t, Value(churn, round, k)});
  return out;
}

}  // namespace hearth::tsdb::crash
