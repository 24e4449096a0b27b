// hearthctl test rules: promtool's rule unit tests (cmd/promtool/unittest.go), run on a MemStore
// with the real PromQL engine and rule manager.

#include "cmd/hearthctl/test_rules_cmd.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include "model/clock.h"
#include "model/duration.h"
#include "model/format.h"
#include "model/strutil.h"
#include "query/engine.h"
#include "query/parser/parser.h"
#include "rules/alerting.h"
#include "rules/engine_query.h"
#include "rules/manager.h"
#include "tsdb/storage/memstore.h"

namespace hearth::ctl {
namespace {

// ---- The file format ----

struct SeriesInput {
  std::string series;
  std::string values;
};

struct ExpAlert {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

struct AlertTest {
  int64_t eval_time = 0;
  std::string alertname;
  std::vector<ExpAlert> exp_alerts;
};

struct ExpSample {
  std::string labels;
  double value = 0;
  std::string histogram;
};

struct PromqlTest {
  std::string expr;
  int64_t eval_time = 0;
  std::vector<ExpSample> exp_samples;
};

struct TestGroup {
  int64_t interval = 0;
  std::vector<SeriesInput> input_series;
  std::vector<AlertTest> alert_tests;
  std::vector<PromqlTest> promql_tests;
  Labels external_labels;
  std::string external_url;
  std::string name;
};

struct UnitTestFile {
  std::vector<std::string> rule_files;
  int64_t evaluation_interval = 0;
  std::vector<std::string> group_eval_order;
  std::vector<TestGroup> tests;
  bool fuzzy_compare = false;
};

// A decoding failure that ends the whole file, worded like Go's yaml.v2.
struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Collects yaml.v2's per-field errors ("line N: field x not found in type main.T").
class Decoder {
 public:
  std::vector<std::string> errors;

  static int Line(const YAML::Node& n) { return n.Mark().line + 1; }

  static std::string Tag(const YAML::Node& n) {
    if (n.IsMap()) return "!!map";
    if (n.IsSequence()) return "!!seq";
    if (n.IsNull()) return "!!null";
    const std::string& s = n.Scalar();
    if (n.Tag() == "!") return "!!str";  // quoted
    if (s == "true" || s == "false") return "!!bool";
    if (ParseInt64(s)) return "!!int";
    if (ParseGoFloat(s)) return "!!float";
    return "!!str";
  }

  void KindError(const YAML::Node& n, std::string_view go_type) {
    if (n.IsScalar()) {
      errors.push_back(fmt::format("line {}: cannot unmarshal {} `{}` into {}", Line(n), Tag(n),
                                   n.Scalar(), go_type));
    } else {
      errors.push_back(
          fmt::format("line {}: cannot unmarshal {} into {}", Line(n), Tag(n), go_type));
    }
  }

  // Calls f(key, value) for each field of a mapping, reporting unknown ones.
  template <typename F>
  void Fields(const YAML::Node& n, std::string_view type, std::initializer_list<std::string_view> known,
              F&& f) {
    if (!n || n.IsNull()) return;
    if (!n.IsMap()) {
      KindError(n, type);
      return;
    }
    for (const auto& kv : n) {
      std::string key = kv.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        errors.push_back(fmt::format("line {}: field {} not found in type {}", Line(kv.first), key,
                                     type));
        continue;
      }
      f(key, kv.second);
    }
  }

  std::string String(const YAML::Node& n) {
    if (!n || n.IsNull()) return "";
    if (!n.IsScalar()) {
      KindError(n, "string");
      return "";
    }
    return n.Scalar();
  }

  bool Bool(const YAML::Node& n) {
    if (!n || n.IsNull()) return false;
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) return n.Scalar() == "true";
    KindError(n, "bool");
    return false;
  }

  double Float(const YAML::Node& n) {
    if (!n || n.IsNull()) return 0;
    if (n.IsScalar() && n.Tag() != "!") {
      std::string s = ToLowerAscii(n.Scalar());
      if (s == ".inf" || s == "+.inf") return INFINITY;
      if (s == "-.inf") return -INFINITY;
      if (s == ".nan") return NAN;
      if (auto f = ParseGoFloat(n.Scalar())) return *f;
    }
    KindError(n, "float64");
    return 0;
  }

