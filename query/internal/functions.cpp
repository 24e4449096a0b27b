// PromQL function calls. Range-vector functions slide a window over one series at a time for
// all steps; element-wise functions map each series' points; the few functions that need a
// whole instant vector (sort, absent, histogram_quantile, ...) work step by step.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <re2/re2.h>

#include "model/format.h"
#include "model/strutil.h"
#include "query/internal/eval.h"
#include "query/internal/histogram.h"
#include "query/internal/stream.h"

namespace hearth::promql::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const std::string& StringArg(const Call& call, size_t i) {
  const Expr& e = Unwrap(*call.args[i]);
  if (e.kind != NodeKind::kStringLiteral) {
    ThrowExecution(fmt::format("expected a string literal as argument {} of {}", i + 1,
                               call.func->name));
  }
  return static_cast<const StringLiteral&>(e).value;
}

const PositionRange& ArgPos(const Call& call, size_t i) { return Unwrap(*call.args[i]).pos; }

// ---------------------------------------------------------------------------------------------
// Range-vector functions: one window of samples in (wstart, wend] at step time ts.

enum class RangeFn {
  kRate, kIncrease, kDelta, kIrate, kIdelta, kDeriv, kPredictLinear, kResets, kChanges,
  kAvgOverTime, kMinOverTime, kMaxOverTime, kSumOverTime, kCountOverTime, kQuantileOverTime,
  kStddevOverTime, kStdvarOverTime, kLastOverTime, kFirstOverTime, kPresentOverTime,
  kMadOverTime, kAbsentOverTime, kTsOfMaxOverTime, kTsOfMinOverTime, kTsOfFirstOverTime,
  kTsOfLastOverTime, kDoubleExponentialSmoothing,
};

std::optional<RangeFn> LookupRangeFn(std::string_view n) {
  static const std::pair<std::string_view, RangeFn> kFns[] = {
      {"rate", RangeFn::kRate},
      {"increase", RangeFn::kIncrease},
      {"delta", RangeFn::kDelta},
      {"irate", RangeFn::kIrate},
      {"idelta", RangeFn::kIdelta},
      {"deriv", RangeFn::kDeriv},
      {"predict_linear", RangeFn::kPredictLinear},
      {"resets", RangeFn::kResets},
      {"changes", RangeFn::kChanges},
      {"avg_over_time", RangeFn::kAvgOverTime},
      {"min_over_time", RangeFn::kMinOverTime},
      {"max_over_time", RangeFn::kMaxOverTime},
      {"sum_over_time", RangeFn::kSumOverTime},
      {"count_over_time", RangeFn::kCountOverTime},
      {"quantile_over_time", RangeFn::kQuantileOverTime},
      {"stddev_over_time", RangeFn::kStddevOverTime},
      {"stdvar_over_time", RangeFn::kStdvarOverTime},
      {"last_over_time", RangeFn::kLastOverTime},
      {"first_over_time", RangeFn::kFirstOverTime},
      {"present_over_time", RangeFn::kPresentOverTime},
      {"mad_over_time", RangeFn::kMadOverTime},
      {"absent_over_time", RangeFn::kAbsentOverTime},
      {"ts_of_max_over_time", RangeFn::kTsOfMaxOverTime},
      {"ts_of_min_over_time", RangeFn::kTsOfMinOverTime},
      {"ts_of_first_over_time", RangeFn::kTsOfFirstOverTime},
      {"ts_of_last_over_time", RangeFn::kTsOfLastOverTime},
      {"double_exponential_smoothing", RangeFn::kDoubleExponentialSmoothing},
      {"holt_winters", RangeFn::kDoubleExponentialSmoothing},
  };
  for (const auto& [name, fn] : kFns) {
    if (name == n) return fn;
  }
  return std::nullopt;
}

struct Window {
  std::span<const Sample> s;
  int64_t wstart, wend;  // the window is (wstart, wend]
  int64_t range;
  int64_t ts;            // the step time
  double p0 = 0, p1 = 0;  // scalar parameters at this step
};

// Prometheus' extrapolatedRate for floats (computed in ms with as few divisions as possible:
// this runs once per series and step).
std::optional<double> ExtrapolatedRate(const Window& w, bool is_counter, bool is_rate,
                                       double correction) {
  const size_t n = w.s.size();
  if (n < 2) return std::nullopt;
  const Sample& first = w.s.front();
  const Sample& last = w.s.back();
  const double result = last.v - first.v + correction;
  double to_start = static_cast<double>(first.t - w.wstart);
  double to_end = static_cast<double>(w.wend - last.t);
  const double sampled = static_cast<double>(last.t - first.t);
  const double avg = sampled / static_cast<double>(n - 1);
  const double threshold = avg * 1.1;
  if (to_start >= threshold) to_start = avg / 2;
  // A counter does not go below zero: extrapolate at most to where it would reach zero.
  if (is_counter && result > 0 && first.v >= 0 && sampled * first.v < to_start * result) {
    to_start = sampled * (first.v / result);
  }
  if (to_end >= threshold) to_end = avg / 2;
  double extended = sampled + to_start + to_end;
  if (is_rate) return result * extended / (sampled * (static_cast<double>(w.range) / 1000));
  return result * (extended / sampled);
}

