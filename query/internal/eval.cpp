#include "query/internal/eval.h"

#include "query/internal/stream.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace hearth::promql::internal {

void ThrowExecution(std::string msg) {
  throw EvalError(Status(StatusCode::kExecution, std::move(msg)));
}

// ---------------------------------------------------------------------------------------------
// AnnotationSet, QueryState

void AnnotationSet::AddWarning(std::string s) {
  if (std::find(warnings_.begin(), warnings_.end(), s) == warnings_.end()) {
    warnings_.push_back(std::move(s));
  }
}

void AnnotationSet::AddInfo(std::string s) {
  if (std::find(infos_.begin(), infos_.end(), s) == infos_.end()) infos_.push_back(std::move(s));
}

void QueryState::Check() {
  if ((++check_counter & 0x3f) == 0) CheckNow();
}

void QueryState::CheckNow() {
  if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
    throw EvalError(Status(StatusCode::kCancelled, "query was canceled in expression evaluation"));
  }
  if (std::chrono::steady_clock::now() > deadline) {
    throw EvalError(
        Status(StatusCode::kDeadlineExceeded, "query timed out in expression evaluation"));
  }
}

void QueryState::RecordStepSamples(int64_t t, int64_t n) {
  if (query_step <= 0) return;
  int64_t k = t - query_start;
  if (k < 0 || k % query_step != 0) return;
  size_t i = static_cast<size_t>(k / query_step);
  if (i < samples_per_step.size()) samples_per_step[i] += n;
}

void QueryState::AddSamples(int64_t n) {
  current_samples += n;
  if (current_samples > peak_samples) peak_samples = current_samples;
  if (current_samples > max_samples) {
    throw EvalError(Status(StatusCode::kExecution,
                           "query processing would load too many samples into memory in query "
                           "execution"));
  }
}

std::string QueryState::Position(int pos) const {
  if (query.empty()) return "unknown position";
  if (pos < 0 || static_cast<size_t>(pos) > query.size()) return "invalid position";
  std::string_view before = query.substr(0, static_cast<size_t>(pos));
  int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  size_t nl = before.rfind('\n');
  int col = nl == std::string_view::npos ? pos + 1 : pos - static_cast<int>(nl);
  return fmt::format("{}:{}", line, col);
}

void QueryState::Warn(std::string msg, const PositionRange& pos) {
  if (!query.empty()) msg += " (" + Position(pos.start) + ")";
  annotations.AddWarning("PromQL warning: " + msg);
}

void QueryState::Info(std::string msg, const PositionRange& pos) {
  if (!query.empty()) msg += " (" + Position(pos.start) + ")";
  annotations.AddInfo("PromQL info: " + msg);
}

bool IsMetadataLabelName(std::string_view n) {
  return n == kMetricName || n == "__type__" || n == "__unit__";
}

Labels DropMetadataLabels(const Labels& l) {
  bool any = false;
  for (const Label& x : l) {
    if (IsMetadataLabelName(x.name)) {
      any = true;
      break;
    }
  }
  if (!any) return l;
  LabelsBuilder b(l);
  b.Del(kMetricName).Del("__type__").Del("__unit__");
  return b.Build();
}

