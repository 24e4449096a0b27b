// Aggregation operators. sum, avg, count, min, max, group, stddev and stdvar fold their input
// series by series into per-group, per-step accumulators (streaming straight from selectors and
// range functions); topk, bottomk, limitk, limit_ratio, quantile and count_values work step by
// step.

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "model/format.h"
#include "model/strutil.h"
#include "query/internal/eval.h"
#include "query/internal/stream.h"

namespace hearth::promql::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Maps input series to output groups by their grouping labels.
class Grouper {
 public:
  Grouper(const AggregateExpr& agg, std::vector<std::string> grouping)
      : without_(agg.without), grouping_(std::move(grouping)) {}

  // The group of a series with labels l, creating it on first sight.
  uint32_t GroupOf(const Labels& l) {
    uint64_t key;
    if (without_) {
      key = l.HashWithoutLabels(grouping_);
    } else if (grouping_.empty()) {
      key = 0;
    } else {
      key = l.HashForLabels(grouping_);
    }
    auto [it, inserted] = index_.try_emplace(key, static_cast<uint32_t>(labels_.size()));
    if (inserted) labels_.push_back(GroupLabels(l));
    return it->second;
  }

  Labels GroupLabels(const Labels& l) const {
    if (without_) {
      LabelsBuilder b(l);
      for (const auto& n : grouping_) b.Del(n);
      b.Del(kMetricName);
      return b.Build();
    }
    if (grouping_.empty()) return Labels();
    LabelsBuilder b(l);
    b.Keep(grouping_);
    return b.Build();
  }

  size_t size() const { return labels_.size(); }
  const Labels& labels(uint32_t g) const { return labels_[g]; }

 private:
  bool without_;
  std::vector<std::string> grouping_;
  std::unordered_map<uint64_t, uint32_t> index_;
  std::vector<Labels> labels_;
};

// Per-group, per-step accumulators of the folding aggregations.
class Folder {
 public:
  Folder(AggregateOp op, size_t steps) : op_(op), steps_(steps) {}

  void Add(uint32_t g, size_t step, double f) {
    if (g >= groups_) Grow(g + 1);
    const size_t i = static_cast<size_t>(g) * steps_ + step;
    if (!seen_[i]) {
      seen_[i] = 1;
      value_[i] = f;
      switch (op_) {
        case AggregateOp::kAvg:
          mean_[i] = f;
          count_[i] = 1;
          c_[i] = 0;
          break;
        case AggregateOp::kSum:
          c_[i] = 0;
          break;
        case AggregateOp::kCount:
          count_[i] = 1;
          break;
        case AggregateOp::kGroup:
          value_[i] = 1;
          break;
        case AggregateOp::kStddev:
        case AggregateOp::kStdvar:
          count_[i] = 1;
          mean_[i] = f;
          value_[i] = (std::isnan(f) || std::isinf(f)) ? kNaN : 0;
          break;
        default:
          break;
      }
      return;
    }
    switch (op_) {
      case AggregateOp::kSum:
        KahanInc(f, &value_[i], &c_[i]);
        break;
      case AggregateOp::kAvg: {
        double& cnt = count_[i];
        cnt++;
        if (!incremental_[i]) {
          double nv = value_[i], nc = c_[i];
          KahanInc(f, &nv, &nc);
          if (!std::isinf(nv)) {
            value_[i] = nv;
            c_[i] = nc;
            break;
          }
          incremental_[i] = 1;
          mean_[i] = value_[i] / (cnt - 1);
          c_[i] /= cnt - 1;
        }
        double q = (cnt - 1) / cnt;
        double m = q * mean_[i], mc = q * c_[i];
        KahanInc(f / cnt, &m, &mc);
        mean_[i] = m;
        c_[i] = mc;
        break;
      }
      case AggregateOp::kCount:
        count_[i]++;
        break;
      case AggregateOp::kMin:
        if (value_[i] > f || std::isnan(value_[i])) value_[i] = f;
        break;
      case AggregateOp::kMax:
        if (value_[i] < f || std::isnan(value_[i])) value_[i] = f;
        break;
      case AggregateOp::kStddev:
      case AggregateOp::kStdvar: {
        count_[i]++;
        double delta = f - mean_[i];
        mean_[i] += delta / count_[i];
        value_[i] += delta * (f - mean_[i]);
        break;
      }
      default:
        break;
    }
  }