double CounterCorrection(std::span<const Sample> s) {
  double c = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i].v < s[i - 1].v) c += s[i - 1].v;
  }
  return c;
}

std::pair<double, double> LinearRegression(std::span<const Sample> s, int64_t intercept_time) {
  double n = 0, sum_x = 0, cx = 0, sum_y = 0, cy = 0, sum_xy = 0, cxy = 0, sum_x2 = 0, cx2 = 0;
  double init_y = s[0].v;
  bool const_y = true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (const_y && i > 0 && s[i].v != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(s[i].t - intercept_time) / 1e3;
    KahanInc(x, &sum_x, &cx);
    KahanInc(s[i].v, &sum_y, &cy);
    KahanInc(x * s[i].v, &sum_xy, &cxy);
    KahanInc(x * x, &sum_x2, &cx2);
  }
  if (const_y) {
    if (std::isinf(init_y)) return {kNaN, kNaN};
    return {0, init_y};
  }
  sum_x += cx;
  sum_y += cy;
  sum_xy += cxy;
  sum_x2 += cx2;
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  double slope = cov_xy / var_x;
  double intercept = sum_y / n - slope * sum_x / n;
  return {slope, intercept};
}

double AvgOverTime(std::span<const Sample> s) {
  double sum = s[0].v, count = 1, mean = 0, c = 0;
  bool incremental = false;
  for (size_t i = 1; i < s.size(); ++i) {
    count = static_cast<double>(i + 1);
    if (!incremental) {
      double ns = sum, nc = c;
      KahanInc(s[i].v, &ns, &nc);
      if (!std::isinf(ns)) {
        sum = ns;
        c = nc;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= (count - 1);
    }
    double q = (count - 1) / count;
    double m = q * mean, mc = q * c;
    KahanInc(s[i].v / count, &m, &mc);
    mean = m;
    c = mc;
  }
  if (incremental) return mean + c;
  return sum / count + c / count;
}

double VarianceOverTime(std::span<const Sample> s) {
  double count = 0, mean = 0, cmean = 0, aux = 0, caux = 0;
  for (const Sample& p : s) {
    count++;
    double delta = p.v - (mean + cmean);
    KahanInc(delta / count, &mean, &cmean);
    KahanInc(delta * (p.v - (mean + cmean)), &aux, &caux);
  }
  return (aux + caux) / count;
}

std::optional<double> EvalWindow(RangeFn fn, const Window& w) {
  const auto& s = w.s;
  switch (fn) {
    case RangeFn::kRate: return ExtrapolatedRate(w, true, true, CounterCorrection(s));
    case RangeFn::kIncrease: return ExtrapolatedRate(w, true, false, CounterCorrection(s));
    case RangeFn::kDelta: return ExtrapolatedRate(w, false, false, 0);
    case RangeFn::kIrate:
    case RangeFn::kIdelta: {
      if (s.size() < 2) return std::nullopt;
      const Sample& a = s[s.size() - 2];
      const Sample& b = s[s.size() - 1];
      int64_t interval = b.t - a.t;
      if (interval == 0) return std::nullopt;
      bool is_rate = fn == RangeFn::kIrate;
      double r = b.v;
      if (!is_rate || !(b.v < a.v)) r = b.v - a.v;
      if (is_rate) r /= static_cast<double>(interval) / 1000;
      return r;
    }
    case RangeFn::kDeriv:
      if (s.size() < 2) return std::nullopt;
      return LinearRegression(s, s[0].t).first;
    case RangeFn::kPredictLinear: {
      if (s.size() < 2) return std::nullopt;
      auto [slope, intercept] = LinearRegression(s, w.ts);
      return slope * w.p0 + intercept;
    }
    case RangeFn::kResets: {
      int n = 0;
      for (size_t i = 1; i < s.size(); ++i) n += s[i].v < s[i - 1].v;
      return n;
    }
    case RangeFn::kChanges: {
      int n = 0;
      for (size_t i = 1; i < s.size(); ++i) {
        if (s[i].v != s[i - 1].v && !(std::isnan(s[i].v) && std::isnan(s[i - 1].v))) n++;
      }
      return n;
    }
    case RangeFn::kAvgOverTime: return AvgOverTime(s);
    case RangeFn::kMinOverTime:
    case RangeFn::kMaxOverTime:
    case RangeFn::kTsOfMinOverTime:
    case RangeFn::kTsOfMaxOverTime: {
      double best = s[0].v;
      int64_t best_t = s[0].t;
      for (const Sample& p : s) {
        bool take = false;
        switch (fn) {
          case RangeFn::kMinOverTime: take = p.v < best || std::isnan(best); break;
          case RangeFn::kMaxOverTime: take = p.v > best || std::isnan(best); break;
          case RangeFn::kTsOfMinOverTime: take = p.v <= best || std::isnan(best); break;
          default: take = p.v >= best || std::isnan(best); break;
        }
        if (take) {
          best = p.v;
          best_t = p.t;
        }
      }
      if (fn == RangeFn::kMinOverTime || fn == RangeFn::kMaxOverTime) return best;
      return static_cast<double>(best_t) / 1000;
    }
    case RangeFn::kSumOverTime: {
      double sum = 0, c = 0;
      for (const Sample& p : s) KahanInc(p.v, &sum, &c);
      if (std::isinf(sum)) return sum;
      return sum + c;
    }
    case RangeFn::kCountOverTime: return static_cast<double>(s.size());
    case RangeFn::kQuantileOverTime: {
      std::vector<double> v;
      v.reserve(s.size());
      for (const Sample& p : s) v.push_back(p.v);
      return Quantile(w.p0, v);
    }
    case RangeFn::kStddevOverTime: return std::sqrt(VarianceOverTime(s));
    case RangeFn::kStdvarOverTime: return VarianceOverTime(s);
    case RangeFn::kLastOverTime: return s.back().v;
    case RangeFn::kFirstOverTime: return s.front().v;
    case RangeFn::kPresentOverTime:
    case RangeFn::kAbsentOverTime: return 1;
    case RangeFn::kTsOfFirstOverTime: return static_cast<double>(s.front().t) / 1000;
    case RangeFn::kTsOfLastOverTime: return static_cast<double>(s.back().t) / 1000;
    case RangeFn::kMadOverTime: {
      for (const Sample& p : s) {
        if (std::isnan(p.v)) return kNaN;  // a NaN sample makes the result NaN
      }
      std::vector<double> v;
      v.reserve(s.size());
      for (const Sample& p : s) v.push_back(p.v);
      double median = Quantile(0.5, v);
      for (size_t i = 0; i < s.size(); ++i) v[i] = std::abs(s[i].v - median);
      return Quantile(0.5, v);
    }
    case RangeFn::kDoubleExponentialSmoothing: {
      double sf = w.p0, tf = w.p1;
      if (sf <= 0 || sf >= 1) {
        ThrowExecution(fmt::format("invalid smoothing factor. Expected: 0 < sf < 1, got: {:f}", sf));
      }
      if (tf <= 0 || tf >= 1) {
        ThrowExecution(fmt::format("invalid trend factor. Expected: 0 < tf < 1, got: {:f}", tf));
      }
      if (s.size() < 2) return std::nullopt;
      double s0 = 0, s1 = s[0].v, b = s[1].v - s[0].v;
      for (size_t i = 1; i < s.size(); ++i) {
        double x = sf * s[i].v;
        if (i - 1 != 0) b = tf * (s1 - s0) + (1 - tf) * b;
        double y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
      }
      return s1;
    }
  }
  return std::nullopt;
}

bool DropsName(RangeFn fn) {
  return fn != RangeFn::kLastOverTime && fn != RangeFn::kFirstOverTime;
}

// Labels of absent()/absent_over_time(): the equality matchers of a plain selector, except
// names matched more than once.
Labels AbsentLabels(const Expr& arg) {
  const Expr& e = Unwrap(arg);
  const VectorSelector* vs = nullptr;
  if (e.kind == NodeKind::kVectorSelector) {
    vs = static_cast<const VectorSelector*>(&e);
  } else if (e.kind == NodeKind::kMatrixSelector) {
    vs = static_cast<const VectorSelector*>(
        static_cast<const MatrixSelector&>(e).vector_selector.get());
  }
  if (vs == nullptr) return Labels();
  LabelsBuilder b;
  std::vector<std::string> seen;
  for (const Matcher& m : vs->matchers) {
    if (m.name() == kMetricName) continue;
    bool has = std::find(seen.begin(), seen.end(), m.name()) != seen.end();
    if (m.type() == MatchType::kEqual && !has) {
      b.Set(m.name(), m.value());
      seen.push_back(m.name());
    } else {
      b.Del(m.name());
    }
  }
  return b.Build();
}

bool IsCounterName(std::string_view name) {
  auto ends = [&](std::string_view suf) {
    return name.size() >= suf.size() && name.substr(name.size() - suf.size()) == suf;
  };
  return ends("_total") || ends("_sum") || ends("_count") || ends("_bucket");
}

}  // namespace

