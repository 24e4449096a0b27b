#pragma once

// Series-at-a-time producers: selectors and range-vector functions hand their output series to
// a sink one at a time, so an aggregation on top can fold them in without materializing the
// whole intermediate matrix.

#include <functional>
#include <span>
#include <string_view>

#include "query/internal/eval.h"

namespace hearth::promql::internal {

// One input series of a range-vector function, and how its windows are placed.
struct RangeSeries {
  const Labels* labels = nullptr;
  std::span<const Sample> points;  // no stale markers
  bool drop_name = false;
  int64_t range = 0;               // windows are (end - range, end]
  int64_t fixed_end = 0;           // window end when `fixed` (@ modifier)
  bool fixed = false;
  int64_t offset = 0;

  int64_t WindowEnd(int64_t ts) const { return fixed ? fixed_end : ts - offset; }
};

// Calls f for each series under a matrix selector or subquery `range_expr`, evaluated for the
// steps of `ev`.
void ForEachRangeSeries(Evaluator& ev, const Expr& range_expr, std::string_view func,
                        const std::function<void(const RangeSeries&)>& f);

// The output series of a call of a range-vector function (rate(x[5m]), ...), one at a time.
void StreamRangeCall(Evaluator& ev, const Call& call, const SeriesSink& sink);

// Whether `e` can be streamed series by series (a vector selector or a range-vector function
// other than absent_over_time), and if so streams it.
bool CanStream(const Expr& e);
void StreamSeries(Evaluator& ev, const Expr& e, const SeriesSink& sink);

}  // namespace hearth::promql::internal