  // Adds the points of one series (on the evaluator's step grid) to group g.
  void AddSeries(uint32_t g, const std::vector<Sample>& pts, const Evaluator& ev) {
    if (pts.empty()) return;
    if (g >= groups_) Grow(g + 1);
    const size_t base = static_cast<size_t>(g) * steps_;
    // Points are sorted and on the grid: step indexes advance without dividing each time.
    size_t idx = ev.StepIndex(pts[0].t);
    int64_t t = pts[0].t;
    const int64_t interval = ev.interval();
    auto next_index = [&](int64_t pt) {
      if (pt == t + interval) {
        t = pt;
        return ++idx;
      }
      t = pt;
      idx = ev.StepIndex(pt);
      return idx;
    };
    if (op_ == AggregateOp::kSum) {
      for (size_t k = 0; k < pts.size(); ++k) {
        const size_t i = base + (k == 0 ? idx : next_index(pts[k].t));
        if (!seen_[i]) {
          seen_[i] = 1;
          value_[i] = pts[k].v;
          c_[i] = 0;
        } else {
          KahanInc(pts[k].v, &value_[i], &c_[i]);
        }
      }
      return;
    }
    for (size_t k = 0; k < pts.size(); ++k) {
      Add(g, k == 0 ? idx : next_index(pts[k].t), pts[k].v);
    }
  }

  // The final value of group g at a step, if the group had input there.
  bool Result(uint32_t g, size_t step, double* out) const {
    if (g >= groups_) return false;
    const size_t i = static_cast<size_t>(g) * steps_ + step;
    if (!seen_[i]) return false;
    switch (op_) {
      case AggregateOp::kSum: *out = value_[i] + c_[i]; break;
      case AggregateOp::kAvg:
        *out = incremental_[i] ? mean_[i] + c_[i]
                               : value_[i] / count_[i] + c_[i] / count_[i];
        break;
      case AggregateOp::kCount: *out = count_[i]; break;
      case AggregateOp::kStdvar: *out = value_[i] / count_[i]; break;
      case AggregateOp::kStddev: *out = std::sqrt(value_[i] / count_[i]); break;
      default: *out = value_[i]; break;
    }
    return true;
  }

 private:
  void Grow(size_t groups) {
    groups_ = std::max<size_t>(groups, groups_ * 2);
    size_t n = groups_ * steps_;
    seen_.resize(n, 0);
    value_.resize(n, 0);
    if (op_ == AggregateOp::kSum || op_ == AggregateOp::kAvg) c_.resize(n, 0);
    if (op_ == AggregateOp::kAvg || op_ == AggregateOp::kCount || op_ == AggregateOp::kStddev ||
        op_ == AggregateOp::kStdvar) {
      count_.resize(n, 0);
    }
    if (op_ == AggregateOp::kAvg || op_ == AggregateOp::kStddev || op_ == AggregateOp::kStdvar) {
      mean_.resize(n, 0);
    }
    if (op_ == AggregateOp::kAvg) incremental_.resize(n, 0);
  }

  AggregateOp op_;
  size_t steps_;
  size_t groups_ = 0;
  std::vector<uint8_t> seen_, incremental_;
  std::vector<double> value_, c_, count_, mean_;
};

Value FoldAggregate(Evaluator& ev, const AggregateExpr& agg, std::vector<std::string> grouping) {
  QueryState* q = ev.state();
  const size_t steps = ev.NumSteps();
  Grouper grouper(agg, std::move(grouping));
  Folder folder(agg.op, steps);
  std::vector<uint8_t> drop;  // per group
  auto fold = [&](const Series& s) {
    uint32_t g = grouper.GroupOf(s.labels);
    if (g >= drop.size()) {
      // Each group holds one accumulator per step: count them against max_samples.
      q->AddSamples(static_cast<int64_t>((g + 1 - drop.size()) * steps));
      drop.resize(g + 1, 0);
    }
    if (s.drop_name) drop[g] = 1;
    folder.AddSeries(g, s.points, ev);
  };
  if (CanStream(*agg.expr) && !Evaluator::IsStepInvariant(*agg.expr)) {
    StreamSeries(ev, *agg.expr, [&](Series&& s) {
      q->Check();
      fold(s);
    });
  } else {
    SeriesList in = ev.EvalVector(*agg.expr);
    for (const Series& s : in) fold(s);
  }
  Value v;
  v.type = ValueType::kVector;
  for (uint32_t g = 0; g < grouper.size(); ++g) {
    Series out;
    double x;
    for (size_t i = 0; i < steps; ++i) {
      if (folder.Result(g, i, &x)) out.points.push_back({ev.StepTime(i), x});
    }
    if (out.points.empty()) continue;
    out.labels = grouper.labels(g);
    out.drop_name = drop[g] != 0;
    v.series.push_back(std::move(out));
  }
  return v;
}

