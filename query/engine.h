#pragma once

// The PromQL engine: evaluates parsed expressions against a storage::Queryable with Prometheus
// 3.x semantics.
//
// Thread-safety: an Engine is shared by the API and the rule manager; Instant/Range may be
// called concurrently from many threads (bounded by EngineOptions::max_concurrency: further
// queries wait their turn).
//
// Errors (Status codes), which the API maps to Prometheus' error types:
//   kInvalidArgument   -> bad_data (400): parse errors, bad parameters (`1:15: parse error: ...`)
//   kExecution         -> execution (422): runtime errors ("vector cannot contain metrics with
//                         the same labelset", "query processing would load too many samples
//                         into memory in query execution", many-to-many matching, ...)
//   kDeadlineExceeded  -> timeout (503): "query timed out in expression evaluation"
//   kCancelled         -> canceled (499)

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/log.h"
#include "model/metrics.h"
#include "model/status.h"
#include "query/parser/ast.h"
#include "query/value.h"
#include "tsdb/storage/storage.h"

namespace hearth::promql {

struct EngineOptions {
  int64_t lookback_delta_ms = 5 * 60 * 1000;  // --query.lookback-delta
  int64_t timeout_ms = 2 * 60 * 1000;         // --query.timeout
  int64_t max_samples = 50'000'000;           // --query.max-samples
  int max_concurrency = 20;                   // --query.max-concurrency
  // Default step of subqueries without one (the global evaluation_interval).
  int64_t default_subquery_step_ms = 60 * 1000;
  metrics::Registry* registry = nullptr;      // for prometheus_engine_* metrics; may be null
  Logger logger = Logger::Discard();
};

struct QueryOptions {
  int64_t lookback_delta_ms = 0;  // 0: the engine's default
  int64_t timeout_ms = 0;         // 0: the engine's default; the smaller one wins
  bool per_step_stats = false;    // stats=all
  // Set to true from another thread to cancel the query (checked in evaluation loops).
  const std::atomic<bool>* cancel = nullptr;
};

// Warnings and infos as Prometheus annotations: "PromQL warning: ... (1:15)" style strings.
struct Annotations {
  std::vector<std::string> warnings;
  std::vector<std::string> infos;
};

// `stats=true|all` of the API (util/stats in Prometheus). Times in seconds.
struct QueryStats {
  double eval_total_time = 0;
  double result_sort_time = 0;
  double query_preparation_time = 0;
  double inner_eval_time = 0;
  double exec_queue_time = 0;
  double exec_total_time = 0;
  int64_t total_queryable_samples = 0;
  int64_t samples_read = 0;
  int64_t peak_samples = 0;
  // Only with per_step_stats: one entry per step, {t, samples}.
  std::vector<std::pair<int64_t, int64_t>> total_queryable_samples_per_step;
};

struct QueryResult {
  Value value;
  Annotations annotations;
  QueryStats stats;
};

class Engine {
 public:
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // An instant query at `t` (ms). The value is a Vector, Scalar, String, or a Matrix when the
  // expression is a range selector.
  Result<QueryResult> Instant(storage::Queryable& storage, std::string_view query, int64_t t,
                              const QueryOptions& opts = {});
  // A range query: [start, end] every `step` ms (step > 0). The value is always a Matrix,
  // sorted by labels.
  Result<QueryResult> Range(storage::Queryable& storage, std::string_view query, int64_t start,
                            int64_t end, int64_t step, const QueryOptions& opts = {});

  // The same with an expression parsed once (rules evaluate the same tree every interval).
  Result<QueryResult> InstantExpr(storage::Queryable& storage, const Expr& expr, int64_t t,
                                  const QueryOptions& opts = {});
  Result<QueryResult> RangeExpr(storage::Queryable& storage, const Expr& expr, int64_t start,
                                int64_t end, int64_t step, const QueryOptions& opts = {});

  const EngineOptions& options() const { return options_; }

 private:
  struct Impl;
  EngineOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::promql