// Streams the output of a range-vector function call, one series at a time.
void StreamRangeCall(Evaluator& ev, const Call& call, const SeriesSink& sink) {
  QueryState* q = ev.state();
  std::optional<RangeFn> fn_opt = LookupRangeFn(call.func->name);
  if (!fn_opt) ThrowExecution(fmt::format("function {} is not supported", call.func->name));
  const RangeFn fn = *fn_opt;

  // Locate the range argument and evaluate the scalar parameters per step.
  size_t matrix_arg = 0;
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (call.args[i]->Type() == ValueType::kMatrix) {
      matrix_arg = i;
      break;
    }
  }
  std::vector<std::vector<double>> params;
  for (size_t i = 0; i < call.args.size(); ++i) {
    if (i != matrix_arg) params.push_back(ev.EvalScalar(*call.args[i]));
  }
  const size_t steps = ev.NumSteps();
  auto param = [&](size_t k, size_t step) {
    return k < params.size() && step < params[k].size() ? params[k][step] : kNaN;
  };

  if (fn == RangeFn::kQuantileOverTime) {
    for (size_t i = 0; i < steps; ++i) {
      double qv = param(0, i);
      if (std::isnan(qv) || qv < 0 || qv > 1) {
        q->Warn(fmt::format("quantile value should be between 0 and 1, got {}",
                            FormatGoFloat(qv, 'g')),
                ArgPos(call, 0));
      }
    }
  }

  const Expr& range_expr = Unwrap(*call.args[matrix_arg]);
  const bool is_rate_like = fn == RangeFn::kRate || fn == RangeFn::kIncrease;
  std::vector<uint32_t> reset_prefix;

  ForEachRangeSeries(ev, range_expr, call.func->name, [&](const RangeSeries& rs) {
    Series out;
    const auto& pts = rs.points;
    const size_t n = pts.size();
    if (is_rate_like) {
      // Prefix count of counter resets so a window without resets needs no scan.
      reset_prefix.resize(n);
      uint32_t c = 0;
      for (size_t i = 0; i < n; ++i) {
        if (i > 0 && pts[i].v < pts[i - 1].v) c++;
        reset_prefix[i] = c;
      }
    }
    size_t lo = 0, hi = 0;
    for (size_t i = 0; i < steps; ++i) {
      const int64_t ts = ev.StepTime(i);
      const int64_t wend = rs.WindowEnd(ts);
      const int64_t wstart = wend - rs.range;
      if (wend < (hi > 0 ? pts[hi - 1].t : std::numeric_limits<int64_t>::min())) {
        lo = hi = 0;  // windows moved back (cannot happen without @; be safe)
      }
      while (hi < n && pts[hi].t <= wend) ++hi;
      while (lo < hi && pts[lo].t <= wstart) ++lo;
      if (lo == hi) continue;
      Window w{std::span<const Sample>(pts.data() + lo, hi - lo), wstart, wend, rs.range, ts,
               param(0, i), param(1, i)};
      q->total_samples += static_cast<int64_t>(hi - lo);
      if (q->per_step_stats) q->RecordStepSamples(ts, static_cast<int64_t>(hi - lo));
      std::optional<double> r;
      if (is_rate_like) {
        double corr = 0;
        if (hi - lo >= 2 && reset_prefix[hi - 1] != reset_prefix[lo]) {
          corr = CounterCorrection(w.s);
        }
        r = ExtrapolatedRate(w, true, fn == RangeFn::kRate, corr);
      } else {
        r = EvalWindow(fn, w);
      }
      if (r) {
        if (out.points.empty()) out.points.reserve(steps - i);
        out.points.push_back({ts, *r});
      }
    }
    if (out.points.empty()) return;
    if (is_rate_like) {
      std::string_view name = rs.labels->MetricName();
      if (!name.empty() && !IsCounterName(name)) {
        q->Info(fmt::format("metric might not be a counter, name does not end in "
                            "_total/_sum/_count/_bucket: {}",
                            QuoteGo(name)),
                range_expr.pos);
      }
    }
    out.labels = *rs.labels;
    out.drop_name = DropsName(fn) || rs.drop_name;
    sink(std::move(out));
  });
}