  // model.Duration: its own unmarshaler, whose error ends decoding.
  int64_t Duration(const YAML::Node& n) {
    if (!n || n.IsNull()) return 0;
    if (!n.IsScalar()) {
      KindError(n, "string");
      return 0;
    }
    auto d = ParseDuration(n.Scalar());
    if (!d.ok()) throw DecodeError(d.status().message());
    return *d;
  }

  std::vector<std::string> Strings(const YAML::Node& n) {
    std::vector<std::string> out;
    if (!n || n.IsNull()) return out;
    if (!n.IsSequence()) {
      KindError(n, "[]string");
      return out;
    }
    for (const auto& e : n) out.push_back(String(e));
    return out;
  }

  std::map<std::string, std::string> StringMap(const YAML::Node& n) {
    std::map<std::string, std::string> out;
    if (!n || n.IsNull()) return out;
    if (!n.IsMap()) {
      KindError(n, "map[string]string");
      return out;
    }
    for (const auto& kv : n) out[kv.first.Scalar()] = String(kv.second);
    return out;
  }

  template <typename T, typename F>
  std::vector<T> List(const YAML::Node& n, std::string_view type, F&& one) {
    std::vector<T> out;
    if (!n || n.IsNull()) return out;
    if (!n.IsSequence()) {
      KindError(n, type);
      return out;
    }
    for (const auto& e : n) out.push_back(one(e));
    return out;
  }
};

UnitTestFile DecodeFile(const YAML::Node& root, Decoder& d) {
  UnitTestFile f;
  d.Fields(root, "main.unitTestFile",
           {"rule_files", "evaluation_interval", "group_eval_order", "tests", "fuzzy_compare"},
           [&](const std::string& k, const YAML::Node& v) {
             if (k == "rule_files") f.rule_files = d.Strings(v);
             if (k == "evaluation_interval") f.evaluation_interval = d.Duration(v);
             if (k == "group_eval_order") f.group_eval_order = d.Strings(v);
             if (k == "fuzzy_compare") f.fuzzy_compare = d.Bool(v);
             if (k != "tests") return;
             f.tests = d.List<TestGroup>(v, "[]main.testGroup", [&](const YAML::Node& tn) {
               TestGroup tg;
               d.Fields(tn, "main.testGroup",
                        {"interval", "input_series", "alert_rule_test", "promql_expr_test",
                         "external_labels", "external_url", "name"},
                        [&](const std::string& tk, const YAML::Node& tv) {
                          if (tk == "interval") tg.interval = d.Duration(tv);
                          if (tk == "external_url") tg.external_url = d.String(tv);
                          if (tk == "name") tg.name = d.String(tv);
                          if (tk == "external_labels") {
                            auto m = d.StringMap(tv);
                            std::vector<std::pair<std::string, std::string>> pairs(m.begin(),
                                                                                   m.end());
                            tg.external_labels = Labels::FromPairs(
                                std::span<const std::pair<std::string, std::string>>(pairs));
                          }
                          if (tk == "input_series") {
                            tg.input_series = d.List<SeriesInput>(
                                tv, "[]main.series", [&](const YAML::Node& sn) {
                                  SeriesInput s;
                                  d.Fields(sn, "main.series", {"series", "values"},
                                           [&](const std::string& sk, const YAML::Node& sv) {
                                             if (sk == "series") s.series = d.String(sv);
                                             if (sk == "values") s.values = d.String(sv);
                                           });
                                  return s;
                                });
                          }
                          if (tk == "alert_rule_test") {
                            tg.alert_tests = d.List<AlertTest>(
                                tv, "[]main.alertTestCase", [&](const YAML::Node& an) {
                                  AlertTest a;
                                  d.Fields(an, "main.alertTestCase",
                                           {"eval_time", "alertname", "exp_alerts"},
                                           [&](const std::string& ak, const YAML::Node& av) {
                                             if (ak == "eval_time") a.eval_time = d.Duration(av);
                                             if (ak == "alertname") a.alertname = d.String(av);
                                             if (ak != "exp_alerts") return;
                                             a.exp_alerts = d.List<ExpAlert>(
                                                 av, "[]main.alert", [&](const YAML::Node& en) {
                                                   ExpAlert e;
                                                   d.Fields(en, "main.alert",
                                                            {"exp_labels", "exp_annotations"},
                                                            [&](const std::string& ek,
                                                                const YAML::Node& ev) {
                                                              if (ek == "exp_labels") {
                                                                e.labels = d.StringMap(ev);
                                                              } else {
                                                                e.annotations = d.StringMap(ev);
                                                              }
                                                            });
                                                   return e;
                                                 });
                                           });
                                  return a;
                                });
                          }
                          if (tk == "promql_expr_test") {
                            tg.promql_tests = d.List<PromqlTest>(
                                tv, "[]main.promqlTestCase", [&](const YAML::Node& pn) {
                                  PromqlTest p;
                                  d.Fields(pn, "main.promqlTestCase",
                                           {"expr", "eval_time", "exp_samples"},
                                           [&](const std::string& pk, const YAML::Node& pv) {
                                             if (pk == "expr") p.expr = d.String(pv);
                                             if (pk == "eval_time") p.eval_time = d.Duration(pv);
                                             if (pk != "exp_samples") return;
                                             p.exp_samples = d.List<ExpSample>(
                                                 pv, "[]main.sample", [&](const YAML::Node& xn) {
                                                   ExpSample x;
                                                   d.Fields(xn, "main.sample",
                                                            {"labels", "value", "histogram"},
                                                            [&](const std::string& xk,
                                                                const YAML::Node& xv) {
                                                              if (xk == "labels") {
                                                                x.labels = d.String(xv);
                                                              }
                                                              if (xk == "value") {
                                                                x.value = d.Float(xv);
                                                              }
                                                              if (xk == "histogram") {
                                                                x.histogram = d.String(xv);
                                                              }
                                                            });
                                                   return x;
                                                 });
                                           });
                                  return p;
                                });
                          }
                        });
               return tg;
             });
           });
  return f;
}

// ---- Formatting as Go prints ----

// time.Duration.String() for milliseconds: "0s", "1m0s", "1h0m0s", "1m30.5s", "500ms".
std::string GoDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string sign = ms < 0 ? "-" : "";
  uint64_t u = ms < 0 ? static_cast<uint64_t>(-ms) : static_cast<uint64_t>(ms);
  if (u < 1000) return fmt::format("{}{}ms", sign, u);
  uint64_t h = u / 3'600'000, m = (u / 60'000) % 60, s = (u / 1000) % 60, frac = u % 1000;
  std::string secs = fmt::format("{}", s);
  if (frac != 0) {
    std::string f = fmt::format("{:03}", frac);
    while (f.back() == '0') f.pop_back();
    secs += "." + f;
  }
  if (h > 0) return fmt::format("{}{}h{}m{}s", sign, h, m, secs);
  if (m > 0) return fmt::format("{}{}m{}s", sign, m, secs);
  return fmt::format("{}{}s", sign, secs);
}

// strconv.FormatFloat(v, 'E', -1, 64).
std::string FormatE(double v) {
  std::string s = FormatGoFloat(v, 'e');
  for (char& c : s) {
    if (c == 'e') c = 'E';
  }
  return s;
}

std::string PairsString(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out = "{";
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out += ", ";
    out += pairs[i].first + "=" + QuoteGo(pairs[i].second);
  }
  return out + "}";
}

