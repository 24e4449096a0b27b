#include "query/engine.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "query/internal/engine_impl.h"
#include "query/internal/eval.h"

namespace hearth::promql {

using internal::EvalError;
using internal::QueryState;
using internal::SeriesList;

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The earliest and latest sample time any selector of `e` may read, as Prometheus'
// FindMinMaxTime: offsets, @, subquery ranges and the lookback delta included.
struct TimeRange {
  int64_t min = std::numeric_limits<int64_t>::max();
  int64_t max = std::numeric_limits<int64_t>::min();
};

int64_t AtTime(AtModifier at, int64_t ts, int64_t start, int64_t end) {
  switch (at) {
    case AtModifier::kStart: return start;
    case AtModifier::kEnd: return end;
    default: return ts;
  }
}

struct RangeCtx {
  int64_t start, end, lookback, step;
  int64_t Resolve(const ExprPtr& e, int64_t plain) const {
    return internal::ResolveDuration(e, plain, step, end - start);
  }
};

void FindTimeRange(const Expr& e, const RangeCtx& c, int64_t subq_offset, int64_t subq_range,
                   std::optional<int64_t> subq_at, int64_t eval_range, TimeRange* out) {
  const int64_t start = c.start, end = c.end, lookback = c.lookback;
  switch (e.kind) {
    case NodeKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      int64_t s = start, en = end;
      if (subq_at) s = en = *subq_at;
      if (vs.at != AtModifier::kNone) {
        s = en = AtTime(vs.at, vs.at_timestamp, start, end);
      } else {
        s -= subq_offset + subq_range;
        en -= subq_offset;
      }
      s -= (eval_range == 0 ? lookback : eval_range) - 1;
      const int64_t off = c.Resolve(vs.offset_expr, vs.original_offset);
      s -= off;
      en -= off;
      out->min = std::min(out->min, s);
      out->max = std::max(out->max, en);
      return;
    }
    case NodeKind::kMatrixSelector: {
      const auto& ms = static_cast<const MatrixSelector&>(e);
      FindTimeRange(*ms.vector_selector, c, subq_offset, subq_range, subq_at,
                    c.Resolve(ms.range_expr, ms.range), out);
      return;
    }
    case NodeKind::kSubquery: {
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      const int64_t own_off = c.Resolve(sq.offset_expr, sq.original_offset);
      const int64_t own_rng = c.Resolve(sq.range_expr, sq.range);
      int64_t off = subq_offset + own_off;
      int64_t rng = subq_range + own_rng;
      std::optional<int64_t> at = subq_at;
      if (sq.at != AtModifier::kNone) {
        off = own_off;
        rng = own_rng;
        at = AtTime(sq.at, sq.at_timestamp, start, end);
      }
      FindTimeRange(*sq.expr, c, off, rng, at, 0, out);
      return;
    }
    default:
      break;
  }
  auto visit = [&](const Expr& x) {
    FindTimeRange(x, c, subq_offset, subq_range, subq_at, 0, out);
  };
  switch (e.kind) {
    case NodeKind::kParen: visit(*static_cast<const ParenExpr&>(e).expr); break;
    case NodeKind::kStepInvariant: visit(*static_cast<const StepInvariantExpr&>(e).expr); break;
    case NodeKind::kUnary: visit(*static_cast<const UnaryExpr&>(e).expr); break;
    case NodeKind::kBinary:
      visit(*static_cast<const BinaryExpr&>(e).lhs);
      visit(*static_cast<const BinaryExpr&>(e).rhs);
      break;
    case NodeKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      if (a.param) visit(*a.param);
      visit(*a.expr);
      break;
    }
    case NodeKind::kCall:
      for (const auto& a : static_cast<const Call&>(e).args) visit(*a);
      break;
    default:
      break;
  }
}

// Delayed name removal at the end of the query: drops the metric name where an operation asked
// for it, then merges series that became equal (range results) or fails on duplicates.
void CleanupNames(SeriesList* s) {
  for (auto& x : *s) {
    if (x.drop_name) {
      x.labels = internal::DropMetadataLabels(x.labels);
      x.drop_name = false;
    }
  }
  internal::MergeSameLabels(s);
}