namespace {

double DurationSeconds(const Expr& e, double step_s, double range_s) {
  switch (e.kind) {
    case NodeKind::kNumberLiteral:
      return static_cast<const NumberLiteral&>(e).value;
    case NodeKind::kParen:
      return DurationSeconds(*static_cast<const ParenExpr&>(e).expr, step_s, range_s);
    case NodeKind::kStepInvariant:
      return DurationSeconds(*static_cast<const StepInvariantExpr&>(e).expr, step_s, range_s);
    case NodeKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      double v = DurationSeconds(*u.expr, step_s, range_s);
      return u.op == BinaryOp::kSub ? -v : v;
    }
    case NodeKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      double l = DurationSeconds(*b.lhs, step_s, range_s);
      double r = DurationSeconds(*b.rhs, step_s, range_s);
      switch (b.op) {
        case BinaryOp::kAdd: return l + r;
        case BinaryOp::kSub: return l - r;
        case BinaryOp::kMul: return l * r;
        case BinaryOp::kDiv: return l / r;
        case BinaryOp::kMod: return std::fmod(l, r);
        case BinaryOp::kPow: return std::pow(l, r);
        default: break;
      }
      break;
    }
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      std::string_view n = c.func->name;
      if (n == "step") return step_s;
      if (n == "range") return range_s;
      if ((n == "min_of" || n == "max_of") && c.args.size() == 2) {
        double a = DurationSeconds(*c.args[0], step_s, range_s);
        double b = DurationSeconds(*c.args[1], step_s, range_s);
        if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
        return n == "min_of" ? std::min(a, b) : std::max(a, b);
      }
      break;
    }
    default:
      break;
  }
  throw EvalError(Status(StatusCode::kInvalidArgument, "invalid duration expression"));
}

}  // namespace

int64_t ResolveDuration(const ExprPtr& expr, int64_t plain, int64_t query_step,
                        int64_t query_range) {
  if (!expr) return plain;
  double s = DurationSeconds(*expr, static_cast<double>(query_step) / 1000,
                             static_cast<double>(query_range) / 1000);
  if (std::isnan(s) || std::isinf(s) || std::abs(s) > 9.2e15) {
    throw EvalError(Status(StatusCode::kInvalidArgument, "duration out of range"));
  }
  return std::llround(s * 1000);
}

namespace {
int64_t QStep(const QueryState& q) { return q.is_range_query ? q.query_step : 0; }
int64_t QRange(const QueryState& q) { return q.query_end - q.query_start; }

int64_t Positive(int64_t v) {
  if (v <= 0) {
    throw EvalError(Status(StatusCode::kInvalidArgument, "duration must be greater than 0"));
  }
  return v;
}
}  // namespace

int64_t OffsetOf(const VectorSelector& vs, const QueryState& q) {
  return ResolveDuration(vs.offset_expr, vs.original_offset, QStep(q), QRange(q));
}
int64_t RangeOf(const MatrixSelector& ms, const QueryState& q) {
  if (!ms.range_expr) return ms.range;
  return Positive(ResolveDuration(ms.range_expr, ms.range, QStep(q), QRange(q)));
}
int64_t RangeOf(const SubqueryExpr& sq, const QueryState& q) {
  if (!sq.range_expr) return sq.range;
  return Positive(ResolveDuration(sq.range_expr, sq.range, QStep(q), QRange(q)));
}
int64_t StepOf(const SubqueryExpr& sq, const QueryState& q) {
  if (!sq.step_expr) return sq.step;
  return Positive(ResolveDuration(sq.step_expr, sq.step, QStep(q), QRange(q)));
}
int64_t OffsetOf(const SubqueryExpr& sq, const QueryState& q) {
  return ResolveDuration(sq.offset_expr, sq.original_offset, QStep(q), QRange(q));
}