std::vector<std::pair<std::string, std::string>> LabelPairs(const Labels& l) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& x : l) out.emplace_back(std::string(x.name), std::string(x.value));
  return out;
}

std::string IndentLines(const std::string& lines, const std::string& indent) {
  std::string out;
  size_t start = 0;
  bool first = true;
  while (true) {
    size_t nl = lines.find('\n', start);
    if (!first) out += indent;
    first = false;
    out += lines.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
  }
  return out;
}

struct LabelsAndAnnotations {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  friend bool operator==(const LabelsAndAnnotations&, const LabelsAndAnnotations&) = default;
  friend bool operator<(const LabelsAndAnnotations& a, const LabelsAndAnnotations& b) {
    if (a.labels != b.labels) return a.labels < b.labels;
    return a.annotations < b.annotations;
  }
  std::string String() const {
    return "Labels:" + PairsString(labels) + "\nAnnotations:" + PairsString(annotations);
  }
};

std::string AlertsString(const std::vector<LabelsAndAnnotations>& la) {
  if (la.empty()) return "[]";
  std::string s = "[\n0:" + IndentLines("\n" + la[0].String(), "  ");
  for (size_t i = 1; i < la.size(); ++i) {
    s += ",\n" + std::to_string(i) + ":" + IndentLines("\n" + la[i].String(), "  ");
  }
  return s + "\n]";
}

