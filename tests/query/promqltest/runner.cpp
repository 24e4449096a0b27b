#include "tests/query/promqltest/runner.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>

#include "model/labels.h"
#include "model/matcher.h"
#include "model/strutil.h"
#include "query/engine.h"
#include "query/parser/parser.h"
#include "tests/query/promqltest/script.h"
#include "tsdb/storage/memstore.h"

namespace hearth::promqltest {

int FileReport::Count(EvalOutcome::Status s) const {
  return static_cast<int>(
      std::count_if(evals.begin(), evals.end(), [&](const auto& e) { return e.status == s; }));
}

namespace {

using promql::Engine;
using promql::Expr;
using promql::ExprPtr;
using promql::QueryResult;

constexpr int64_t kMinute = 60 * 1000;

// The storage the scripts load into. Switching to the real TSDB is this one line.
std::unique_ptr<storage::Storage> NewTestStorage() {
  return std::make_unique<storage::MemStore>();
}

promql::EngineOptions TestEngineOptions() {
  promql::EngineOptions o;
  o.timeout_ms = 100 * 1000;
  o.max_samples = 50'000'000;
  o.default_subquery_step_ms = kMinute;
  return o;
}

// util/almost.Equal.
bool AlmostEqual(double a, double b, double epsilon) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  constexpr double kMinNormal = 2.2250738585072014e-308;
  double abs_sum = std::abs(a) + std::abs(b);
  double diff = std::abs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < epsilon * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < epsilon;
}
constexpr double kEpsilon = 1e-6;

std::string Fmt(double v) { return fmt::format("{}", v); }

// Thrown to end one eval with a failure message.
struct Failure {
  std::string msg;
};

[[noreturn]] void Fail(std::string msg) { throw Failure{std::move(msg)}; }

// Go's regexp sees each invalid UTF-8 byte as U+FFFD; RE2 would not match it with `.`.
std::string ForRegexp(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n > 0 && i + n <= s.size() && IsValidUtf8(s.substr(i, n))) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      i++;
    }
  }
  return out;
}

bool RegexpMatch(const std::string& pattern, std::string_view s) {
  RE2 re(pattern, RE2::Quiet);
  return RE2::PartialMatch(ForRegexp(s), re);
}

bool Matches(const Expectation& e, const std::string& s) {
  if (e.message) return *e.message == s;
  return RegexpMatch(*e.regex, s);
}

class ScriptRun {
 public:
  ScriptRun() : engine_(TestEngineOptions()), storage_(NewTestStorage()) {}

  void Load(const LoadCmd& cmd) {
    auto app = storage_->NewAppender();
    for (const SeriesDesc& s : cmd.series) {
      bool histogram = false;
      for (size_t i = 0; i < s.values.size(); ++i) {
        const SeriesValue& v = s.values[i];
        if (v.kind == SeriesValue::Kind::kHistogram) histogram = true;
        if (v.kind != SeriesValue::Kind::kFloat) continue;
        auto r = app->Append(0, s.labels, static_cast<int64_t>(i) * cmd.gap, v.v);
        (void)r;  // duplicates within a load: the later value wins in MemStore
      }
      if (histogram) histogram_series_.push_back(s.labels);
      if (cmd.with_nhcb) AddNhcbSeries(s.labels);
      if (cmd.default_start_timestamps) st_series_.push_back(s.labels);
    }
    for (const Labels& l : cmd.start_timestamp_series) st_series_.push_back(l);
    Status st = app->Commit();
    (void)st;
  }

  void Clear() {
    storage_ = NewTestStorage();
    histogram_series_.clear();
    st_series_.clear();
  }

  EvalOutcome Eval(const EvalCmd& cmd) {
    EvalOutcome out;
    out.line = cmd.line;
    out.expr = cmd.expr;
    auto parsed = promql::ParseExpr(cmd.expr);
    if (!parsed.ok()) {
      out.status = EvalOutcome::Status::kFailed;
      out.message = "parse error: " + parsed.status().message();
      return out;
    }
    if (std::string why = NeedsHistograms(cmd, **parsed); !why.empty()) {
      out.status = EvalOutcome::Status::kUnsupported;
      out.message = why;
      return out;
    }
    try {
      if (cmd.is_range) {
        RunRange(cmd);
      } else {
        RunInstant(cmd);
      }
      out.status = EvalOutcome::Status::kPassed;
    } catch (const Failure& f) {
      out.status = EvalOutcome::Status::kFailed;
      out.message = f.msg;
    }
    return out;
  }

