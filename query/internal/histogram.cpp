#include "query/internal/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "model/format.h"

namespace hearth::promql::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
// Relative deltas between neighbouring buckets at most this large are float noise.
constexpr double kSmallDeltaTolerance = 1e-12;

// util/almost.Equal.
bool AlmostEqual(double a, double b, double epsilon) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  constexpr double kMinNormal = 2.2250738585072014e-308;
  double abs_sum = std::abs(a) + std::abs(b);
  double diff = std::abs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < epsilon * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < epsilon;
}

void SortAndCoalesce(std::vector<Bucket>& b) {
  std::stable_sort(b.begin(), b.end(),
                   [](const Bucket& x, const Bucket& y) { return x.upper_bound < y.upper_bound; });
  size_t out = 0;
  for (size_t i = 1; i < b.size(); ++i) {
    if (b[i].upper_bound == b[out].upper_bound) {
      b[out].count += b[i].count;
    } else {
      b[++out] = b[i];
    }
  }
  b.resize(out + 1);
}

// Returns whether monotonicity had to be forced.
bool EnsureMonotonic(std::vector<Bucket>& b) {
  bool forced = false;
  double prev = b[0].count;
  for (size_t i = 1; i < b.size(); ++i) {
    double curr = b[i].count;
    if (curr == prev) continue;
    if (AlmostEqual(prev, curr, kSmallDeltaTolerance)) {
      b[i].count = prev;
      continue;
    }
    if (curr < prev) {
      b[i].count = prev;
      forced = true;
      continue;
    }
    prev = curr;
  }
  return forced;
}

}  // namespace

BucketQuantileResult BucketQuantile(double q, std::vector<Bucket>& buckets) {
  if (std::isnan(q)) return {kNaN, false};
  if (q < 0) return {-kInf, false};
  if (q > 1) return {kInf, false};
  if (buckets.empty()) return {kNaN, false};
  SortAndCoalesce(buckets);
  if (!std::isinf(buckets.back().upper_bound) || buckets.back().upper_bound < 0) {
    return {kNaN, false};
  }
  bool forced = EnsureMonotonic(buckets);
  if (buckets.size() < 2) return {kNaN, false};
  double observations = buckets.back().count;
  if (observations == 0) return {kNaN, false};
  double rank = q * observations;
  // First bucket among all but the last whose count reaches the rank.
  size_t b = 0;
  {
    size_t lo = 0, hi = buckets.size() - 1;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (buckets[mid].count >= rank) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    b = lo;
  }
  if (b == buckets.size() - 1) return {buckets[buckets.size() - 2].upper_bound, forced};
  if (b == 0 && buckets[0].upper_bound <= 0) return {buckets[0].upper_bound, forced};
  double start = 0;
  double end = buckets[b].upper_bound;
  double count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].upper_bound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return {start + (end - start) * (rank / count), forced};
}

double BucketFraction(double lower, double upper, std::vector<Bucket>& buckets) {
  if (buckets.empty()) return kNaN;
  SortAndCoalesce(buckets);
  if (!std::isinf(buckets.back().upper_bound) || buckets.back().upper_bound < 0) return kNaN;
  EnsureMonotonic(buckets);
  double total = buckets.back().count;
  if (total == 0 || std::isnan(lower) || std::isnan(upper)) return kNaN;
  if (lower >= upper) return 0;

  // The rank (number of observations below) of a value v.
  auto rank_of = [&](double v) {
    double below = 0;
    double bucket_lower = buckets[0].upper_bound > 0 ? 0 : -kInf;
    for (size_t i = 0; i < buckets.size(); ++i) {
      if (i > 0) bucket_lower = buckets[i - 1].upper_bound;
      double bu = buckets[i].upper_bound;
      double cnt = buckets[i].count - (i > 0 ? buckets[i - 1].count : 0);
      if (v <= bucket_lower) return below;
      if (v < bu) {
        if (std::isinf(bucket_lower)) return below + cnt;  // treat v as the upper boundary
        if (std::isinf(bu)) return below;                  // treat v as the lower boundary
        return below + cnt * (v - bucket_lower) / (bu - bucket_lower);
      }
      below += cnt;
    }
    return below;
  };
  double lower_rank = std::min(rank_of(lower), total);
  double upper_rank = std::min(rank_of(upper), total);
  return (upper_rank - lower_rank) / total;
}

std::string FormatOpenMetricsFloat(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  std::string s = FormatGoFloat(f, 'g');
  if (f == std::floor(f) && s.find_first_of("e.") == std::string::npos) s += ".0";
  return s;
}

}  // namespace hearth::promql::internal