struct ParsedSample {
  Labels labels;
  double value = 0;
};

std::string SamplesString(const std::vector<ParsedSample>& ss) {
  if (ss.empty()) return "nil";
  std::string out;
  for (size_t i = 0; i < ss.size(); ++i) {
    if (i > 0) out += ", ";
    out += ss[i].labels.ToString() + " " + FormatE(ss[i].value);
  }
  return out;
}

bool FloatEqual(double a, double b, bool fuzzy) {
  if (a == b) return true;
  if (!fuzzy) return false;
  return std::nextafter(a, -INFINITY) == b || std::nextafter(a, INFINITY) == b;
}

// ---- Input series: `metric{labels} values` in promtool's expanding notation ----

struct LoadedSeries {
  Labels labels;
  std::vector<std::optional<double>> values;  // one per interval step; nullopt: omitted
};

Status SeriesError(size_t col, const std::string& msg) {
  return InvalidArgument("1:{}: parse error: {}", col, msg);
}

// Prometheus' error for a non-equality matcher in a series description or a metric:
// `1:7: parse error: unexpected <op:=~> in label set, expected "="`.
Status NonEqualityMatcherError(std::string_view text, const Matcher& m) {
  std::string_view op = MatchTypeString(m.type());
  size_t col = 1;
  size_t at = text.find(m.name());
  while (at != std::string_view::npos) {
    size_t p = at + m.name().size();
    while (p < text.size() && text[p] == ' ') ++p;
    if (text.substr(p, op.size()) == op) {
      col = p + 1;
      break;
    }
    at = text.find(m.name(), at + 1);
  }
  return InvalidArgument("1:{}: parse error: unexpected <op:{}> in label set, expected \"=\"",
                         col, op);
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// Parses one number token of a series description (no hex: "0x3" means 0 three more times).
std::optional<double> SeriesNumber(std::string_view s) {
  std::string lower = ToLowerAscii(s);
  std::string_view body = lower;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  if (body == "inf" || body == "nan") return ParseGoFloat(s);
  if (body.empty() || !(isdigit(static_cast<unsigned char>(body[0])) || body[0] == '.')) {
    return std::nullopt;
  }
  if (body.size() > 1 && body[0] == '0' && (body[1] == 'x')) return std::nullopt;
  return ParseGoFloat(s);
}

// One space-separated item: "_", "_xN", "stale", "v", "vxN", "v+dxN", "v-dxN".
Status ParseSeriesItem(std::string_view item, size_t col, LoadedSeries* out) {
  auto repeat_count = [&](std::string_view n, size_t at) -> Result<uint64_t> {
    auto v = ParseUint64(n);
    if (!v) {
      return SeriesError(at, fmt::format("unexpected {} in series values, expected number",
                                         QuoteGo(n)));
    }
    return *v;
  };
  if (item == "_") {
    out->values.push_back(std::nullopt);
    return Status::Ok();
  }
  if (item.size() > 2 && item.substr(0, 2) == "_x") {
    HEARTH_ASSIGN_OR_RETURN(uint64_t n, repeat_count(item.substr(2), col + 2));
    if (n > 1'000'000) return SeriesError(col, "too many values in series");
    for (uint64_t i = 0; i < n; ++i) out->values.push_back(std::nullopt);
    return Status::Ok();
  }
  if (item.find("{{") != std::string_view::npos) {
    return SeriesError(col, "native histograms in input_series are not supported by hearthctl");
  }
  // Split the first value, an optional signed increment and an optional "x<count>".
  size_t i = 0;
  if (i < item.size() && (item[i] == '+' || item[i] == '-')) ++i;
  size_t value_end;
  if (IsAlpha(item[i])) {
    while (i < item.size() && (IsAlpha(item[i]) || isdigit(static_cast<unsigned char>(item[i])))) {
      ++i;
    }
    value_end = i;
  } else {
    while (i < item.size() && item[i] != 'x' && item[i] != 'X' &&
           !((item[i] == '+' || item[i] == '-') && i > 0 && item[i - 1] != 'e' &&
             item[i - 1] != 'E')) {
      ++i;
    }
    value_end = i;
  }
  std::string_view first = item.substr(0, value_end);
  double v;
  if (first == "stale") {
    v = StaleNaN();
  } else if (auto n = SeriesNumber(first)) {
    v = *n;
  } else if (!first.empty() && IsAlpha(first[first[0] == '+' || first[0] == '-' ? 1 : 0])) {
    return SeriesError(col, fmt::format("unexpected identifier {} in series values, expected "
                                        "number or \"stale\"",
                                        QuoteGo(first)));
  } else {
    return SeriesError(col, fmt::format("bad number syntax: {}", QuoteGo(first)));
  }
  std::string_view rest = item.substr(value_end);
  if (rest.empty()) {
    out->values.push_back(v);
    return Status::Ok();
  }
  double inc = 0;
  if (rest[0] == '+' || rest[0] == '-') {
    size_t x = rest.find('x');
    if (x == std::string_view::npos) {
      return SeriesError(col + value_end,
                         fmt::format("unexpected {} in series values", QuoteGo(rest)));
    }
    auto n = SeriesNumber(rest.substr(0, x));
    if (!n) {
      return SeriesError(col + value_end,
                         fmt::format("bad number syntax: {}", QuoteGo(rest.substr(0, x))));
    }
    inc = *n;
    rest = rest.substr(x);
  }
  if (rest[0] != 'x') {
    return SeriesError(col + value_end, fmt::format("unexpected {} in series values", QuoteGo(rest)));
  }
  size_t at = col + (item.size() - rest.size()) + 1;
  HEARTH_ASSIGN_OR_RETURN(uint64_t count, repeat_count(rest.substr(1), at));
  if (count > 1'000'000) return SeriesError(col, "too many values in series");
  if (IsStaleNaN(v) && inc != 0) {
    return SeriesError(col, "stale values cannot be incremented");
  }
  for (uint64_t k = 0; k <= count; ++k) {
    out->values.push_back(v);
    v += inc;
  }
  return Status::Ok();
}

Result<LoadedSeries> ParseSeries(const SeriesInput& in) {
  LoadedSeries out;
  auto matchers = promql::ParseMetricSelector(in.series);
  if (!matchers.ok()) {
    // Prometheus parses input series with its series-description grammar, whose errors speak of
    // a label set rather than label matching.
    std::string msg = matchers.status().message();
    if (size_t at = msg.find("in label matching"); at != std::string::npos) {
      msg.replace(at, 17, "in label set");
    }
    return Status(StatusCode::kInvalidArgument, msg);
  }
  LabelsBuilder lb;
  for (const auto& m : *matchers) {
    if (m.type() != MatchType::kEqual) return NonEqualityMatcherError(in.series, m);
    lb.Set(m.name(), m.value());
  }
  out.labels = lb.Build();
  const size_t base = in.series.size() + 2;  // 1-based column of the values in "series values"
  std::string_view v = in.values;
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n')) ++i;
    if (i >= v.size()) break;
    size_t start = i;
    while (i < v.size() && v[i] != ' ' && v[i] != '\t' && v[i] != '\n') ++i;
    HEARTH_RETURN_IF_ERROR(ParseSeriesItem(v.substr(start, i - start), base + start, &out));
  }
  return out;
}