 private:
  // load_with_nhcb also loads the classic histograms as native histograms with custom buckets,
  // under the name without _bucket/_sum/_count and without le.
  void AddNhcbSeries(const Labels& l) {
    std::string_view name = l.MetricName();
    std::string base;
    for (std::string_view suf : {"_bucket", "_sum", "_count"}) {
      if (name.size() > suf.size() && name.substr(name.size() - suf.size()) == suf) {
        base = std::string(name.substr(0, name.size() - suf.size()));
        if (suf == "_bucket" && !l.Has("le")) base.clear();
        break;
      }
    }
    if (base.empty()) return;
    LabelsBuilder b(l);
    b.Del("le");
    b.Set("__name__", base);
    histogram_series_.push_back(b.Build());
  }

  std::string NeedsHistograms(const EvalCmd& cmd, const Expr& e) {
    if (cmd.expects_histogram) return "expects a native histogram value";
    std::string why;
    promql::Walk(e, [&](const Expr& n) {
      if (!why.empty() || n.kind != promql::NodeKind::kVectorSelector) return;
      const auto& vs = static_cast<const promql::VectorSelector&>(n);
      for (const Labels& l : histogram_series_) {
        if (MatchesAll(vs.matchers, l)) {
          why = "selects " + l.ToString() + ", which has native histogram samples";
          return;
        }
      }
      for (const Labels& l : st_series_) {
        if (MatchesAll(vs.matchers, l)) {
          why = "selects " + l.ToString() + ", which has start timestamps (not stored)";
          return;
        }
      }
    });
    return why;
  }

  void CheckExpectedFailure(const EvalCmd& cmd, const std::string& msg) {
    if (cmd.expected_fail_message && *cmd.expected_fail_message != msg) {
      Fail(fmt::format("expected error {} but got: {}", QuoteGo(*cmd.expected_fail_message), msg));
    }
    if (cmd.expected_fail_regexp) {
      if (!RegexpMatch(*cmd.expected_fail_regexp, msg)) {
        Fail(fmt::format("expected error matching {} but got: {}", *cmd.expected_fail_regexp,
                         msg));
      }
    }
    for (const auto& e : cmd.expects) {
      if (e.type != Expectation::Type::kFail) continue;
      if (!Matches(e, msg)) {
        Fail(fmt::format("expected error matching {} but got: {}",
                         e.message ? *e.message : *e.regex, msg));
      }
      break;
    }
  }

  void CheckAnnotationsOfType(const EvalCmd& cmd, Expectation::Type t,
                              const std::vector<std::string>& actual, const char* kind) {
    std::vector<const Expectation*> exp;
    for (const auto& e : cmd.expects) {
      if (e.type == t) exp.push_back(&e);
    }
    if (exp.empty()) return;
    if (actual.empty()) Fail(fmt::format("expected {} annotations but none were found", kind));
    for (const auto* e : exp) {
      if (std::none_of(actual.begin(), actual.end(), [&](const auto& a) { return Matches(*e, a); })) {
        Fail(fmt::format("expected {} annotation matching {} but found: [{}]", kind,
                         QuoteGo(e->message ? *e->message : *e->regex),
                         fmt::join(actual, "; ")));
      }
    }
    for (const auto& a : actual) {
      if (std::none_of(exp.begin(), exp.end(), [&](const auto* e) { return Matches(*e, a); })) {
        Fail(fmt::format("unexpected {} annotation {}", kind, QuoteGo(a)));
      }
    }
  }

  void CheckAnnotations(const EvalCmd& cmd, const promql::Annotations& a) {
    if (cmd.warn && a.warnings.empty()) Fail("expected warnings but got none");
    if (cmd.info && a.infos.empty()) Fail("expected info annotations but got none");
    CheckAnnotationsOfType(cmd, Expectation::Type::kWarn, a.warnings, "warn");
    CheckAnnotationsOfType(cmd, Expectation::Type::kInfo, a.infos, "info");
    if (cmd.Has(Expectation::Type::kNoWarn) && !a.warnings.empty()) {
      Fail(fmt::format("unexpected warning annotations: [{}]", fmt::join(a.warnings, "; ")));
    }
    if (cmd.Has(Expectation::Type::kNoInfo) && !a.infos.empty()) {
      Fail(fmt::format("unexpected info annotations: [{}]", fmt::join(a.infos, "; ")));
    }
  }