// Go's container/heap over samples ordered by `less`.
template <typename Less>
void HeapUp(std::vector<std::pair<uint32_t, double>>& h, size_t j, Less less) {
  while (j > 0) {
    size_t i = (j - 1) / 2;
    if (!less(h[j].second, h[i].second)) break;
    std::swap(h[i], h[j]);
    j = i;
  }
}

template <typename Less>
bool HeapDown(std::vector<std::pair<uint32_t, double>>& h, size_t i0, Less less) {
  size_t i = i0, n = h.size();
  for (;;) {
    size_t j1 = 2 * i + 1;
    if (j1 >= n) break;
    size_t j = j1;
    if (size_t j2 = j1 + 1; j2 < n && less(h[j2].second, h[j1].second)) j = j2;
    if (!less(h[j].second, h[i].second)) break;
    std::swap(h[i], h[j]);
    i = j;
  }
  return i > i0;
}

Value KAggregate(Evaluator& ev, const AggregateExpr& agg, std::vector<std::string> grouping,
                 const std::vector<double>& param) {
  QueryState* q = ev.state();
  const size_t steps = ev.NumSteps();
  const AggregateOp op = agg.op;
  Value v;
  v.type = ValueType::kVector;

  double pmax = -std::numeric_limits<double>::infinity();
  double pmin = std::numeric_limits<double>::infinity();
  bool any_nan = false;
  for (double x : param) {
    if (std::isnan(x)) {
      any_nan = true;
      pmax = kNaN;
      continue;
    }
    if (!std::isnan(pmax)) pmax = std::max(pmax, x);
    pmin = std::min(pmin, x);
  }
  if (op == AggregateOp::kLimitRatio) {
    if (pmax == 0 && pmin == 0) return v;
    if (any_nan) ThrowExecution("Ratio value is NaN");
    if (pmax > 1.0) {
      q->Warn(fmt::format("ratio value should be between -1 and 1, got {}, capping to {}",
                          FormatGoFloat(pmax, 'g'), FormatGoFloat(1.0, 'g')),
              Unwrap(*agg.param).pos);
    }
    if (pmin < -1.0) {
      q->Warn(fmt::format("ratio value should be between -1 and 1, got {}, capping to {}",
                          FormatGoFloat(pmin, 'g'), FormatGoFloat(-1.0, 'g')),
              Unwrap(*agg.param).pos);
    }
  } else {
    if (pmax < 1) return v;
    if (any_nan) ThrowExecution("Parameter value is NaN");
    if (pmin <= -9223372036854775808.0) {
      ThrowExecution(fmt::format("Scalar value {} underflows int64", FormatGoFloat(pmin, 'g')));
    }
    if (pmax >= 9223372036854774784.0) {
      ThrowExecution(fmt::format("Scalar value {} overflows int64", FormatGoFloat(pmax, 'g')));
    }
  }

  SeriesList in = ev.EvalVector(*agg.expr);
  Grouper grouper(agg, std::move(grouping));
  std::vector<uint32_t> group_of(in.size());
  for (size_t i = 0; i < in.size(); ++i) group_of[i] = grouper.GroupOf(in[i].labels);
  std::vector<bool> ratio_keep;
  if (op == AggregateOp::kLimitRatio) {
    ratio_keep.resize(in.size());
  }
  StepSlices slices = Transpose(ev, in);
  OutputCollector out(steps);
  std::vector<std::vector<std::pair<uint32_t, double>>> heaps(grouper.size());
  std::vector<bool> seen(grouper.size());

  // topk keeps the smallest on top (NaN smallest); bottomk the biggest (NaN biggest).
  auto top_less = [](double a, double b) { return std::isnan(a) || a < b; };
  auto bottom_less = [](double a, double b) { return std::isnan(a) || a > b; };

  for (size_t step = 0; step < steps; ++step) {
    q->Check();
    const double fparam = param.empty() ? kNaN : param[step];
    for (auto& h : heaps) h.clear();
    std::fill(seen.begin(), seen.end(), false);
    auto entries = slices.At(step);
    int64_t k = 0;
    double r = 0;
    if (op == AggregateOp::kLimitRatio) {
      if (fparam == 0) continue;
      r = std::clamp(fparam, -1.0, 1.0);
    } else {
      k = std::min<int64_t>(static_cast<int64_t>(fparam), static_cast<int64_t>(in.size()));
      if (k < 1) continue;
    }
    size_t groups_done = 0;
    for (const auto& e : entries) {
      const uint32_t si = e.first;
      const double f = e.second;
      const uint32_t g = group_of[si];
      auto& h = heaps[g];
      seen[g] = true;
      switch (op) {
        case AggregateOp::kTopk:
          if (static_cast<int64_t>(h.size()) < k) {
            h.push_back(e);
            HeapUp(h, h.size() - 1, top_less);
          } else if (h[0].second < f || (std::isnan(h[0].second) && !std::isnan(f))) {
            h[0] = e;
            if (k > 1) HeapDown(h, 0, top_less);
          }
          break;
        case AggregateOp::kBottomk:
          if (static_cast<int64_t>(h.size()) < k) {
            h.push_back(e);
            HeapUp(h, h.size() - 1, bottom_less);
          } else if (h[0].second > f || (std::isnan(h[0].second) && !std::isnan(f))) {
            h[0] = e;
            if (k > 1) HeapDown(h, 0, bottom_less);
          }
          break;
        case AggregateOp::kLimitK:
          if (static_cast<int64_t>(h.size()) < k) {
            h.push_back(e);
            if (static_cast<int64_t>(h.size()) == k) groups_done++;
          }
          break;
        case AggregateOp::kLimitRatio:
          if (AddRatioSample(r, in[si].labels)) h.push_back(e);
          break;
        default:
          break;
      }
      if (op == AggregateOp::kLimitK && groups_done == grouper.size()) break;
    }
    const int64_t ts = ev.StepTime(step);
    for (size_t g = 0; g < heaps.size(); ++g) {
      if (!seen[g]) continue;
      auto& h = heaps[g];
      if (op == AggregateOp::kTopk) {
        std::stable_sort(h.begin(), h.end(), [](const auto& a, const auto& b) {
          if (std::isnan(a.second)) return false;
          if (std::isnan(b.second)) return true;
          return a.second > b.second;
        });
      } else if (op == AggregateOp::kBottomk) {
        std::stable_sort(h.begin(), h.end(), [](const auto& a, const auto& b) {
          if (std::isnan(a.second)) return false;
          if (std::isnan(b.second)) return true;
          return a.second < b.second;
        });
      }
      for (const auto& [si, f] : h) out.Add(in[si].labels, ts, f, in[si].drop_name);
    }
  }
  v.series = out.Take();
  return v;
}

