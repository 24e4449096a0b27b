#pragma once

// Samples, the staleness marker and metric metadata.

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace hearth {

// Milliseconds since the Unix epoch; durations are also int64 milliseconds.
using Timestamp = int64_t;
inline constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

// The staleness marker: a NaN with a payload no arithmetic produces. Compare by bits only; an
// ordinary NaN sample is a value, not a marker.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

struct Sample {
  int64_t t = 0;
  double v = 0;
};

// Metric types as the exposition formats name them.
enum class MetricType { kUnknown, kCounter, kGauge, kHistogram, kGaugeHistogram, kSummary, kInfo,
                        kStateset };
std::string_view MetricTypeName(MetricType t);  // "counter", "gauge", ... ("unknown")
MetricType ParseMetricType(std::string_view s);  // unknown names give kUnknown

struct MetricMetadata {
  MetricType type = MetricType::kUnknown;
  std::string help;
  std::string unit;
  friend bool operator==(const MetricMetadata&, const MetricMetadata&) = default;
};

}  // namespace hearth