const Expr& Unwrap(const Expr& e) {
  const Expr* p = &e;
  for (;;) {
    if (p->kind == NodeKind::kParen) {
      p = static_cast<const ParenExpr*>(p)->expr.get();
    } else if (p->kind == NodeKind::kStepInvariant) {
      p = static_cast<const StepInvariantExpr*>(p)->expr.get();
    } else {
      return *p;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the operators.

double Quantile(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  // NaN sorts first, as in Prometheus' vectorByValueHeap.
  std::sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    if (std::isnan(b)) return false;
    return a < b;
  });
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

StepSlices Transpose(const Evaluator& ev, const SeriesList& s) {
  StepSlices out;
  size_t steps = ev.NumSteps();
  out.offsets.assign(steps + 1, 0);
  for (const Series& x : s) {
    for (const Sample& p : x.points) out.offsets[ev.StepIndex(p.t) + 1]++;
  }
  for (size_t i = 1; i <= steps; ++i) out.offsets[i] += out.offsets[i - 1];
  out.entries.resize(out.offsets[steps]);
  std::vector<uint32_t> fill(out.offsets.begin(), out.offsets.end() - 1);
  for (uint32_t si = 0; si < s.size(); ++si) {
    for (const Sample& p : s[si].points) {
      out.entries[fill[ev.StepIndex(p.t)]++] = {si, p.v};
    }
  }
  return out;
}

void OutputCollector::Add(const Labels& l, int64_t t, double v, bool drop_name) {
  auto& bucket = index_[l.Hash()];
  for (uint32_t idx : bucket) {
    Series& s = out_[idx];
    if (s.labels == l) {
      if (!s.points.empty() && s.points.back().t == t) {
        ThrowExecution("vector cannot contain metrics with the same labelset");
      }
      s.points.push_back({t, v});
      return;
    }
  }
  bucket.push_back(static_cast<uint32_t>(out_.size()));
  Series s;
  s.labels = l;
  s.drop_name = drop_name;
  s.points.reserve(std::min<size_t>(steps_, 1024));
  s.points.push_back({t, v});
  out_.push_back(std::move(s));
}

void MergeSameLabels(SeriesList* list) {
  if (list->size() <= 1) return;
  std::unordered_map<uint64_t, std::vector<uint32_t>> by_hash;
  bool dup = false;
  for (uint32_t i = 0; i < list->size(); ++i) {
    auto& v = by_hash[(*list)[i].labels.Hash()];
    for (uint32_t j : v) {
      if ((*list)[j].labels == (*list)[i].labels) dup = true;
    }
    v.push_back(i);
  }
  if (!dup) return;
  SeriesList out;
  std::vector<bool> used(list->size(), false);
  for (uint32_t i = 0; i < list->size(); ++i) {
    if (used[i]) continue;
    Series base = std::move((*list)[i]);
    used[i] = true;
    bool merged = false;
    for (uint32_t j : by_hash[base.labels.Hash()]) {
      if (used[j] || !((*list)[j].labels == base.labels)) continue;
      used[j] = true;
      merged = true;
      auto& pts = (*list)[j].points;
      base.points.insert(base.points.end(), pts.begin(), pts.end());
    }
    if (merged) {
      std::stable_sort(base.points.begin(), base.points.end(),
                       [](const Sample& a, const Sample& b) { return a.t < b.t; });
      for (size_t k = 1; k < base.points.size(); ++k) {
        if (base.points[k].t == base.points[k - 1].t) {
          ThrowExecution("vector cannot contain metrics with the same labelset");
        }
      }
    }
    out.push_back(std::move(base));
  }
  *list = std::move(out);
}

// ---------------------------------------------------------------------------------------------
// Evaluator

Evaluator::Evaluator(QueryState* q, int64_t start, int64_t end, int64_t interval)
    : q_(q), start_(start), end_(end), interval_(interval > 0 ? interval : 1) {
  num_steps_ = end_ < start_ ? 0 : static_cast<size_t>((end_ - start_) / interval_) + 1;
}

namespace {

bool IsAtUnsafeFunction(std::string_view name) {
  static constexpr std::string_view kUnsafe[] = {
      "days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour",      "minute",
      "month",         "year",         "predict_linear", "time",     "timestamp"};
  return std::find(std::begin(kUnsafe), std::end(kUnsafe), name) != std::end(kUnsafe);
}

int64_t CountPoints(const Value& v) {
  int64_t n = 0;
  for (const Series& s : v.series) n += static_cast<int64_t>(s.points.size());
  return n + static_cast<int64_t>(v.scalar.size());
}

}  // namespace

bool Evaluator::IsStepInvariant(const Expr& e) {
  switch (e.kind) {
    case NodeKind::kNumberLiteral:
    case NodeKind::kStringLiteral:
    case NodeKind::kStepInvariant:
      return true;
    case NodeKind::kVectorSelector:
      return static_cast<const VectorSelector&>(e).at != AtModifier::kNone;
    case NodeKind::kMatrixSelector:
      return IsStepInvariant(*static_cast<const MatrixSelector&>(e).vector_selector);
    case NodeKind::kSubquery:
      return static_cast<const SubqueryExpr&>(e).at != AtModifier::kNone;
    case NodeKind::kParen:
      return IsStepInvariant(*static_cast<const ParenExpr&>(e).expr);
    case NodeKind::kUnary:
      return IsStepInvariant(*static_cast<const UnaryExpr&>(e).expr);
    case NodeKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      return IsStepInvariant(*b.lhs) && IsStepInvariant(*b.rhs);
    }
    case NodeKind::kAggregate:
      return IsStepInvariant(*static_cast<const AggregateExpr&>(e).expr);
    case NodeKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      if (IsAtUnsafeFunction(c.func->name)) return false;
      for (const auto& a : c.args) {
        if (!IsStepInvariant(*a)) return false;
      }
      return true;
    }
  }
  return false;
}