  const ExpectedSeries* FindExpected(const EvalCmd& cmd, const Labels& l) {
    for (const auto& s : cmd.series) {
      if (s.labels == l) return &s;
    }
    return nullptr;
  }

  void CompareMatrix(const EvalCmd& cmd, const promql::Matrix& m) {
    if (cmd.IsOrdered()) Fail("expected ordered result, but query returned a matrix");
    if (cmd.expect_scalar) Fail("expected scalar result, but got a matrix");
    for (size_t i = 1; i < m.size(); ++i) {
      if (m[i].labels < m[i - 1].labels) Fail("matrix results should always be sorted by labels");
    }
    size_t seen = 0;
    for (const auto& s : m) {
      const ExpectedSeries* e = FindExpected(cmd, s.labels);
      if (e == nullptr) {
        Fail(fmt::format("unexpected metric {} in result ({} points)", s.labels.ToString(),
                         s.samples.size()));
      }
      seen++;
      std::vector<Sample> want;
      for (size_t i = 0; i < e->values.size(); ++i) {
        int64_t ts = cmd.start + static_cast<int64_t>(i) * cmd.step;
        if (ts > cmd.end) {
          Fail(fmt::format("expected {} points for {}, but query time range cannot return this "
                           "many points",
                           e->values.size(), s.labels.ToString()));
        }
        if (e->values[i].kind == SeriesValue::Kind::kFloat) want.push_back({ts, e->values[i].v});
      }
      if (want.size() != s.samples.size()) {
        std::string got;
        for (const auto& p : s.samples) got += fmt::format(" {}@{}", Fmt(p.v), p.t);
        Fail(fmt::format("expected {} float points for {}, but got {}:{}", want.size(),
                         s.labels.ToString(), s.samples.size(), got));
      }
      for (size_t i = 0; i < want.size(); ++i) {
        if (want[i].t != s.samples[i].t) {
          Fail(fmt::format("expected float value at index {} for {} to have timestamp {}, but it "
                           "had timestamp {}",
                           i, s.labels.ToString(), want[i].t, s.samples[i].t));
        }
        if (!AlmostEqual(s.samples[i].v, want[i].v, kEpsilon)) {
          Fail(fmt::format("expected float value at index {} (t={}) for {} to be {}, but got {}",
                           i, s.samples[i].t, s.labels.ToString(), Fmt(want[i].v),
                           Fmt(s.samples[i].v)));
        }
      }
    }
    if (seen != cmd.series.size()) {
      for (const auto& e : cmd.series) {
        bool found = std::any_of(m.begin(), m.end(), [&](const auto& s) { return s.labels == e.labels; });
        if (!found) Fail(fmt::format("expected metric {} not found", e.labels.ToString()));
      }
    }
  }

  void CompareVector(const EvalCmd& cmd, const promql::Vector& v) {
    if (cmd.expect_scalar) Fail("expected scalar result, but got a vector");
    for (size_t pos = 0; pos < v.size(); ++pos) {
      const ExpectedSeries* e = FindExpected(cmd, v[pos].labels);
      if (e == nullptr) {
        Fail(fmt::format("unexpected metric {} in result, has value {}", v[pos].labels.ToString(),
                         Fmt(v[pos].v)));
      }
      if (cmd.IsOrdered() && e->pos != static_cast<int>(pos + 1)) {
        Fail(fmt::format("expected metric {} at position {} but was at {}",
                         v[pos].labels.ToString(), e->pos, pos + 1));
      }
      if (e->values.empty() || e->values[0].kind != SeriesValue::Kind::kFloat) {
        Fail(fmt::format("expected no value for {}", v[pos].labels.ToString()));
      }
      if (!AlmostEqual(e->values[0].v, v[pos].v, kEpsilon)) {
        Fail(fmt::format("expected {} for {} but got {}", Fmt(e->values[0].v),
                         v[pos].labels.ToString(), Fmt(v[pos].v)));
      }
    }
    for (const auto& e : cmd.series) {
      bool found = std::any_of(v.begin(), v.end(), [&](const auto& s) { return s.labels == e.labels; });
      if (!found) Fail(fmt::format("expected metric {} not found", e.labels.ToString()));
    }
  }