// ---- Running one file ----

std::string JoinPath(const std::string& dir, const std::string& file) {
  if (file.empty() || file[0] == '/' || dir.empty() || dir == ".") return file;
  return dir + "/" + file;
}

std::string DirName(const std::string& path) {
  size_t s = path.rfind('/');
  if (s == std::string::npos) return ".";
  if (s == 0) return "/";
  return path.substr(0, s);
}

std::vector<std::string> Glob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

Result<promql::Vector> InstantQuery(promql::Engine& engine, storage::Queryable& q,
                                    const std::string& expr, int64_t t) {
  HEARTH_ASSIGN_OR_RETURN(promql::QueryResult r, engine.Instant(q, expr, t));
  if (auto* v = std::get_if<promql::Vector>(&r.value)) return std::move(*v);
  if (auto* s = std::get_if<promql::Scalar>(&r.value)) {
    return promql::Vector{promql::VectorSample{Labels{}, s->t, s->v}};
  }
  return Status(StatusCode::kExecution, "rule result is not a vector or scalar");
}

class GroupRunner {
 public:
  GroupRunner(const UnitTestFile& file, const TestGroup& tg, const std::map<std::string, int>& order,
              std::FILE* err)
      : file_(file), tg_(tg), order_(order), err_(err) {}

  std::vector<std::string> Run() {
    std::vector<std::string> errs;
    const int64_t eval_interval = file_.evaluation_interval;
    const int64_t interval = tg_.interval > 0 ? tg_.interval : eval_interval;

    // Input series.
    storage::MemStore store;
    {
      auto app = store.NewAppender();
      for (const auto& in : tg_.input_series) {
        auto s = ParseSeries(in);
        if (!s.ok()) return {s.status().message()};
        for (size_t i = 0; i < s->values.size(); ++i) {
          if (!s->values[i]) continue;
          auto r = app->Append(0, s->labels, static_cast<int64_t>(i) * interval, *s->values[i]);
          if (!r.ok()) return {r.status().message()};
        }
      }
      Status st = app->Commit();
      if (!st.ok()) return {st.message()};
    }

    promql::EngineOptions eo;
    eo.default_subquery_step_ms = eval_interval;
    promql::Engine engine(eo);
    ManualClock clock(0);
    rules::ManagerOptions mo;
    mo.appendable = &store;
    mo.queryable = &store;
    mo.clock = &clock;
    mo.query = rules::EngineQueryFunc(engine, store);
    mo.parse_expr = rules::PromQLExprParser();
    mo.external_url = tg_.external_url;
    rules::Manager manager(std::move(mo));
    std::vector<std::string> load_errors;
    Status st = manager.Update(interval, file_.rule_files, tg_.external_labels, 0, &load_errors);
    if (!st.ok()) return load_errors.empty() ? std::vector<std::string>{st.message()} : load_errors;

    auto groups = manager.Groups();
    std::stable_sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) {
      auto pos = [&](const std::string& n) {
        auto it = order_.find(n);
        return it == order_.end() ? 0 : it->second;
      };
      return pos(a->name()) < pos(b->name());
    });
    for (const auto& g : groups) {
      for (const auto& r : g->rules()) {
        if (r->type() == rules::RuleType::kAlerting) {
          static_cast<rules::AlertingRule&>(*r).SetRestored(true);
        }
      }
    }

    int64_t maxt = 0;
    for (const auto& a : tg_.alert_tests) maxt = std::max(maxt, a.eval_time);
    for (const auto& p : tg_.promql_tests) maxt = std::max(maxt, p.eval_time);

    // Alert tests by evaluation time.
    std::map<int64_t, std::vector<const AlertTest*>> alert_tests;
    for (const auto& a : tg_.alert_tests) {
      if (a.alertname.empty()) {
        std::string in_group = tg_.name.empty() ? "" : " (in TestGroup " + tg_.name + ")";
        return {fmt::format("an item under alert_rule_test misses required attribute alertname "
                            "at eval_time {}{}",
                            FormatDuration(a.eval_time), in_group)};
      }
      alert_tests[a.eval_time].push_back(&a);
    }
    auto next_alert = alert_tests.begin();

    for (int64_t ts = 0; ts <= maxt; ts += eval_interval) {
      std::vector<std::string> eval_errs;
      for (const auto& g : groups) {
        g->Eval(ts);
        for (const auto& r : g->rules()) {
          if (r->health() == rules::RuleHealth::kBad) {
            eval_errs.push_back(fmt::format("    rule: {}, time: {}, err: {}", r->name(),
                                            GoDuration(ts), r->last_error()));
          }
        }
      }
      if (!eval_errs.empty()) {
        errs.insert(errs.end(), eval_errs.begin(), eval_errs.end());
        return errs;
      }
      while (next_alert != alert_tests.end() && ts <= next_alert->first &&
             next_alert->first < ts + eval_interval) {
        CheckAlerts(groups, next_alert->first, next_alert->second, &errs);
        ++next_alert;
      }
    }

    for (const auto& p : tg_.promql_tests) CheckPromql(engine, store, p, &errs);
    return errs;
  }

 private:
  void CheckAlerts(const std::vector<std::shared_ptr<rules::Group>>& groups, int64_t t,
                   const std::vector<const AlertTest*>& tests, std::vector<std::string>* errs) {
    std::set<std::string> wanted;
    for (const auto* a : tests) wanted.insert(a->alertname);
    std::map<std::string, std::vector<LabelsAndAnnotations>> got;
    for (const auto& g : groups) {
      for (const auto& r : g->rules()) {
        if (r->type() != rules::RuleType::kAlerting || wanted.count(r->name()) == 0) continue;
        for (const auto& a : static_cast<const rules::AlertingRule&>(*r).ActiveAlerts()) {
          if (a.state != rules::AlertState::kFiring) continue;
          got[r->name()].push_back({LabelPairs(a.labels), a.annotations});
        }
      }
    }
    for (const auto* tc : tests) {
      std::vector<LabelsAndAnnotations> g = got[tc->alertname];
      std::vector<LabelsAndAnnotations> exp;
      for (const auto& ea : tc->exp_alerts) {
        auto labels = ea.labels;
        labels["alertname"] = tc->alertname;
        exp.push_back({{labels.begin(), labels.end()},
                       {ea.annotations.begin(), ea.annotations.end()}});
      }
      std::sort(g.begin(), g.end());
      std::sort(exp.begin(), exp.end());
      if (exp == g) continue;
      std::string name = tg_.name.empty() ? "" : fmt::format("    name: {},\n", tg_.name);
      errs->push_back(fmt::format("{}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                                  name, tc->alertname, FormatDuration(t),
                                  IndentLines(AlertsString(exp), "            "),
                                  IndentLines(AlertsString(g), "            ")));
    }
    (void)t;
  }

  void CheckPromql(promql::Engine& engine, storage::MemStore& store, const PromqlTest& p,
                   std::vector<std::string>* errs) {
    const std::string when = FormatDuration(p.eval_time);
    auto got = InstantQuery(engine, store, p.expr, p.eval_time);
    if (!got.ok()) {
      errs->push_back(fmt::format("    expr: {}, time: {}, err: {}", QuoteGo(p.expr), when,
                                  got.status().message()));
      return;
    }
    std::vector<ParsedSample> got_samples;
    for (const auto& s : *got) got_samples.push_back({s.labels, s.v});
    std::vector<ParsedSample> exp_samples;
    for (const auto& s : p.exp_samples) {
      Status err;
      Labels labels;
      if (!s.histogram.empty()) {
        err = InvalidArgument("native histograms in exp_samples are not supported by hearthctl");
      } else {
        auto m = promql::ParseMetricSelector(s.labels);
        if (!m.ok()) {
          err = m.status();
        } else {
          LabelsBuilder lb;
          for (const auto& x : *m) {
            if (x.type() != MatchType::kEqual) {
              err = NonEqualityMatcherError(s.labels, x);
              break;
            }
            lb.Set(x.name(), x.value());
          }
          labels = lb.Build();
        }
      }
      if (!err.ok()) {
        errs->push_back(fmt::format("    expr: {}, time: {}, err: labels {}: {}", QuoteGo(p.expr),
                                    when, QuoteGo(s.labels), err.message()));
        return;
      }
      exp_samples.push_back({labels, s.value});
    }
    auto by_labels = [](const ParsedSample& a, const ParsedSample& b) { return a.labels < b.labels; };
    std::stable_sort(exp_samples.begin(), exp_samples.end(), by_labels);
    std::stable_sort(got_samples.begin(), got_samples.end(), by_labels);
    bool equal = exp_samples.size() == got_samples.size();
    for (size_t i = 0; equal && i < exp_samples.size(); ++i) {
      equal = exp_samples[i].labels == got_samples[i].labels &&
              FloatEqual(exp_samples[i].value, got_samples[i].value, file_.fuzzy_compare);
    }
    if (!equal) {
      errs->push_back(fmt::format("    expr: {}, time: {},\n        exp: {}\n        got: {}",
                                  QuoteGo(p.expr), when, SamplesString(exp_samples),
                                  SamplesString(got_samples)));
    }
  }

  const UnitTestFile& file_;
  const TestGroup& tg_;
  const std::map<std::string, int>& order_;
  std::FILE* err_;
};