Value Evaluator::Eval(const Expr& e) {
  q_->Check();
  if (num_steps_ == 0) {
    Value v;
    v.type = e.Type();
    return v;
  }
  int64_t base = q_->current_samples;
  Value v;
  ValueType t = e.Type();
  bool literal = e.kind == NodeKind::kNumberLiteral || e.kind == NodeKind::kStringLiteral;
  if (num_steps_ > 1 && !literal && (t == ValueType::kVector || t == ValueType::kScalar) &&
      IsStepInvariant(e)) {
    v = EvalOnceAndRepeat(e);
  } else {
    v = EvalNode(e);
  }
  q_->current_samples = base + CountPoints(v);
  if (q_->current_samples > q_->peak_samples) q_->peak_samples = q_->current_samples;
  return v;
}

SeriesList Evaluator::EvalVector(const Expr& e) {
  Value v = Eval(e);
  return std::move(v.series);
}

std::vector<double> Evaluator::EvalScalar(const Expr& e) {
  Value v = Eval(e);
  if (v.type != ValueType::kScalar) {
    ThrowExecution(fmt::format("expected scalar, got {}", ValueTypeName(v.type)));
  }
  return std::move(v.scalar);
}

Value Evaluator::EvalOnceAndRepeat(const Expr& e) {
  Evaluator once(q_, start_, start_, interval_);
  Value v = once.EvalNode(e);
  if (v.type == ValueType::kScalar) {
    double x = v.scalar.empty() ? std::numeric_limits<double>::quiet_NaN() : v.scalar[0];
    v.scalar.assign(num_steps_, x);
    return v;
  }
  for (Series& s : v.series) {
    if (s.points.empty()) continue;
    double x = s.points[0].v;
    s.points.clear();
    s.points.reserve(num_steps_);
    for (size_t i = 0; i < num_steps_; ++i) s.points.push_back({StepTime(i), x});
    q_->AddSamples(static_cast<int64_t>(num_steps_ - 1));
  }
  return v;
}

Value Evaluator::EvalNode(const Expr& e) {
  Value v;
  v.type = e.Type();
  switch (e.kind) {
    case NodeKind::kNumberLiteral:
      v.scalar.assign(num_steps_, static_cast<const NumberLiteral&>(e).value);
      return v;
    case NodeKind::kStringLiteral:
      v.str = static_cast<const StringLiteral&>(e).value;
      return v;
    case NodeKind::kParen:
      return Eval(*static_cast<const ParenExpr&>(e).expr);
    case NodeKind::kStepInvariant: {
      const Expr& inner = *static_cast<const StepInvariantExpr&>(e).expr;
      if (num_steps_ > 1 && (inner.Type() == ValueType::kVector ||
                             inner.Type() == ValueType::kScalar)) {
        return EvalOnceAndRepeat(inner);
      }
      return Eval(inner);
    }
    case NodeKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      v = Eval(*u.expr);
      if (u.op == BinaryOp::kSub) {
        for (double& x : v.scalar) x = -x;
        for (Series& s : v.series) {
          s.drop_name = true;
          for (Sample& p : s.points) p.v = -p.v;
        }
      }
      return v;
    }
    case NodeKind::kVectorSelector:
      v.series = EvalVectorSelector(static_cast<const VectorSelector&>(e), false, nullptr);
      return v;
    case NodeKind::kMatrixSelector:
    case NodeKind::kSubquery:
      v.series = EvalMatrixValue(e);
      return v;
    case NodeKind::kBinary:
      return EvalBinary(*this, static_cast<const BinaryExpr&>(e));
    case NodeKind::kAggregate:
      return EvalAggregate(*this, static_cast<const AggregateExpr&>(e));
    case NodeKind::kCall:
      return EvalCall(*this, static_cast<const Call&>(e));
  }
  ThrowExecution("unhandled expression");
}