namespace {

Value EvalRangeCall(Evaluator& ev, const Call& call) {
  Value v;
  v.type = ValueType::kVector;
  const bool absent = call.func->name == "absent_over_time";
  StreamRangeCall(ev, call, [&](Series&& s) {
    ev.state()->AddSamples(static_cast<int64_t>(s.points.size()));
    v.series.push_back(std::move(s));
  });
  if (absent) {
    // 1 at every step where no series had a sample.
    std::vector<bool> found(ev.NumSteps(), false);
    for (const Series& s : v.series) {
      for (const Sample& p : s.points) found[ev.StepIndex(p.t)] = true;
    }
    Series out;
    out.labels = AbsentLabels(*call.args[0]);
    out.drop_name = true;
    for (size_t i = 0; i < found.size(); ++i) {
      if (!found[i]) out.points.push_back({ev.StepTime(i), 1});
    }
    v.series.clear();
    if (!out.points.empty()) v.series.push_back(std::move(out));
    return v;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Element-wise functions.

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct Civil {
  int64_t year;
  int month, day, hour, minute, weekday, yday;
};

Civil CivilFromUnix(int64_t secs) {
  int64_t days = FloorDiv(secs, 86400);
  int64_t rem = secs - days * 86400;
  Civil c{};
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>((rem % 3600) / 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = c.month <= 2 ? y + 1 : y;
  auto leap = [](int64_t yr) { return (yr % 4 == 0 && yr % 100 != 0) || yr % 400 == 0; };
  static constexpr int kCum[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  c.yday = kCum[c.month - 1] + c.day + ((c.month > 2 && leap(c.year)) ? 1 : 0);
  return c;
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

std::optional<double> DateFunc(std::string_view name, double v) {
  if (std::isnan(v) || std::isinf(v) || std::abs(v) > 9.2e15) return std::nullopt;
  Civil c = CivilFromUnix(static_cast<int64_t>(v));
  if (name == "year") return static_cast<double>(c.year);
  if (name == "month") return c.month;
  if (name == "day_of_month") return c.day;
  if (name == "day_of_week") return c.weekday;
  if (name == "day_of_year") return c.yday;
  if (name == "hour") return c.hour;
  if (name == "minute") return c.minute;
  if (name == "days_in_month") return DaysInMonth(c.year, c.month);
  return std::nullopt;
}

bool IsDateFunc(std::string_view n) {
  return n == "year" || n == "month" || n == "day_of_month" || n == "day_of_week" ||
         n == "day_of_year" || n == "hour" || n == "minute" || n == "days_in_month";
}

using MathFn = double (*)(double);
MathFn LookupMath(std::string_view n) {
  static const std::pair<std::string_view, MathFn> kFns[] = {
      {"abs", [](double x) { return std::abs(x); }},
      {"ceil", [](double x) { return std::ceil(x); }},
      {"floor", [](double x) { return std::floor(x); }},
      {"exp", [](double x) { return std::exp(x); }},
      {"sqrt", [](double x) { return std::sqrt(x); }},
      {"ln", [](double x) { return std::log(x); }},
      {"log2", [](double x) { return std::log2(x); }},
      {"log10", [](double x) { return std::log10(x); }},
      {"sin", [](double x) { return std::sin(x); }},
      {"cos", [](double x) { return std::cos(x); }},
      {"tan", [](double x) { return std::tan(x); }},
      {"asin", [](double x) { return std::asin(x); }},
      {"acos", [](double x) { return std::acos(x); }},
      {"atan", [](double x) { return std::atan(x); }},
      {"sinh", [](double x) { return std::sinh(x); }},
      {"cosh", [](double x) { return std::cosh(x); }},
      {"tanh", [](double x) { return std::tanh(x); }},
      {"asinh", [](double x) { return std::asinh(x); }},
      {"acosh", [](double x) { return std::acosh(x); }},
      {"atanh", [](double x) { return std::atanh(x); }},
      {"rad", [](double x) { return x * M_PI / 180; }},
      {"deg", [](double x) { return x * 180 / M_PI; }},
      {"sgn", [](double x) { return x < 0 ? -1.0 : (x > 0 ? 1.0 : x); }},
  };
  for (const auto& [name, f] : kFns) {
    if (name == n) return f;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Label functions.

bool IsValidLabelName(std::string_view n) { return !n.empty() && IsValidUtf8(n); }

// Go's regexp.Expand for a match of `re` in `src`.
std::string ExpandTemplate(const RE2& re, std::string_view tmpl, std::string_view src,
                           const std::vector<re2::StringPiece>& groups) {
  std::string out;
  auto is_name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || static_cast<unsigned char>(c) >= 0x80;
  };
  (void)src;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t d = tmpl.find('$', i);
    if (d == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    out.append(tmpl.substr(i, d - i));
    i = d + 1;
    if (i < tmpl.size() && tmpl[i] == '$') {
      out += '$';
      ++i;
      continue;
    }
    bool brace = i < tmpl.size() && tmpl[i] == '{';
    size_t j = brace ? i + 1 : i;
    size_t k = j;
    while (k < tmpl.size() && is_name_char(tmpl[k])) ++k;
    std::string_view name = tmpl.substr(j, k - j);
    if (name.empty() || (brace && (k >= tmpl.size() || tmpl[k] != '}'))) {
      out += '$';  // malformed: the $ is literal text
      continue;
    }
    i = brace ? k + 1 : k;
    int num = -1;
    if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        name.size() < 10) {
      num = std::stoi(std::string(name));
    }
    if (num >= 0) {
      if (static_cast<size_t>(num) < groups.size() && groups[num].data() != nullptr) {
        out.append(groups[num].data(), groups[num].size());
      }
    } else {
      const auto& names = re.NamedCapturingGroups();
      auto it = names.find(std::string(name));
      if (it != names.end() && static_cast<size_t>(it->second) < groups.size() &&
          groups[it->second].data() != nullptr) {
        out.append(groups[it->second].data(), groups[it->second].size());
      }
    }
  }
  return out;
}

Value EvalLabelReplace(Evaluator& ev, const Call& call) {
  const std::string& dst = StringArg(call, 1);
  const std::string& repl = StringArg(call, 2);
  const std::string& src = StringArg(call, 3);
  const std::string& regex = StringArg(call, 4);
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(true);
  RE2 re("^(?s:" + regex + ")$", opts);
  if (!re.ok()) {
    ThrowExecution(fmt::format("invalid regular expression in label_replace(): {}", regex));
  }
  if (!IsValidLabelName(dst)) {
    ThrowExecution(fmt::format("invalid destination label name in label_replace(): {}", dst));
  }
  Value v = ev.Eval(*call.args[0]);
  std::vector<re2::StringPiece> groups(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
  for (Series& s : v.series) {
    std::string_view sv = s.labels.Get(src);
    if (!re.Match(re2::StringPiece(sv.data(), sv.size()), 0, sv.size(), RE2::ANCHOR_BOTH,
                  groups.data(), static_cast<int>(groups.size()))) {
      continue;
    }
    std::string res = ExpandTemplate(re, repl, sv, groups);
    LabelsBuilder b(s.labels);
    b.Set(dst, res);
    s.labels = b.Build();
    if (dst == kMetricName) s.drop_name = false;
  }
  MergeSameLabels(&v.series);
  return v;
}

Value EvalLabelJoin(Evaluator& ev, const Call& call) {
  const std::string& dst = StringArg(call, 1);
  const std::string& sep = StringArg(call, 2);
  std::vector<std::string> srcs;
  for (size_t i = 3; i < call.args.size(); ++i) {
    const std::string& src = StringArg(call, i);
    if (!IsValidLabelName(src)) {
      ThrowExecution(fmt::format("invalid source label name in label_join(): {}", src));
    }
    srcs.push_back(src);
  }
  if (!IsValidLabelName(dst)) {
    ThrowExecution(fmt::format("invalid destination label name in label_join(): {}", dst));
  }
  Value v = ev.Eval(*call.args[0]);
  for (Series& s : v.series) {
    std::string joined;
    for (size_t i = 0; i < srcs.size(); ++i) {
      if (i > 0) joined += sep;
      joined += s.labels.Get(srcs[i]);
    }
    LabelsBuilder b(s.labels);
    b.Set(dst, joined);
    s.labels = b.Build();
    if (dst == kMetricName) s.drop_name = false;
  }
  MergeSameLabels(&v.series);
  return v;
}

// ---------------------------------------------------------------------------------------------
// sort_by_label's natural order (github.com/facette/natsort).

std::vector<std::string_view> NatChunks(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    bool digit = s[i] >= '0' && s[i] <= '9';
    size_t j = i;
    while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') == digit)) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool NatLess(std::string_view a, std::string_view b) {
  auto ca = NatChunks(a), cb = NatChunks(b);
  for (size_t i = 0; i < ca.size(); ++i) {
    if (i >= cb.size()) return false;
    auto ia = ParseInt64(ca[i]);
    auto ib = ParseInt64(cb[i]);
    if (ia && ib) {
      if (*ia == *ib) {
        if (i == ca.size() - 1) return true;
        if (i == cb.size() - 1) return false;
        continue;
      }
      return *ia < *ib;
    }
    if (ca[i] == cb[i]) {
      if (i == ca.size() - 1) return true;
      if (i == cb.size() - 1) return false;
      continue;
    }
    return ca[i] < cb[i];
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Histogram functions over classic buckets.

enum class HistFn { kQuantile, kQuantiles, kFraction };

Value EvalHistogramFunc(Evaluator& ev, const Call& call, HistFn kind) {
  QueryState* q = ev.state();
  const size_t vec_arg = kind == HistFn::kQuantile ? 1 : (kind == HistFn::kFraction ? 2 : 0);
  std::vector<std::vector<double>> scalars;  // quantile(s) or lower/upper, per step
  std::string qlabel;
  if (kind == HistFn::kQuantile) {
    scalars.push_back(ev.EvalScalar(*call.args[0]));
  } else if (kind == HistFn::kFraction) {
    scalars.push_back(ev.EvalScalar(*call.args[0]));
    scalars.push_back(ev.EvalScalar(*call.args[1]));
  } else {
    qlabel = StringArg(call, 1);
    for (size_t i = 2; i < call.args.size(); ++i) scalars.push_back(ev.EvalScalar(*call.args[i]));
  }
  SeriesList in = ev.EvalVector(*call.args[vec_arg]);
  const PositionRange& vec_pos = ArgPos(call, vec_arg);

  // Per input series: its upper bound and group (all labels but le), computed once.
  struct Group {
    Labels labels;
  };
  std::vector<Group> groups;
  std::vector<int> series_group(in.size(), -1);
  std::vector<double> series_le(in.size(), 0);
  std::unordered_map<uint64_t, std::vector<int>> group_index;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string_view le = in[i].labels.Get("le");
    std::optional<double> ub = ParseGoFloat(le);
    if (!ub) {
      q->Warn(fmt::format("bucket label \"le\" is missing or has a malformed value of {} for "
                          "metric name {}",
                          QuoteGo(le), QuoteGo(in[i].labels.MetricName())),
              vec_pos);
      continue;
    }
    series_le[i] = *ub;
    LabelsBuilder b(in[i].labels);
    b.Del("le");
    Labels gl = b.Build();
    auto& cands = group_index[gl.Hash()];
    int g = -1;
    for (int c : cands) {
      if (groups[c].labels == gl) g = c;
    }
    if (g < 0) {
      g = static_cast<int>(groups.size());
      cands.push_back(g);
      groups.push_back({std::move(gl)});
    }
    series_group[i] = g;
  }

  StepSlices slices = Transpose(ev, in);
  OutputCollector out(ev.NumSteps());
  std::vector<std::vector<Bucket>> buckets(groups.size());
  std::vector<Bucket> scratch;
  std::vector<std::string> qstrs;
  if (kind == HistFn::kQuantiles) {
    for (auto& s : scalars) qstrs.push_back(s.empty() ? "" : FormatOpenMetricsFloat(s[0]));
  }
  for (size_t step = 0; step < ev.NumSteps(); ++step) {
    const int64_t ts = ev.StepTime(step);
    // Quantile parameter checks happen even when there is no input.
    if (kind != HistFn::kFraction) {
      for (size_t k = 0; k < scalars.size(); ++k) {
        double qv = scalars[k][step];
        if (std::isnan(qv) || qv < 0 || qv > 1) {
          size_t arg = kind == HistFn::kQuantile ? 0 : k + 2;
          q->Warn(fmt::format("quantile value should be between 0 and 1, got {}",
                              FormatGoFloat(qv, 'g')),
                  ArgPos(call, arg));
        }
      }
    }
    for (auto& b : buckets) b.clear();
    for (const auto& [si, v] : slices.At(step)) {
      if (series_group[si] >= 0) buckets[series_group[si]].push_back({series_le[si], v});
    }
    auto emit_quantile = [&](size_t g, double qv, const Labels& labels) {
      scratch = buckets[g];
      BucketQuantileResult r = BucketQuantile(qv, scratch);
      if (r.forced_monotonic) {
        q->Info(fmt::format("input to histogram_quantile needed to be fixed for monotonicity "
                            "(see https://prometheus.io/docs/prometheus/latest/querying/"
                            "functions/#histogram_quantile) for metric name {}",
                            QuoteGo(groups[g].labels.MetricName())),
                vec_pos);
      }
      out.Add(labels, ts, r.value, true);
    };
    if (kind == HistFn::kQuantiles) {
      for (size_t k = 0; k < scalars.size(); ++k) {
        double qv = scalars[k][step];
        std::string qs = FormatOpenMetricsFloat(qv);
        for (size_t g = 0; g < groups.size(); ++g) {
          if (buckets[g].empty()) continue;
          LabelsBuilder b(groups[g].labels);
          b.Set(qlabel, qs);
          emit_quantile(g, qv, b.Build());
        }
      }
      continue;
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      if (buckets[g].empty()) continue;
      if (kind == HistFn::kQuantile) {
        emit_quantile(g, scalars[0][step], groups[g].labels);
      } else {
        scratch = buckets[g];
        out.Add(groups[g].labels, ts, BucketFraction(scalars[0][step], scalars[1][step], scratch),
                true);
      }
    }
  }
  Value v;
  v.type = ValueType::kVector;
  v.series = out.Take();
  return v;
}

}  // namespace

Value EvalCall(Evaluator& ev, const Call& call) {
  QueryState* q = ev.state();
  const std::string_view name = call.func->name;
  const size_t steps = ev.NumSteps();
  Value v;
  v.type = call.func->return_type;

  // Functions over a range vector.
  for (const auto& a : call.args) {
    if (a->Type() == ValueType::kMatrix) return EvalRangeCall(ev, call);
  }

  // Scalar-valued functions of the evaluation time or the query.
  if (name == "time") {
    for (size_t i = 0; i < steps; ++i) v.scalar.push_back(static_cast<double>(ev.StepTime(i)) / 1000);
    return v;
  }
  if (name == "pi") {
    v.scalar.assign(steps, M_PI);
    return v;
  }
  if (name == "step" || name == "range" || name == "start" || name == "end") {
    double x = 0;
    if (name == "step") x = static_cast<double>(q->is_range_query ? q->query_step : 0) / 1000;
    if (name == "range") x = static_cast<double>(q->query_end - q->query_start) / 1000;
    if (name == "start") x = static_cast<double>(q->query_start) / 1000;
    if (name == "end") x = static_cast<double>(q->query_end) / 1000;
    v.scalar.assign(steps, x);
    return v;
  }
  if (name == "min_of" || name == "max_of") {
    std::vector<double> a = ev.EvalScalar(*call.args[0]);
    std::vector<double> b = ev.EvalScalar(*call.args[1]);
    v.scalar.resize(steps);
    for (size_t i = 0; i < steps; ++i) {
      if (std::isnan(a[i]) || std::isnan(b[i])) {
        v.scalar[i] = kNaN;
      } else {
        v.scalar[i] = name == "min_of" ? std::min(a[i], b[i]) : std::max(a[i], b[i]);
      }
    }
    return v;
  }
  if (name == "scalar") {
    SeriesList in = ev.EvalVector(*call.args[0]);
    v.scalar.assign(steps, kNaN);
    std::vector<int> count(steps, 0);
    for (const Series& s : in) {
      for (const Sample& p : s.points) {
        size_t i = ev.StepIndex(p.t);
        if (++count[i] == 1) v.scalar[i] = p.v;
      }
    }
    for (size_t i = 0; i < steps; ++i) {
      if (count[i] != 1) v.scalar[i] = kNaN;
    }
    return v;
  }
  if (name == "vector") {
    std::vector<double> s = ev.EvalScalar(*call.args[0]);
    Series out;
    out.points.reserve(steps);
    for (size_t i = 0; i < steps; ++i) out.points.push_back({ev.StepTime(i), s[i]});
    v.series.push_back(std::move(out));
    return v;
  }

  if (name == "label_replace") return EvalLabelReplace(ev, call);
  if (name == "label_join") return EvalLabelJoin(ev, call);
  if (name == "histogram_quantile") return EvalHistogramFunc(ev, call, HistFn::kQuantile);
  if (name == "histogram_quantiles") return EvalHistogramFunc(ev, call, HistFn::kQuantiles);
  if (name == "histogram_fraction") return EvalHistogramFunc(ev, call, HistFn::kFraction);

  if (name == "timestamp") {
    const Expr& arg = Unwrap(*call.args[0]);
    SeriesList in;
    if (arg.kind == NodeKind::kVectorSelector) {
      in = ev.EvalVectorSelector(static_cast<const VectorSelector&>(arg), true, "timestamp");
    } else {
      in = ev.EvalVector(arg);
      for (Series& s : in) {
        for (Sample& p : s.points) p.v = static_cast<double>(p.t) / 1000;
      }
    }
    for (Series& s : in) s.drop_name = true;
    v.series = std::move(in);
    return v;
  }

  if (IsDateFunc(name)) {
    if (call.args.empty()) {
      Series out;
      for (size_t i = 0; i < steps; ++i) {
        auto r = DateFunc(name, static_cast<double>(ev.StepTime(i) / 1000));
        if (r) out.points.push_back({ev.StepTime(i), *r});
      }
      v.series.push_back(std::move(out));
      return v;
    }
    SeriesList in = ev.EvalVector(*call.args[0]);
    for (Series& s : in) {
      std::erase_if(s.points, [&](Sample& p) {
        auto r = DateFunc(name, p.v);
        if (!r) return true;
        p.v = *r;
        return false;
      });
      s.drop_name = true;
    }
    std::erase_if(in, [](const Series& s) { return s.points.empty(); });
    v.series = std::move(in);
    return v;
  }

  if (MathFn f = LookupMath(name)) {
    SeriesList in = ev.EvalVector(*call.args[0]);
    for (Series& s : in) {
      s.drop_name = true;
      for (Sample& p : s.points) p.v = f(p.v);
    }
    v.series = std::move(in);
    return v;
  }

  if (name == "round" || name == "clamp" || name == "clamp_min" || name == "clamp_max") {
    SeriesList in = ev.EvalVector(*call.args[0]);
    std::vector<double> a, b;
    if (call.args.size() > 1) a = ev.EvalScalar(*call.args[1]);
    if (call.args.size() > 2) b = ev.EvalScalar(*call.args[2]);
    for (Series& s : in) {
      s.drop_name = true;
      std::erase_if(s.points, [&](Sample& p) {
        size_t i = ev.StepIndex(p.t);
        if (name == "round") {
          double to_nearest = a.empty() ? 1.0 : a[i];
          double inv = 1.0 / to_nearest;
          p.v = std::floor(p.v * inv + 0.5) / inv;
          return false;
        }
        double lo = -std::numeric_limits<double>::infinity();
        double hi = std::numeric_limits<double>::infinity();
        if (name == "clamp") {
          lo = a[i];
          hi = b[i];
        } else if (name == "clamp_min") {
          lo = a[i];
        } else {
          hi = a[i];
        }
        if (hi < lo) return true;
        // Go's math.Max/Min: NaN wins.
        double x = p.v;
        if (std::isnan(x) || std::isnan(lo) || std::isnan(hi)) {
          p.v = kNaN;
        } else {
          p.v = std::max(lo, std::min(hi, x));
        }
        return false;
      });
    }
    std::erase_if(in, [](const Series& s) { return s.points.empty(); });
    v.series = std::move(in);
    return v;
  }

  if (name == "histogram_count" || name == "histogram_sum" || name == "histogram_avg" ||
      name == "histogram_stddev" || name == "histogram_stdvar") {
    // Native histograms only: float samples give nothing.
    (void)ev.EvalVector(*call.args[0]);
    return v;
  }

  if (name == "absent") {
    SeriesList in = ev.EvalVector(*call.args[0]);
    std::vector<bool> found(steps, false);
    for (const Series& s : in) {
      for (const Sample& p : s.points) found[ev.StepIndex(p.t)] = true;
    }
    Series out;
    out.labels = AbsentLabels(*call.args[0]);
    for (size_t i = 0; i < steps; ++i) {
      if (!found[i]) out.points.push_back({ev.StepTime(i), 1});
    }
    if (!out.points.empty()) v.series.push_back(std::move(out));
    return v;
  }

  if (name == "sort" || name == "sort_desc" || name == "sort_by_label" ||
      name == "sort_by_label_desc") {
    if (q->is_range_query) {
      q->Warn("sort is ineffective for range queries since results are always ordered by labels",
              call.pos);
    }
    SeriesList in = ev.EvalVector(*call.args[0]);
    if (steps == 1) {
      if (name == "sort" || name == "sort_desc") {
        bool desc = name == "sort_desc";
        std::stable_sort(in.begin(), in.end(), [&](const Series& a, const Series& b) {
          double x = a.points[0].v, y = b.points[0].v;
          if (std::isnan(x)) return false;
          if (std::isnan(y)) return true;
          return desc ? x > y : x < y;
        });
      } else {
        std::vector<std::string> labels;
        for (size_t i = 1; i < call.args.size(); ++i) labels.push_back(StringArg(call, i));
        bool desc = name == "sort_by_label_desc";
        std::stable_sort(in.begin(), in.end(), [&](const Series& a, const Series& b) {
          for (const std::string& l : labels) {
            std::string_view x = a.labels.Get(l), y = b.labels.Get(l);
            if (x == y) continue;
            return desc ? !NatLess(x, y) : NatLess(x, y);
          }
          return desc ? (b.labels < a.labels) : (a.labels < b.labels);
        });
      }
    }
    v.series = std::move(in);
    return v;
  }

  ThrowExecution(fmt::format("function {} is not supported", name));
}

}  // namespace hearth::promql::internal