Value QuantileAggregate(Evaluator& ev, const AggregateExpr& agg,
                        std::vector<std::string> grouping, const std::vector<double>& param) {
  QueryState* q = ev.state();
  bool any_nan = false;
  double pmax = -std::numeric_limits<double>::infinity();
  double pmin = std::numeric_limits<double>::infinity();
  for (double x : param) {
    if (std::isnan(x)) {
      any_nan = true;
      continue;
    }
    pmax = std::max(pmax, x);
    pmin = std::min(pmin, x);
  }
  const PositionRange& pos = Unwrap(*agg.param).pos;
  if (any_nan) q->Warn("quantile value should be between 0 and 1, got NaN", pos);
  if (pmax > 1) {
    q->Warn(fmt::format("quantile value should be between 0 and 1, got {}",
                        FormatGoFloat(pmax, 'g')),
            pos);
  }
  if (pmin < 0) {
    q->Warn(fmt::format("quantile value should be between 0 and 1, got {}",
                        FormatGoFloat(pmin, 'g')),
            pos);
  }
  SeriesList in = ev.EvalVector(*agg.expr);
  Grouper grouper(agg, std::move(grouping));
  std::vector<uint32_t> group_of(in.size());
  std::vector<uint8_t> drop;
  for (size_t i = 0; i < in.size(); ++i) {
    group_of[i] = grouper.GroupOf(in[i].labels);
    if (group_of[i] >= drop.size()) drop.resize(group_of[i] + 1, 0);
    if (in[i].drop_name) drop[group_of[i]] = 1;
  }
  StepSlices slices = Transpose(ev, in);
  std::vector<std::vector<double>> values(grouper.size());
  std::vector<Series> out(grouper.size());
  for (size_t step = 0; step < ev.NumSteps(); ++step) {
    for (auto& x : values) x.clear();
    for (const auto& [si, f] : slices.At(step)) values[group_of[si]].push_back(f);
    for (size_t g = 0; g < values.size(); ++g) {
      if (values[g].empty()) continue;
      out[g].points.push_back({ev.StepTime(step), Quantile(param[step], values[g])});
    }
  }
  Value v;
  v.type = ValueType::kVector;
  for (uint32_t g = 0; g < out.size(); ++g) {
    if (out[g].points.empty()) continue;
    out[g].labels = grouper.labels(g);
    out[g].drop_name = drop[g] != 0;
    v.series.push_back(std::move(out[g]));
  }
  return v;
}