int64_t Evaluator::SelectorTime(AtModifier at, int64_t at_ts, int64_t offset, int64_t ts) const {
  switch (at) {
    case AtModifier::kNone: return ts - offset;
    case AtModifier::kTimestamp: return at_ts - offset;
    case AtModifier::kStart: return q_->query_start - offset;
    case AtModifier::kEnd: return q_->query_end - offset;
  }
  return ts - offset;
}

namespace {

// Reads the samples of one series with mint <= t <= maxt into *out (appending), skipping
// stale markers when `skip_stale`. Returns the number of samples read from storage.
int64_t ReadSeries(const storage::Series& series, int64_t mint, int64_t maxt, bool skip_stale,
                   std::vector<Sample>* out) {
  auto it = series.Iterator();
  if (!it->Seek(mint)) return 0;
  Sample first = it->At();
  if (first.t > maxt) return 1;
  int64_t read = 1;
  const size_t base = out->size();
  out->push_back(first);
  // Decode in batches straight into the output, then trim past maxt and drop stale markers.
  constexpr size_t kBatch = 512;
  for (;;) {
    const size_t old = out->size();
    out->resize(old + kBatch);
    size_t n = it->NextBatch(std::span<Sample>(out->data() + old, kBatch));
    out->resize(old + n);
    read += static_cast<int64_t>(n);
    if (n == 0) break;
    if (out->back().t > maxt) {
      auto cut = std::upper_bound(out->begin() + static_cast<ptrdiff_t>(old), out->end(), maxt,
                                  [](int64_t t, const Sample& x) { return t < x.t; });
      out->erase(cut, out->end());
      break;
    }
  }
  if (Status st = it->status(); !st.ok()) {
    throw EvalError(Status(StatusCode::kExecution, "expanding series: " + st.message()));
  }
  if (skip_stale) {
    auto b = out->begin() + static_cast<ptrdiff_t>(base);
    out->erase(std::remove_if(b, out->end(), [](const Sample& x) { return IsStaleNaN(x.v); }),
               out->end());
  }
  return read;
}

void AddStorageWarnings(QueryState* q, const storage::SeriesSet& set) {
  for (auto& w : set.Warnings()) q->annotations.AddWarning(w);
  if (Status st = set.status(); !st.ok()) {
    throw EvalError(Status(StatusCode::kExecution, "expanding series: " + st.message()));
  }
}

}  // namespace