  void CompareResult(const EvalCmd& cmd, const promql::Value& value) {
    if (const auto* m = std::get_if<promql::Matrix>(&value)) return CompareMatrix(cmd, *m);
    if (const auto* v = std::get_if<promql::Vector>(&value)) return CompareVector(cmd, *v);
    if (const auto* s = std::get_if<promql::Scalar>(&value)) {
      if (!cmd.expect_scalar) Fail("expected vector or matrix result, but got a scalar");
      if (!AlmostEqual(cmd.scalar, s->v, kEpsilon)) {
        Fail(fmt::format("expected scalar {} but got {}", Fmt(cmd.scalar), Fmt(s->v)));
      }
      return;
    }
    const auto& str = std::get<promql::String>(value);
    std::string want = cmd.expected_string.value_or("");
    if (want != str.v) Fail(fmt::format("expected string {} but got {}", QuoteGo(want), QuoteGo(str.v)));
  }

  void RunRange(const EvalCmd& cmd) {
    auto r = engine_.Range(*storage_, cmd.expr, cmd.start, cmd.end, cmd.step);
    if (!r.ok()) {
      if (cmd.IsFail()) return CheckExpectedFailure(cmd, r.status().message());
      Fail("error evaluating query: " + r.status().message());
    }
    if (cmd.IsFail()) Fail("expected error evaluating query but got none");
    CheckAnnotations(cmd, r->annotations);
    CompareResult(cmd, r->value);
  }

  // Upstream's atModifierTestCases: the query with `@ <eval time>` on every selector (and
  // subquery) not already under an @ subquery, to be run at several evaluation times.
  std::vector<std::pair<std::string, int64_t>> AtModifierCases(const std::string& text,
                                                               int64_t ts) {
    auto parsed = promql::ParseExpr(text);
    if (!parsed.ok()) return {};
    bool unsafe = false;
    std::function<void(Expr&, bool)> visit = [&](Expr& e, bool under_at) {
      using promql::NodeKind;
      if (!under_at) {
        switch (e.kind) {
          case NodeKind::kVectorSelector: {
            auto& vs = static_cast<promql::VectorSelector&>(e);
            if (vs.at != promql::AtModifier::kTimestamp) {
              vs.at = promql::AtModifier::kTimestamp;
              vs.at_timestamp = ts;
            }
            break;
          }
          case NodeKind::kSubquery: {
            auto& sq = static_cast<promql::SubqueryExpr&>(e);
            if (sq.at != promql::AtModifier::kTimestamp) {
              sq.at = promql::AtModifier::kTimestamp;
              sq.at_timestamp = ts;
            }
            break;
          }
          case NodeKind::kCall: {
            std::string_view n = static_cast<promql::Call&>(e).func->name;
            static constexpr std::string_view kUnsafe[] = {
                "days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour",
                "minute", "month", "year", "predict_linear", "time", "timestamp",
                // Functions of the query's own range.
                "start", "end", "step", "range"};
            if (std::find(std::begin(kUnsafe), std::end(kUnsafe), n) != std::end(kUnsafe)) {
              unsafe = true;
            }
            break;
          }
          default:
            break;
        }
      }
      switch (e.kind) {
        case NodeKind::kMatrixSelector:
          visit(*static_cast<promql::MatrixSelector&>(e).vector_selector, under_at);
          break;
        case NodeKind::kSubquery: {
          auto& sq = static_cast<promql::SubqueryExpr&>(e);
          visit(*sq.expr, under_at || sq.at == promql::AtModifier::kTimestamp);
          break;
        }
        case NodeKind::kParen: visit(*static_cast<promql::ParenExpr&>(e).expr, under_at); break;
        case NodeKind::kUnary: visit(*static_cast<promql::UnaryExpr&>(e).expr, under_at); break;
        case NodeKind::kBinary:
          visit(*static_cast<promql::BinaryExpr&>(e).lhs, under_at);
          visit(*static_cast<promql::BinaryExpr&>(e).rhs, under_at);
          break;
        case NodeKind::kAggregate: {
          auto& a = static_cast<promql::AggregateExpr&>(e);
          if (a.param) visit(*a.param, under_at);
          visit(*a.expr, under_at);
          break;
        }
        case NodeKind::kCall:
          for (auto& a : static_cast<promql::Call&>(e).args) visit(*a, under_at);
          break;
        case NodeKind::kStepInvariant:
          visit(*static_cast<promql::StepInvariantExpr&>(e).expr, under_at);
          break;
        default:
          break;
      }
    };
    visit(**parsed, false);
    if (unsafe) return {};
    std::string formatted = promql::Format(**parsed);
    std::vector<int64_t> times = {-10 * ts, 0, ts / 5, ts, 10 * ts};
    if (ts == 0) times = {-1000, 0, 1000};
    std::vector<std::pair<std::string, int64_t>> out;
    for (int64_t t : times) out.emplace_back(formatted, t);
    return out;
  }

