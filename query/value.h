#pragma once

// Query results: the four PromQL value types as the API and rules consume them.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "model/labels.h"
#include "model/sample.h"

namespace hearth::promql {

struct Scalar {
  int64_t t = 0;
  double v = 0;
};

struct String {
  int64_t t = 0;
  std::string v;
};

// One element of an instant vector.
struct VectorSample {
  Labels labels;
  int64_t t = 0;
  double v = 0;
};
using Vector = std::vector<VectorSample>;

// One series of a range vector / range query result; samples in time order.
struct MatrixSeries {
  Labels labels;
  std::vector<Sample> samples;
};
using Matrix = std::vector<MatrixSeries>;

using Value = std::variant<Scalar, Vector, Matrix, String>;

}  // namespace hearth::promql