Value CountValues(Evaluator& ev, const AggregateExpr& agg, std::vector<std::string> grouping) {
  const Expr& p = Unwrap(*agg.param);
  if (p.kind != NodeKind::kStringLiteral) ThrowExecution("count_values needs a string parameter");
  const std::string& value_label = static_cast<const StringLiteral&>(p).value;
  if (value_label.empty() || !IsValidUtf8(value_label)) {
    ThrowExecution(fmt::format("invalid label name {}", QuoteGo(value_label)));
  }
  if (!agg.without) grouping.push_back(value_label);
  SeriesList in = ev.EvalVector(*agg.expr);
  StepSlices slices = Transpose(ev, in);
  Grouper grouper(agg, std::move(grouping));
  OutputCollector out(ev.NumSteps());
  std::vector<double> counts;
  std::vector<uint32_t> order;
  for (size_t step = 0; step < ev.NumSteps(); ++step) {
    std::fill(counts.begin(), counts.end(), 0);
    order.clear();
    for (const auto& [si, f] : slices.At(step)) {
      LabelsBuilder b(in[si].labels);
      b.Set(value_label, FormatGoFloat(f, 'f'));
      uint32_t g = grouper.GroupOf(b.Build());
      if (g >= counts.size()) counts.resize(g + 1, 0);
      if (counts[g] == 0) order.push_back(g);
      counts[g]++;
    }
    for (uint32_t g : order) out.Add(grouper.labels(g), ev.StepTime(step), counts[g], false);
  }
  Value v;
  v.type = ValueType::kVector;
  v.series = out.Take();
  return v;
}

}  // namespace

bool AddRatioSample(double r, const Labels& l) {
  std::string_view packed = l.packed();
  double offset = static_cast<double>(XXH64(packed.data(), packed.size(), 0)) /
                  static_cast<double>(std::numeric_limits<uint64_t>::max());
  return (r >= 0 && offset < r) || (r < 0 && offset >= 1.0 + r);
}

Value EvalAggregate(Evaluator& ev, const AggregateExpr& agg) {
  std::vector<std::string> grouping = agg.grouping;
  std::sort(grouping.begin(), grouping.end());
  switch (agg.op) {
    case AggregateOp::kCountValues:
      return CountValues(ev, agg, std::move(grouping));
    case AggregateOp::kTopk:
    case AggregateOp::kBottomk:
    case AggregateOp::kLimitK:
    case AggregateOp::kLimitRatio:
      return KAggregate(ev, agg, std::move(grouping), ev.EvalScalar(*agg.param));
    case AggregateOp::kQuantile:
      return QuantileAggregate(ev, agg, std::move(grouping), ev.EvalScalar(*agg.param));
    default:
      return FoldAggregate(ev, agg, std::move(grouping));
  }
}

}  // namespace hearth::promql::internal