  void RunInstant(const EvalCmd& cmd) {
    std::vector<std::pair<std::string, int64_t>> queries = {{cmd.expr, cmd.eval_time}};
    for (auto& q : AtModifierCases(cmd.expr, cmd.eval_time)) queries.push_back(std::move(q));
    static const RE2 kQueryContextFuncs(R"((start|end|range|step)\(\))");
    for (const auto& [text, t] : queries) {
      const std::string which = text == cmd.expr ? "" : " (as " + text + " at " + Fmt(t) + ")";
      try {
        auto r = engine_.Instant(*storage_, text, t);
        if (!r.ok()) {
          if (cmd.IsFail()) {
            CheckExpectedFailure(cmd, r.status().message());
            continue;
          }
          Fail("error evaluating query: " + r.status().message());
        }
        if (cmd.IsFail()) Fail("expected error evaluating query but got none");
        CheckAnnotations(cmd, r->annotations);
        CompareResult(cmd, r->value);
        if (cmd.exclude_from_range || RE2::PartialMatch(text, kQueryContextFuncs)) continue;

        // The same query as a range query around t must agree at t.
        auto rr = engine_.Range(*storage_, text, t - kMinute, t + kMinute, kMinute);
        if (!rr.ok()) Fail("error evaluating query in range mode: " + rr.status().message());
        if (cmd.IsOrdered()) continue;
        const auto& m = std::get<promql::Matrix>(rr->value);
        for (size_t i = 1; i < m.size(); ++i) {
          if (m[i].labels < m[i - 1].labels) Fail("range mode: matrix not sorted by labels");
        }
        promql::Vector vec;
        for (const auto& s : m) {
          for (const auto& p : s.samples) {
            if (p.t == t) {
              vec.push_back({s.labels, p.t, p.v});
              break;
            }
          }
        }
        try {
          if (std::holds_alternative<promql::Scalar>(r->value)) {
            if (vec.empty()) Fail("range mode: no value at the evaluation time");
            CompareResult(cmd, promql::Scalar{t, vec[0].v});
          } else {
            CompareResult(cmd, vec);
          }
        } catch (const Failure& f) {
          Fail("range mode: " + f.msg);
        }
      } catch (const Failure& f) {
        Fail(f.msg + which);
      }
    }
  }

  Engine engine_;
  std::unique_ptr<storage::Storage> storage_;
  std::vector<Labels> histogram_series_;
  std::vector<Labels> st_series_;
};

}  // namespace

FileReport RunScript(std::string_view file, std::string_view text) {
  FileReport report;
  report.file = std::string(file);
  auto cmds = ParseScript(text);
  if (!cmds.ok()) {
    report.error = cmds.status().message();
    return report;
  }
  ScriptRun run;
  for (const Command& c : *cmds) {
    if (const auto* load = std::get_if<LoadCmd>(&c)) {
      run.Load(*load);
    } else if (std::holds_alternative<ClearCmd>(c)) {
      run.Clear();
    } else {
      report.evals.push_back(run.Eval(std::get<EvalCmd>(c)));
    }
  }
  return report;
}

}  // namespace hearth::promqltest