std::vector<std::string> RunFile(const std::string& filename, const std::optional<RE2>& run,
                                 const TestRulesIo& io) {
  std::fprintf(io.out, "Unit Testing:  %s\n", filename.c_str());
  YAML::Node root;
  try {
    root = YAML::LoadFile(filename);
  } catch (const YAML::BadFile&) {
    return {fmt::format("open {}: no such file or directory", filename)};
  } catch (const YAML::Exception& e) {
    return {fmt::format("yaml: line {}: {}", e.mark.line + 1, e.msg)};
  }
  Decoder d;
  UnitTestFile file;
  try {
    file = DecodeFile(root, d);
  } catch (const DecodeError& e) {
    return {e.what()};
  } catch (const YAML::Exception& e) {
    return {fmt::format("yaml: line {}: {}", e.mark.line + 1, e.msg)};
  }
  if (!d.errors.empty()) {
    std::string msg = "yaml: unmarshal errors:";
    for (const auto& e : d.errors) msg += "\n  " + e;
    return {msg};
  }
  // Rule files: relative to the test file, globbed.
  const std::string base = DirName(filename);
  std::vector<std::string> files;
  for (const auto& rf : file.rule_files) {
    std::string pattern = JoinPath(base, rf);
    auto m = Glob(pattern);
    if (m.empty()) std::fprintf(io.err, "  WARNING: no file match pattern %s\n", pattern.c_str());
    files.insert(files.end(), m.begin(), m.end());
  }
  file.rule_files = files;
  if (file.evaluation_interval == 0) file.evaluation_interval = 60'000;

  std::map<std::string, int> order;
  for (size_t i = 0; i < file.group_eval_order.size(); ++i) {
    const auto& g = file.group_eval_order[i];
    if (order.count(g) != 0) return {"group name repeated in evaluation order: " + g};
    order[g] = static_cast<int>(i);
  }
  std::vector<std::string> errs;
  for (const auto& tg : file.tests) {
    if (run && !RE2::PartialMatch(tg.name, *run)) continue;
    GroupRunner runner(file, tg, order, io.err);
    auto e = runner.Run();
    errs.insert(errs.end(), e.begin(), e.end());
  }
  return errs;
}

