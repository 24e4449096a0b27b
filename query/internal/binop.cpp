// Binary operators: scalar/scalar and vector/scalar element-wise, series by series; vector/
// vector with Prometheus' vector matching (on/ignoring, group_left/group_right, set operators)
// step by step.

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "query/internal/eval.h"

namespace hearth::promql::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool ChangesMetricSchema(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: case BinaryOp::kSub: case BinaryOp::kMul: case BinaryOp::kDiv:
    case BinaryOp::kPow: case BinaryOp::kMod: case BinaryOp::kAtan2:
      return true;
    default:
      return false;
  }
}

double Arith(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd: return l + r;
    case BinaryOp::kSub: return l - r;
    case BinaryOp::kMul: return l * r;
    case BinaryOp::kDiv: return l / r;
    case BinaryOp::kPow: return std::pow(l, r);
    case BinaryOp::kMod: return std::fmod(l, r);
    case BinaryOp::kAtan2: return std::atan2(l, r);
    case BinaryOp::kEql: return l == r;
    case BinaryOp::kNeq: return l != r;
    case BinaryOp::kGtr: return l > r;
    case BinaryOp::kLss: return l < r;
    case BinaryOp::kGte: return l >= r;
    case BinaryOp::kLte: return l <= r;
    default: return kNaN;
  }
}

// vectorElemBinop for floats: the value, and whether a comparison keeps the sample.
std::pair<double, bool> ElemBinop(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kEql: return {l, l == r};
    case BinaryOp::kNeq: return {l, l != r};
    case BinaryOp::kGtr: return {l, l > r};
    case BinaryOp::kLss: return {l, l < r};
    case BinaryOp::kGte: return {l, l >= r};
    case BinaryOp::kLte: return {l, l <= r};
    default: return {Arith(op, l, r), true};
  }
}

Value ScalarScalar(Evaluator& ev, const BinaryExpr& b) {
  std::vector<double> l = ev.EvalScalar(*b.lhs);
  std::vector<double> r = ev.EvalScalar(*b.rhs);
  Value v;
  v.type = ValueType::kScalar;
  v.scalar.resize(l.size());
  for (size_t i = 0; i < l.size(); ++i) v.scalar[i] = Arith(b.op, l[i], r[i]);
  return v;
}

