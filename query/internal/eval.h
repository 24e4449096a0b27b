#pragma once

// The PromQL evaluator behind query/engine.h.
//
// Every node evaluates over the evaluator's steps [start, end] every `interval` ms (an instant
// query is one step) and yields a SeriesList: series with at most one point per step, points in
// time order, each point's t the step time. Scalars are one value per step; strings one value.
// Work is done series-at-a-time wherever the operation allows it (selectors, range functions,
// element-wise functions, vector/scalar operators, the common aggregations); the rest (vector
// matching, topk, quantile, ...) transposes its input into per-step slices once.
//
// Errors that end the query (runtime errors, limits, timeout, cancellation) are thrown as
// EvalError from anywhere inside evaluation and caught once, in the engine (Style: exceptions
// only for errors that end a whole query, caught in one place).
//
// Thread-safety: an Evaluator and its QueryState belong to one query on one thread.

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "model/labels.h"
#include "model/sample.h"
#include "model/status.h"
#include "query/engine.h"
#include "query/parser/ast.h"
#include "tsdb/storage/storage.h"

namespace hearth::promql::internal {

// One series of an intermediate result. drop_name: the metric name (and the other metadata
// labels __type__ and __unit__) is to be removed when the query finishes (3.x delayed name
// removal); until then the label stays for grouping and matching.
struct Series {
  Labels labels;
  std::vector<Sample> points;
  bool drop_name = false;
};
using SeriesList = std::vector<Series>;
using SeriesSink = std::function<void(Series&&)>;

// The value of a node over all steps.
struct Value {
  ValueType type = ValueType::kNone;
  SeriesList series;           // kVector; kMatrix (a range selector at the top of an instant query)
  std::vector<double> scalar;  // kScalar: one value per step
  std::string str;             // kString
};

// Ends the query; carries the Status the engine returns.
class EvalError : public std::exception {
 public:
  explicit EvalError(Status s) : status_(std::move(s)) {}
  const Status& status() const { return status_; }
  const char* what() const noexcept override { return status_.message().c_str(); }

 private:
  Status status_;
};

[[noreturn]] void ThrowExecution(std::string msg);

// Warnings and infos, deduplicated by their text, in the order first seen.
class AnnotationSet {
 public:
  void AddWarning(std::string s);
  void AddInfo(std::string s);
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::vector<std::string>& infos() const { return infos_; }

 private:
  std::vector<std::string> warnings_, infos_;
};

// State shared by all evaluators of one query.
struct QueryState {
  storage::Querier* querier = nullptr;
  std::string_view query;  // the query text, for annotation positions ("" when unknown)
  int64_t lookback = 5 * 60 * 1000;
  int64_t max_samples = 50'000'000;
  int64_t default_subquery_step = 60 * 1000;
  // The query's own range (for @ start()/end(), start(), end(), step(), range()).
  int64_t query_start = 0, query_end = 0, query_step = 0;
  bool is_range_query = false;

  // Limits and cancellation.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* cancel = nullptr;
  uint32_t check_counter = 0;

  // Accounting: samples held in memory now (max_samples applies), their peak, samples read from
  // storage, samples processed per top-level step (stats=all).
  int64_t current_samples = 0;
  int64_t peak_samples = 0;
  int64_t samples_read = 0;
  int64_t total_samples = 0;
  bool per_step_stats = false;
  std::vector<int64_t> samples_per_step;  // indexed by top-level step

  AnnotationSet annotations;

  // Checks the deadline and the cancel flag (cheap; call it in loops). Throws EvalError.
  void Check();
  void CheckNow();
  // Adds n samples to the in-memory count and fails when over max_samples.
  void AddSamples(int64_t n);
  void ReleaseSamples(int64_t n) { current_samples -= n; }
  // Counts n samples processed at (top-level) step time t for stats=all.
  void RecordStepSamples(int64_t t, int64_t n);

  // "1:15" for a byte offset into the query.
  std::string Position(int pos) const;
  void Warn(std::string msg, const PositionRange& pos);
  void Info(std::string msg, const PositionRange& pos);
};

// The labels dropped by delayed name removal (__name__, __type__, __unit__).
Labels DropMetadataLabels(const Labels& l);
bool IsMetadataLabelName(std::string_view n);

// Durations written as duration expressions (`[step() * 2]`, `offset -range()`): the plain
// field when there is no expression, else the expression's value for this query (seconds in,
// ms out; step() is the query step, 0 for instant queries; range() is end - start).
int64_t ResolveDuration(const ExprPtr& expr, int64_t plain, int64_t query_step,
                        int64_t query_range);
int64_t OffsetOf(const VectorSelector& vs, const QueryState& q);
int64_t RangeOf(const MatrixSelector& ms, const QueryState& q);
int64_t RangeOf(const SubqueryExpr& sq, const QueryState& q);
int64_t StepOf(const SubqueryExpr& sq, const QueryState& q);
int64_t OffsetOf(const SubqueryExpr& sq, const QueryState& q);

// Strips parentheses (and the engine-internal step-invariant wrapper).
const Expr& Unwrap(const Expr& e);

class Evaluator {
 public:
  Evaluator(QueryState* q, int64_t start, int64_t end, int64_t interval);