const char* kUsage =
    "usage: hearthctl test rules [<flags>] <test-rule-file>...\n\n"
    "Unit tests for rules.\n\n"
    "Flags:\n"
    "  -h, --help          Show context-sensitive help.\n"
    "      --run=RUN ...   If set, will only run test groups whose names match the regular\n"
    "                      expression. Can be specified multiple times.\n\n"
    "Args:\n"
    "  <test-rule-file>  The unit test file.\n";

}  // namespace

int RunTestRules(const std::vector<std::string>& args, const TestRulesIo& io) {
  std::vector<std::string> files;
  std::vector<std::string> runs;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, io.out);
      return 0;
    }
    if (a.rfind("--run=", 0) == 0) {
      runs.push_back(a.substr(6));
    } else if (a == "--run" && i + 1 < args.size()) {
      runs.push_back(args[++i]);
    } else if (a.rfind("--enable-feature", 0) == 0) {
      if (a == "--enable-feature" && i + 1 < args.size()) ++i;  // accepted for compatibility
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(io.err, "hearthctl: error: unknown long flag '%s', try --help\n", a.c_str());
      return 1;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    std::fprintf(io.err,
                 "hearthctl: error: required argument 'test-rule-file' not provided, try --help\n");
    return 1;
  }
  for (const auto& f : files) {
    struct stat st {};
    if (stat(f.c_str(), &st) != 0) {
      std::fprintf(io.err, "hearthctl: error: path '%s' does not exist, try --help\n", f.c_str());
      return 1;
    }
  }
  std::optional<RE2> run;
  if (!runs.empty()) {
    std::string joined;
    for (const auto& r : runs) joined += (joined.empty() ? "" : "|") + r;
    run.emplace(joined);
    if (!run->ok()) {
      std::fprintf(io.err, "hearthctl: error: invalid --run regexp: %s\n", run->error().c_str());
      return 1;
    }
  }
  bool failed = false;
  for (const auto& f : files) {
    auto errs = RunFile(f, run, io);
    if (!errs.empty()) {
      std::fputs("  FAILED:\n", io.err);
      for (const auto& e : errs) {
        std::fputs(e.c_str(), io.err);
        std::fputs("\n", io.err);
        std::fputs("\n", io.out);
      }
      failed = true;
    } else {
      std::fputs("  SUCCESS\n", io.out);
    }
    std::fputs("\n", io.out);
    std::fflush(io.out);
    std::fflush(io.err);
  }
  return failed ? 1 : 0;
}

}  // namespace hearth::ctl