void Evaluator::SelectSeries(const VectorSelector& vs, bool sample_time_as_value,
                             const char* func, const SeriesSink& sink) {
  const int64_t offset = OffsetOf(vs, *q_);
  const bool fixed = vs.at != AtModifier::kNone;
  const int64_t first_ref = SelectorTime(vs.at, vs.at_timestamp, offset, start_);
  const int64_t last_ref = SelectorTime(vs.at, vs.at_timestamp, offset, end_);
  const int64_t lookback = q_->lookback;

  storage::SelectHints hints;
  hints.start = first_ref - lookback + 1;
  hints.end = last_ref;
  hints.step = num_steps_ > 1 ? interval_ : 0;
  if (func != nullptr) hints.func = func;
  auto set = q_->querier->Select(true, hints, vs.matchers);

  std::vector<Sample> buf;
  while (set->Next()) {
    q_->Check();
    const storage::Series& series = set->At();
    buf.clear();
    q_->samples_read += ReadSeries(series, hints.start, hints.end, false, &buf);
    if (buf.empty()) continue;
    Series s;
    if (fixed) {
      // One lookup, repeated at every step.
      auto it = std::upper_bound(buf.begin(), buf.end(), first_ref,
                                 [](int64_t t, const Sample& x) { return t < x.t; });
      if (it == buf.begin()) continue;
      const Sample& x = *(it - 1);
      if (x.t <= first_ref - lookback || IsStaleNaN(x.v)) continue;
      double v = sample_time_as_value ? static_cast<double>(x.t) / 1000.0 : x.v;
      s.points.reserve(num_steps_);
      for (size_t i = 0; i < num_steps_; ++i) s.points.push_back({StepTime(i), v});
    } else {
      size_t j = 0;
      const size_t n = buf.size();
      for (size_t i = 0; i < num_steps_; ++i) {
        const int64_t ts = StepTime(i);
        const int64_t ref = ts - offset;
        while (j < n && buf[j].t <= ref) ++j;
        if (j == 0) continue;
        const Sample& x = buf[j - 1];
        if (x.t <= ref - lookback || IsStaleNaN(x.v)) continue;
        if (s.points.empty()) s.points.reserve(num_steps_ - i);
        s.points.push_back({ts, sample_time_as_value ? static_cast<double>(x.t) / 1000.0 : x.v});
      }
    }
    if (s.points.empty()) continue;
    q_->total_samples += static_cast<int64_t>(s.points.size());
    if (q_->per_step_stats) {
      for (const Sample& p : s.points) q_->RecordStepSamples(p.t, 1);
    }
    s.labels = series.labels();
    sink(std::move(s));
  }
  AddStorageWarnings(q_, *set);
}

SeriesList Evaluator::EvalVectorSelector(const VectorSelector& vs, bool sample_time_as_value,
                                         const char* func) {
  SeriesList out;
  SelectSeries(vs, sample_time_as_value, func, [&](Series&& s) {
    q_->AddSamples(static_cast<int64_t>(s.points.size()));
    out.push_back(std::move(s));
  });
  return out;
}

void ForEachRangeSeries(Evaluator& ev, const Expr& range_expr, std::string_view func,
                        const std::function<void(const RangeSeries&)>& f) {
  QueryState* q = ev.state();
  RangeSeries rs;
  if (range_expr.kind == NodeKind::kSubquery) {
    const auto& sq = static_cast<const SubqueryExpr&>(range_expr);
    rs.range = RangeOf(sq, *q);
    rs.offset = OffsetOf(sq, *q);
    rs.fixed = sq.at != AtModifier::kNone;
    rs.fixed_end = ev.SelectorTime(sq.at, sq.at_timestamp, rs.offset, ev.start());
    SeriesList inner = ev.EvalSubqueryInner(sq);
    for (const Series& s : inner) {
      q->Check();
      rs.labels = &s.labels;
      rs.points = s.points;
      rs.drop_name = s.drop_name;
      f(rs);
    }
    return;
  }
  if (range_expr.kind != NodeKind::kMatrixSelector) {
    ThrowExecution("expected a range vector");
  }
  const auto& ms = static_cast<const MatrixSelector&>(range_expr);
  const auto& vs = static_cast<const VectorSelector&>(*ms.vector_selector);
  rs.range = RangeOf(ms, *q);
  rs.offset = OffsetOf(vs, *q);
  rs.fixed = vs.at != AtModifier::kNone;
  rs.fixed_end = ev.SelectorTime(vs.at, vs.at_timestamp, rs.offset, ev.start());
  const int64_t first_end = rs.WindowEnd(ev.start());
  const int64_t last_end = rs.WindowEnd(ev.end());

  storage::SelectHints hints;
  hints.start = first_end - rs.range + 1;
  hints.end = last_end;
  hints.step = ev.NumSteps() > 1 ? ev.interval() : 0;
  hints.range = rs.range;
  hints.func = std::string(func);
  auto set = q->querier->Select(true, hints, vs.matchers);
  std::vector<Sample> buf;
  while (set->Next()) {
    q->Check();
    const storage::Series& series = set->At();
    buf.clear();
    q->samples_read += ReadSeries(series, hints.start, hints.end, true, &buf);
    if (buf.empty()) continue;
    // The whole series is in memory while its windows are evaluated.
    q->AddSamples(static_cast<int64_t>(buf.size()));
    rs.labels = &series.labels();
    rs.points = buf;
    f(rs);
    q->ReleaseSamples(static_cast<int64_t>(buf.size()));
  }
  AddStorageWarnings(q, *set);
}

