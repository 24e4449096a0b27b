#pragma once

// Quantiles and fractions over classic histogram buckets (series with an `le` label), with
// Prometheus' rules: buckets sorted by upper bound, equal bounds merged, tiny float noise
// between neighbours ignored, decreasing counts forced up (reported as an info).

#include <string>
#include <vector>

namespace hearth::promql::internal {

struct Bucket {
  double upper_bound = 0;
  double count = 0;
};

struct BucketQuantileResult {
  double value = 0;
  bool forced_monotonic = false;
};

// histogram_quantile(q, buckets). Reorders `buckets`.
BucketQuantileResult BucketQuantile(double q, std::vector<Bucket>& buckets);

// histogram_fraction(lower, upper, buckets): the share of observations in (lower, upper].
// Values inside an infinitely wide bucket count as lying on its finite boundary (no
// interpolation across an infinite bucket). Reorders `buckets`.
double BucketFraction(double lower, double upper, std::vector<Bucket>& buckets);

// Prometheus' labels.FormatOpenMetricsFloat ("1.0", "0.25", "+Inf", "NaN").
std::string FormatOpenMetricsFloat(double f);

}  // namespace hearth::promql::internal