void SortByLabels(Matrix* m) {
  std::sort(m->begin(), m->end(),
            [](const MatrixSeries& a, const MatrixSeries& b) { return a.labels < b.labels; });
}

}  // namespace

Engine::Engine(EngineOptions options) : options_(std::move(options)), impl_(new Impl) {
  if (options_.max_concurrency <= 0) options_.max_concurrency = 1;
  if (options_.lookback_delta_ms <= 0) options_.lookback_delta_ms = 5 * 60 * 1000;
  if (options_.default_subquery_step_ms <= 0) options_.default_subquery_step_ms = 60 * 1000;
  if (options_.registry != nullptr) {
    auto& r = *options_.registry;
    impl_->queries_gauge = &r.NewGauge("prometheus_engine_queries",
                                       "The current number of queries being executed or waiting.");
    r.NewGauge("prometheus_engine_queries_concurrent_max", "The max number of concurrent queries.")
        .Set(options_.max_concurrency);
    impl_->samples_counter = &r.NewCounter("prometheus_engine_query_samples_total",
                                           "The total number of samples loaded by all queries.");
  }
}

Engine::~Engine() = default;

Result<QueryResult> Engine::InstantExpr(storage::Queryable& storage, const Expr& expr, int64_t t,
                                        const QueryOptions& opts) {
  return impl_->Run(options_, storage, "", expr, t, t, 0, opts);
}

Result<QueryResult> Engine::RangeExpr(storage::Queryable& storage, const Expr& expr,
                                      int64_t start, int64_t end, int64_t step,
                                      const QueryOptions& opts) {
  if (step <= 0) {
    return InvalidArgument("zero or negative query resolution step widths are not accepted. "
                           "Try a positive integer");
  }
  if (end < start) return InvalidArgument("end timestamp must not be before start time");
  ValueType t = expr.Type();
  if (t != ValueType::kVector && t != ValueType::kScalar) {
    return InvalidArgument("invalid expression type \"{}\" for range query, must be Scalar or "
                           "instant Vector",
                           DocumentedTypeName(t));
  }
  return impl_->Run(options_, storage, "", expr, start, end, step, opts);
}