bool CanStream(const Expr& e) {
  const Expr& u = Unwrap(e);
  if (u.kind == NodeKind::kVectorSelector) return true;
  if (u.kind != NodeKind::kCall) return false;
  const auto& c = static_cast<const Call&>(u);
  if (c.func->name == "absent_over_time") return false;
  for (const auto& a : c.args) {
    if (a->Type() == ValueType::kMatrix) return true;
  }
  return false;
}

void StreamSeries(Evaluator& ev, const Expr& e, const SeriesSink& sink) {
  const Expr& u = Unwrap(e);
  if (u.kind == NodeKind::kVectorSelector) {
    ev.SelectSeries(static_cast<const VectorSelector&>(u), false, nullptr, sink);
    return;
  }
  StreamRangeCall(ev, static_cast<const Call&>(u), sink);
}

SeriesList Evaluator::EvalSubqueryInner(const SubqueryExpr& sq) {
  const int64_t sq_step = StepOf(sq, *q_);
  const int64_t step = sq_step > 0 ? sq_step : q_->default_subquery_step;
  const int64_t offset = OffsetOf(sq, *q_);
  const int64_t range = RangeOf(sq, *q_);
  const int64_t ref_start = SelectorTime(sq.at, sq.at_timestamp, offset, start_);
  const int64_t ref_end = SelectorTime(sq.at, sq.at_timestamp, offset, end_);
  // The first step after ref_start - range that is a multiple of the step (Go's truncating
  // division, as C++'s).
  int64_t inner_start = step * ((ref_start - range) / step);
  if (inner_start <= ref_start - range) inner_start += step;
  Evaluator inner(q_, inner_start, ref_end, step);
  return inner.EvalVector(*sq.expr);
}

SeriesList Evaluator::EvalMatrixValue(const Expr& e) {
  // Only reached for an instant query whose value is a range vector: the raw samples (or
  // subquery points) in the window ending at the evaluation time.
  if (e.kind == NodeKind::kSubquery) {
    const auto& sq = static_cast<const SubqueryExpr&>(e);
    SeriesList s = EvalSubqueryInner(sq);
    const int64_t range = RangeOf(sq, *q_);
    const int64_t wend = SelectorTime(sq.at, sq.at_timestamp, OffsetOf(sq, *q_), start_);
    for (Series& x : s) {
      std::erase_if(x.points, [&](const Sample& p) { return p.t <= wend - range || p.t > wend; });
    }
    std::erase_if(s, [](const Series& x) { return x.points.empty(); });
    return s;
  }
  const auto& ms = static_cast<const MatrixSelector&>(e);
  const auto& vs = static_cast<const VectorSelector&>(*ms.vector_selector);
  const int64_t range = RangeOf(ms, *q_);
  const int64_t wend = SelectorTime(vs.at, vs.at_timestamp, OffsetOf(vs, *q_), start_);
  storage::SelectHints hints;
  hints.start = wend - range + 1;
  hints.end = wend;
  hints.range = range;
  auto set = q_->querier->Select(true, hints, vs.matchers);
  SeriesList out;
  while (set->Next()) {
    q_->Check();
    Series s;
    q_->samples_read += ReadSeries(set->At(), hints.start, hints.end, true, &s.points);
    if (s.points.empty()) continue;
    q_->AddSamples(static_cast<int64_t>(s.points.size()));
    q_->total_samples += static_cast<int64_t>(s.points.size());
    s.labels = set->At().labels();
    out.push_back(std::move(s));
  }
  AddStorageWarnings(q_, *set);
  return out;
}

}  // namespace hearth::promql::internal