  // Evaluates `e` over this evaluator's steps.
  Value Eval(const Expr& e);
  SeriesList EvalVector(const Expr& e);
  std::vector<double> EvalScalar(const Expr& e);

  int64_t start() const { return start_; }
  int64_t end() const { return end_; }
  int64_t interval() const { return interval_; }
  size_t NumSteps() const { return num_steps_; }
  int64_t StepTime(size_t i) const { return start_ + static_cast<int64_t>(i) * interval_; }
  size_t StepIndex(int64_t t) const { return static_cast<size_t>((t - start_) / interval_); }
  QueryState* state() const { return q_; }

  // Whether the subtree gives the same value at every step (Prometheus' step invariance:
  // selectors with @, literals, and functions of those except the time-dependent ones).
  static bool IsStepInvariant(const Expr& e);

  // The reference time of a selector with offset/@ at step time ts.
  int64_t SelectorTime(AtModifier at, int64_t at_ts, int64_t offset, int64_t ts) const;
  // The series of an instant vector selector, one at a time (points at the steps). With
  // sample_time_as_value, each point's value is the selected sample's timestamp in seconds.
  void SelectSeries(const VectorSelector& vs, bool sample_time_as_value, const char* func,
                    const SeriesSink& sink);
  SeriesList EvalVectorSelector(const VectorSelector& vs, bool sample_time_as_value,
                                const char* func);
  // The series under a subquery, evaluated on the subquery's own aligned steps.
  SeriesList EvalSubqueryInner(const SubqueryExpr& sq);

 private:
  Value EvalNode(const Expr& e);
  Value EvalOnceAndRepeat(const Expr& e);
  // Instant evaluation of a range selector or subquery (the query's value is a matrix).
  SeriesList EvalMatrixValue(const Expr& e);

  QueryState* q_;
  int64_t start_, end_, interval_;
  size_t num_steps_;
};

// The series a range function slides its windows over, and where each step's window ends.
struct RangeSource {
  SeriesList series;   // raw samples (no stale markers) or subquery results
  int64_t range = 0;   // window length; windows are (end - range, end]
  AtModifier at = AtModifier::kNone;
  int64_t at_ts = 0;
  int64_t offset = 0;
  const Expr* expr = nullptr;  // the matrix selector / subquery (position for annotations)
};

// Kahan-Babuska summation step, as Prometheus' kahansum.Inc.
inline void KahanInc(double inc, double* sum, double* c) {
  double t = *sum + inc;
  if (std::isinf(t)) {
    *c = 0;
  } else if (std::abs(*sum) >= std::abs(inc)) {
    *c += (*sum - t) + inc;
  } else {
    *c += (inc - t) + *sum;
  }
  *sum = t;
}

// Sorts ascending with NaN first (Prometheus' vectorByValueHeap order) and returns the q-quantile
// with linear interpolation; NaN for no values or q NaN, ±Inf for q out of [0, 1].
double Quantile(double q, std::vector<double>& values);

// Per-step view of a SeriesList: for step i, the (series index, value) pairs present.
struct StepSlices {
  std::vector<uint32_t> offsets;  // size steps+1
  std::vector<std::pair<uint32_t, double>> entries;
  std::span<const std::pair<uint32_t, double>> At(size_t step) const {
    return {entries.data() + offsets[step], entries.data() + offsets[step + 1]};
  }
};
StepSlices Transpose(const Evaluator& ev, const SeriesList& s);

// Collects per-step output into series keyed by labels, in first-seen order. Two samples with
// the same labels at the same step fail the query ("vector cannot contain metrics with the same
// labelset").
class OutputCollector {
 public:
  explicit OutputCollector(size_t steps) : steps_(steps) {}
  void Add(const Labels& l, int64_t t, double v, bool drop_name);
  SeriesList Take() { return std::move(out_); }

 private:
  size_t steps_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> index_;
  SeriesList out_;
};

// Merges series that ended up with equal labels if their points do not overlap in time; fails
// otherwise (Prometheus' mergeSeriesWithSameLabelset).
void MergeSameLabels(SeriesList* s);

// Series functions implemented in separate files.
Value EvalCall(Evaluator& ev, const Call& call);
Value EvalAggregate(Evaluator& ev, const AggregateExpr& agg);
Value EvalBinary(Evaluator& ev, const BinaryExpr& bin);

// Prometheus' ratio sampling of limit_ratio: whether the series is kept for ratio r.
bool AddRatioSample(double r, const Labels& l);

}  // namespace hearth::promql::internal