Value VectorScalar(Evaluator& ev, const BinaryExpr& b, bool scalar_left) {
  SeriesList vec = ev.EvalVector(scalar_left ? *b.rhs : *b.lhs);
  std::vector<double> sc = ev.EvalScalar(scalar_left ? *b.lhs : *b.rhs);
  const bool comparison = IsComparison(b.op);
  const bool drop = ChangesMetricSchema(b.op) || b.return_bool;
  for (Series& s : vec) {
    std::erase_if(s.points, [&](Sample& p) {
      double x = sc[ev.StepIndex(p.t)];
      double l = scalar_left ? x : p.v;
      double r = scalar_left ? p.v : x;
      auto [value, keep] = ElemBinop(b.op, l, r);
      if (comparison && scalar_left) value = r;  // the vector's value stays
      if (b.return_bool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      p.v = value;
      return !keep;
    });
    if (drop) s.drop_name = true;
  }
  std::erase_if(vec, [](const Series& s) { return s.points.empty(); });
  Value v;
  v.type = ValueType::kVector;
  v.series = std::move(vec);
  return v;
}

// Signatures of series for vector matching, as dense ordinals shared by both sides.
class Signatures {
 public:
  explicit Signatures(const VectorMatching& m) : m_(m) {}
  uint32_t Of(const Labels& l) {
    uint64_t h = m_.on ? l.HashForLabels(m_.matching_labels)
                       : l.HashWithoutLabels(m_.matching_labels);
    auto [it, inserted] = ids_.try_emplace(h, static_cast<uint32_t>(ids_.size()));
    return it->second;
  }
  size_t size() const { return ids_.size(); }

 private:
  const VectorMatching& m_;
  std::unordered_map<uint64_t, uint32_t> ids_;
};

// The labels of the match group (for error messages).
Labels MatchLabels(const Labels& l, const VectorMatching& m) {
  LabelsBuilder b(l);
  if (m.on) {
    b.Keep(m.matching_labels);
  } else {
    for (const auto& n : m.matching_labels) b.Del(n);
    b.Del(kMetricName);
  }
  return b.Build();
}

Labels ResultMetric(const Labels& lhs, const Labels& rhs, BinaryOp op, const VectorMatching& m) {
  LabelsBuilder b(lhs);
  if (ChangesMetricSchema(op)) b.Del(kMetricName).Del("__type__").Del("__unit__");
  if (m.card == VectorMatching::Cardinality::kOneToOne) {
    if (m.on) {
      b.Keep(m.matching_labels);
    } else {
      for (const auto& n : m.matching_labels) b.Del(n);
    }
  }
  for (const auto& n : m.include) {
    std::string_view v = rhs.Get(n);
    if (!v.empty()) {
      b.Set(n, v);
    } else {
      b.Del(n);
    }
  }
  return b.Build();
}

Value VectorVector(Evaluator& ev, const BinaryExpr& b) {
  static const VectorMatching kDefault{};
  const VectorMatching& m = b.matching ? *b.matching : kDefault;
  SeriesList lhs = ev.EvalVector(*b.lhs);
  SeriesList rhs = ev.EvalVector(*b.rhs);
  QueryState* q = ev.state();

  Signatures sigs(m);
  std::vector<uint32_t> lsig(lhs.size()), rsig(rhs.size());
  for (size_t i = 0; i < lhs.size(); ++i) lsig[i] = sigs.Of(lhs[i].labels);
  for (size_t i = 0; i < rhs.size(); ++i) rsig[i] = sigs.Of(rhs[i].labels);
  StepSlices ls = Transpose(ev, lhs);
  StepSlices rs = Transpose(ev, rhs);
  OutputCollector out(ev.NumSteps());
  const size_t nsig = sigs.size();

  if (IsSetOperator(b.op)) {
    std::vector<uint32_t> mark(nsig, 0);  // step+1 when present on the other side
    for (size_t step = 0; step < ev.NumSteps(); ++step) {
      q->Check();
      const int64_t ts = ev.StepTime(step);
      auto l = ls.At(step);
      auto r = rs.At(step);
      const uint32_t stamp = static_cast<uint32_t>(step + 1);
      switch (b.op) {
        case BinaryOp::kLand:
          if (l.empty() || r.empty()) break;
          for (const auto& [si, v] : r) mark[rsig[si]] = stamp;
          for (const auto& [si, v] : l) {
            if (mark[lsig[si]] == stamp) out.Add(lhs[si].labels, ts, v, lhs[si].drop_name);
          }
          break;
        case BinaryOp::kLor:
          for (const auto& [si, v] : l) {
            mark[lsig[si]] = stamp;
            out.Add(lhs[si].labels, ts, v, lhs[si].drop_name);
          }
          for (const auto& [si, v] : r) {
            if (mark[rsig[si]] != stamp) out.Add(rhs[si].labels, ts, v, rhs[si].drop_name);
          }
          break;
        case BinaryOp::kLunless:
          for (const auto& [si, v] : r) mark[rsig[si]] = stamp;
          for (const auto& [si, v] : l) {
            if (mark[lsig[si]] != stamp) out.Add(lhs[si].labels, ts, v, lhs[si].drop_name);
          }
          break;
        default:
          break;
      }
    }
    Value v;
    v.type = ValueType::kVector;
    v.series = out.Take();
    return v;
  }

  // Arithmetic and comparison. For one-to-many matching the sides swap so that the right side
  // is always the "one" side.
  const bool swap = m.card == VectorMatching::Cardinality::kOneToMany;
  const SeriesList& many = swap ? rhs : lhs;
  const SeriesList& one = swap ? lhs : rhs;
  const std::vector<uint32_t>& many_sig = swap ? rsig : lsig;
  const std::vector<uint32_t>& one_sig = swap ? lsig : rsig;
  const StepSlices& many_s = swap ? rs : ls;
  const StepSlices& one_s = swap ? ls : rs;
  const bool one_to_one = m.card == VectorMatching::Cardinality::kOneToOne;

  // Per signature: the matching "one" sample at this step (series index + 1, 0 = none) and
  // whether it has been matched.
  std::vector<uint32_t> one_at(nsig, 0);
  std::vector<uint32_t> one_stamp(nsig, 0);
  std::vector<uint32_t> matched_stamp(nsig, 0);
  std::vector<double> one_val(nsig, 0);
  std::unordered_map<uint64_t, std::vector<uint64_t>> inserted;  // sig -> result label hashes
  std::unordered_map<uint64_t, Labels> result_cache;  // (many idx, one idx) -> labels

  for (size_t step = 0; step < ev.NumSteps(); ++step) {
    q->Check();
    const int64_t ts = ev.StepTime(step);
    auto ms = many_s.At(step);
    auto os = one_s.At(step);
    if (ms.empty() || os.empty()) continue;
    const uint32_t stamp = static_cast<uint32_t>(step + 1);
    for (const auto& [si, v] : os) {
      uint32_t sig = one_sig[si];
      if (one_stamp[sig] == stamp) {
        const Labels& a = one[one_at[sig] - 1].labels;
        const Labels& c = one[si].labels;
        const Labels& first = a < c ? a : c;
        const Labels& second = a < c ? c : a;
        ThrowExecution(fmt::format(
            "found duplicate series for the match group {} on the {} hand-side of the "
            "operation: [{}, {}];many-to-many matching not allowed: matching labels must be "
            "unique on one side",
            MatchLabels(c, m).ToString(), swap ? "left" : "right", first.ToString(),
            second.ToString()));
      }
      one_stamp[sig] = stamp;
      one_at[sig] = si + 1;
      one_val[sig] = v;
    }
    if (!one_to_one) inserted.clear();
    for (const auto& [si, v] : ms) {
      uint32_t sig = many_sig[si];
      if (one_stamp[sig] != stamp) continue;
      uint32_t oi = one_at[sig] - 1;
      const double ov = one_val[sig];
      double fl = swap ? ov : v;
      double fr = swap ? v : ov;
      auto [value, keep] = ElemBinop(b.op, fl, fr);
      if (b.return_bool) {
        value = keep ? 1 : 0;
      }
      uint64_t key = (static_cast<uint64_t>(si) << 32) | oi;
      auto it = result_cache.find(key);
      if (it == result_cache.end()) {
        it = result_cache.emplace(key, ResultMetric(many[si].labels, one[oi].labels, b.op, m))
                 .first;
      }
      const Labels& metric = it->second;
      if (one_to_one) {
        if (matched_stamp[sig] == stamp) {
          ThrowExecution("multiple matches for labels: many-to-one matching must be explicit "
                         "(group_left/group_right)");
        }
        matched_stamp[sig] = stamp;
      } else {
        auto& hashes = inserted[sig];
        uint64_t h = metric.Hash();
        if (std::find(hashes.begin(), hashes.end(), h) != hashes.end()) {
          ThrowExecution("multiple matches for labels: grouping labels must ensure unique matches");
        }
        hashes.push_back(h);
      }
      if (!keep && !b.return_bool) continue;
      bool drop = b.return_bool || (!ChangesMetricSchema(b.op) && many[si].drop_name);
      out.Add(metric, ts, value, drop);
    }
  }
  Value v;
  v.type = ValueType::kVector;
  v.series = out.Take();
  return v;
}

}  // namespace

Value EvalBinary(Evaluator& ev, const BinaryExpr& b) {
  const ValueType lt = b.lhs->Type(), rt = b.rhs->Type();
  if (lt == ValueType::kScalar && rt == ValueType::kScalar) return ScalarScalar(ev, b);
  if (lt == ValueType::kVector && rt == ValueType::kScalar) return VectorScalar(ev, b, false);
  if (lt == ValueType::kScalar && rt == ValueType::kVector) return VectorScalar(ev, b, true);
  if (lt == ValueType::kVector && rt == ValueType::kVector) return VectorVector(ev, b);
  ThrowExecution(fmt::format("invalid operand types for binary operator {}",
                             BinaryOpString(b.op)));
}

}  // namespace hearth::promql::internal