Result<QueryResult> Engine::Impl::Run(const EngineOptions& options_, storage::Queryable& storage,
                                      std::string_view text, const Expr& expr, int64_t start,
                                      int64_t end, int64_t step, const QueryOptions& opts) {
  Impl* impl = this;
  const auto exec_start = Clock::now();
  int64_t timeout_ms = options_.timeout_ms;
  if (opts.timeout_ms > 0 && (timeout_ms <= 0 || opts.timeout_ms < timeout_ms)) {
    timeout_ms = opts.timeout_ms;
  }
  const auto deadline = timeout_ms > 0 ? exec_start + std::chrono::milliseconds(timeout_ms)
                                       : Clock::time_point::max();
  QueryResult result;

  // Wait for a slot (--query.max-concurrency).
  if (impl->queries_gauge != nullptr) impl->queries_gauge->Inc();
  struct GaugeDec {
    metrics::Gauge* g;
    ~GaugeDec() {
      if (g != nullptr) g->Dec();
    }
  } gauge_dec{impl->queries_gauge};
  Slot slot{impl};
  {
    std::unique_lock lock(impl->mu);
    while (impl->running >= options_.max_concurrency) {
      if (opts.cancel != nullptr && opts.cancel->load()) {
        return Status(StatusCode::kCancelled, "query was canceled in query queue");
      }
      if (Clock::now() >= deadline) {
        return Status(StatusCode::kDeadlineExceeded, "query timed out in query queue");
      }
      impl->cv.wait_for(lock, std::chrono::milliseconds(10));
    }
    impl->running++;
    slot.held = true;
  }
  const auto queue_end = Clock::now();
  result.stats.exec_queue_time = Seconds(queue_end - exec_start);

  QueryState q;
  q.query = text;
  q.lookback = opts.lookback_delta_ms > 0 ? opts.lookback_delta_ms : options_.lookback_delta_ms;
  q.max_samples = options_.max_samples > 0 ? options_.max_samples
                                           : std::numeric_limits<int64_t>::max();
  q.default_subquery_step = options_.default_subquery_step_ms;
  q.query_start = start;
  q.query_end = end;
  q.query_step = step;
  q.is_range_query = step > 0;
  q.deadline = deadline;
  q.cancel = opts.cancel;
  q.per_step_stats = opts.per_step_stats;
  const int64_t interval = step > 0 ? step : 1;
  const size_t steps = static_cast<size_t>((end - start) / interval) + 1;
  if (q.per_step_stats) q.samples_per_step.assign(steps, 0);

  TimeRange tr;
  try {
    FindTimeRange(expr, RangeCtx{start, end, q.lookback, step}, 0, 0, std::nullopt, 0, &tr);
  } catch (const EvalError& e) {
    return e.status();
  }
  if (tr.max == std::numeric_limits<int64_t>::min()) tr.min = tr.max = 0;
  auto querier = storage.NewQuerier(tr.min, tr.max);
  if (!querier.ok()) return querier.status();
  q.querier = querier->get();
  const auto prep_end = Clock::now();
  result.stats.query_preparation_time = Seconds(prep_end - queue_end);

  internal::Value value;
  try {
    q.CheckNow();
    internal::Evaluator ev(&q, start, end, step > 0 ? step : 1);
    value = ev.Eval(expr);
    if (value.type == ValueType::kVector || value.type == ValueType::kMatrix) {
      // Within one step equal labels cannot merge: that fails as a duplicate.
      CleanupNames(&value.series);
    }
    q.CheckNow();
  } catch (const EvalError& e) {
    return e.status();
  }
  const auto eval_end = Clock::now();
  result.stats.inner_eval_time = Seconds(eval_end - prep_end);

  // Convert to the API's value types.
  if (step == 0) {
    switch (value.type) {
      case ValueType::kScalar:
        result.value = Scalar{start, value.scalar.empty() ? 0 : value.scalar[0]};
        break;
      case ValueType::kString:
        result.value = String{start, value.str};
        break;
      case ValueType::kMatrix: {
        Matrix m;
        m.reserve(value.series.size());
        for (auto& s : value.series) m.push_back({std::move(s.labels), std::move(s.points)});
        SortByLabels(&m);
        result.value = std::move(m);
        break;
      }
      default: {
        Vector v;
        v.reserve(value.series.size());
        for (auto& s : value.series) {
          if (s.points.empty()) continue;
          v.push_back({std::move(s.labels), start, s.points[0].v});
        }
        result.value = std::move(v);
        break;
      }
    }
  } else {
    Matrix m;
    if (value.type == ValueType::kScalar) {
      MatrixSeries s;
      for (size_t i = 0; i < value.scalar.size(); ++i) {
        s.samples.push_back({start + static_cast<int64_t>(i) * step, value.scalar[i]});
      }
      m.push_back(std::move(s));
    } else {
      m.reserve(value.series.size());
      for (auto& s : value.series) {
        if (s.points.empty()) continue;
        m.push_back({std::move(s.labels), std::move(s.points)});
      }
    }
    SortByLabels(&m);
    result.value = std::move(m);
  }
  const auto end_time = Clock::now();
  result.stats.result_sort_time = Seconds(end_time - eval_end);
  result.stats.eval_total_time = Seconds(end_time - queue_end);
  result.stats.exec_total_time = Seconds(end_time - exec_start);
  result.stats.total_queryable_samples = q.total_samples;
  result.stats.samples_read = q.samples_read;
  result.stats.peak_samples = q.peak_samples;
  if (q.per_step_stats) {
    for (size_t i = 0; i < q.samples_per_step.size(); ++i) {
      result.stats.total_queryable_samples_per_step.push_back(
          {start + static_cast<int64_t>(i) * interval, q.samples_per_step[i]});
    }
  }
  result.annotations.warnings = q.annotations.warnings();
  result.annotations.infos = q.annotations.infos();
  if (impl->samples_counter != nullptr) {
    impl->samples_counter->Inc(static_cast<double>(q.total_samples));
  }
  return result;
}

}  // namespace hearth::promql
