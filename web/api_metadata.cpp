// Series, label names and values, metric metadata, exemplars and the query-text endpoints.

#include <algorithm>

#include "model/strutil.h"
#include "query/parser/parser.h"
#include "web/internal/api_impl.h"

namespace hearth::web {
namespace {

constexpr std::string_view kTruncated = "results truncated due to limit";

// The hint limit is one more than asked, so that truncation can be detected (toHintLimit).
size_t HintLimit(int64_t limit) { return limit > 0 ? static_cast<size_t>(limit) + 1 : 0; }

struct TimeRange {
  int64_t start;
  int64_t end;
};

// start/end of the metadata endpoints (open when absent). Returns false after failing `resp`.
bool ParseRange(const Form& form, ApiResponse& resp, TimeRange* r) {
  auto start = ParseTimeParam(form, "start", kApiMinTime);
  if (!start.ok()) {
    resp.InvalidParam("start", start.status());
    return false;
  }
  auto end = ParseTimeParam(form, "end", kApiMaxTime);
  if (!end.ok()) {
    resp.InvalidParam("end", end.status());
    return false;
  }
  *r = {*start, *end};
  return true;
}

void WriteStrings(JsonWriter w, const std::vector<std::string>& list) {
  w.BeginArray();
  for (const auto& s : list) w.String(s);
  w.EndArray();
}

// Sorted union of several sorted lists.
std::vector<std::string> Union(std::vector<std::vector<std::string>> lists) {
  std::vector<std::string> out;
  for (auto& l : lists) {
    for (auto& s : l) out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

void ApiImpl::QueryExemplars(const HttpRequest&, const Form& form, ApiResponse& resp) {
  auto start = ParseTimeParam(form, "start", kApiMinTime);
  if (!start.ok()) return resp.InvalidParam("start", start.status());
  auto end = ParseTimeParam(form, "end", kApiMaxTime);
  if (!end.ok()) return resp.InvalidParam("end", end.status());
  if (*end < *start) {
    return resp.Fail(ErrorType::kBadData, "end timestamp must not be before start timestamp");
  }
  auto expr = promql::ParseExpr(form.Value("query"));
  if (!expr.ok()) return resp.Fail(ErrorType::kBadData, expr.status().message());
  bool has_selector = false;
  promql::Walk(**expr, [&](const promql::Expr& e) {
    has_selector = has_selector || e.kind == promql::NodeKind::kVectorSelector;
  });
  // Prometheus answers 204 when the query selects nothing.
  if (!has_selector) return;
  // Hearth stores no exemplars yet: an empty list, as Prometheus with exemplar storage off.
  JsonWriter w = resp.Data();
  w.BeginArray();
  w.EndArray();
}

void ApiImpl::FormatQuery(const HttpRequest&, const Form& form, ApiResponse& resp) {
  auto expr = promql::ParseExpr(form.Value("query"));
  if (!expr.ok()) return resp.InvalidParam("query", expr.status());
  resp.Data().String(promql::Prettify(**expr));
}

void ApiImpl::ParseQuery(const HttpRequest&, const Form& form, ApiResponse& resp) {
  auto expr = promql::ParseExpr(form.Value("query"));
  if (!expr.ok()) return resp.InvalidParam("query", expr.status());
  JsonWriter w = resp.Data();
  WriteAstJson(w, **expr);
}

void ApiImpl::Series(const HttpRequest& req, const Form& form, ApiResponse& resp) {
  if (req.method == "DELETE") return DropSeries(req, form, resp);
  std::vector<std::string_view> selectors = form.Values("match[]");
  if (selectors.empty()) return resp.Fail(ErrorType::kBadData, "no match[] parameter provided");
  auto limit = ParseLimitParam(form.Value("limit"));
  if (!limit.ok()) return resp.InvalidParam("limit", limit.status());
  TimeRange range;
  if (!ParseRange(form, resp, &range)) return;
  auto sets = ParseMatchers(selectors);
  if (!sets.ok()) return resp.InvalidParam("match[]", sets.status());

  auto querier = storage_.NewQuerier(range.start, range.end);
  if (!querier.ok()) return FailQuery(resp, querier.status());
  storage::SelectHints hints;
  hints.start = range.start;
  hints.end = range.end;
  hints.func = "series";  // labels only: the storage need not decode samples
  hints.limit = HintLimit(*limit);

  std::vector<Labels> series;
  std::vector<std::string> warnings;
  for (const Matchers& ms : *sets) {
    // Sorted even for one selector (Prometheus' storage happens to return series sorted; clients
    // and `limit` truncation count on a stable order).
    auto set = (*querier)->Select(true, hints, ms);
    while (set->Next()) series.push_back(set->At().labels());
    if (Status st = set->status(); !st.ok()) return FailQuery(resp, st);
    for (auto& w : set->Warnings()) warnings.push_back(std::move(w));
  }
  if (sets->size() > 1) {
    std::sort(series.begin(), series.end());
    series.erase(std::unique(series.begin(), series.end()), series.end());
  }
  if (*limit > 0 && series.size() > static_cast<size_t>(*limit)) {
    series.resize(static_cast<size_t>(*limit));
    warnings.emplace_back(kTruncated);
  }
  JsonWriter w = resp.Data();
  w.BeginArray();
  for (const Labels& l : series) w.LabelSet(l);
  w.EndArray();
  for (auto& s : warnings) resp.Warn(std::move(s));
}

// DELETE /api/v1/series: Prometheus answers exactly this (deletion is the admin API's
// delete_series); clients that probe it see the same error.
void ApiImpl::DropSeries(const HttpRequest&, const Form&, ApiResponse& resp) {
  resp.Fail(ErrorType::kInternal, "not implemented");
}

void ApiImpl::AnswerLabelStrings(const Form& form, ApiResponse& resp, const LabelFetch& fetch) {
  auto limit = ParseLimitParam(form.Value("limit"));
  if (!limit.ok()) return resp.InvalidParam("limit", limit.status());
  TimeRange range;
  if (!ParseRange(form, resp, &range)) return;
  auto sets = ParseMatchers(form.Values("match[]"));
  if (!sets.ok()) return resp.InvalidParam("match[]", sets.status());
  auto querier = storage_.NewQuerier(range.start, range.end);
  if (!querier.ok()) return FailQuery(resp, querier.status());
  storage::LabelHints hints{HintLimit(*limit)};
  std::vector<std::vector<std::string>> lists;
  if (sets->empty()) sets->emplace_back();
  for (const Matchers& ms : *sets) {
    auto strings = fetch(**querier, hints, ms);
    if (!strings.ok()) return resp.Fail(ErrorType::kExecution, strings.status().message());
    lists.push_back(std::move(strings).value());
  }
  std::vector<std::string> out = lists.size() == 1 ? std::move(lists[0]) : Union(std::move(lists));
  if (*limit > 0 && out.size() > static_cast<size_t>(*limit)) {
    out.resize(static_cast<size_t>(*limit));
    resp.Warn(std::string(kTruncated));
  }
  WriteStrings(resp.Data(), out);
}

void ApiImpl::LabelNames(const HttpRequest&, const Form& form, ApiResponse& resp) {
  AnswerLabelStrings(form, resp, [](storage::Querier& q, const storage::LabelHints& hints,
                                    const Matchers& ms) { return q.LabelNames(hints, ms); });
}

void ApiImpl::LabelValues(const HttpRequest& req, const Form& form, ApiResponse& resp) {
  // The route guarantees "/api/v1/label/<name>/values".
  std::string_view p = req.path;
  p.remove_prefix(std::string_view("/api/v1/label/").size());
  p.remove_suffix(std::string_view("/values").size());
  std::string name = UnescapeLabelName(p);
  if (name.empty() || !IsValidUtf8(name)) {
    return resp.Fail(ErrorType::kBadData, "invalid label name: " + QuoteGo(name));
  }
  AnswerLabelStrings(form, resp, [&name](storage::Querier& q, const storage::LabelHints& hints,
                                         const Matchers& ms) {
    return q.LabelValues(name, hints, ms);
  });
}

void ApiImpl::Metadata(const HttpRequest&, const Form& form, ApiResponse& resp) {
  int64_t limit = -1;
  if (std::string_view s = form.Value("limit"); !s.empty()) {
    auto v = ParseGoInt(s);
    if (!v.ok()) return resp.Fail(ErrorType::kBadData, "limit must be a number");
    limit = *v;
  }
  int64_t limit_per_metric = -1;
  if (std::string_view s = form.Value("limit_per_metric"); !s.empty()) {
    auto v = ParseGoInt(s);
    if (!v.ok()) return resp.Fail(ErrorType::kBadData, "limit_per_metric must be a number");
    limit_per_metric = *v;
  }
  // One metadata entry per metric name is stored, so limit_per_metric only matters at 0.
  auto entries = storage_.Metadata(form.Value("metric"), limit > 0 ? static_cast<size_t>(limit) : 0);
  JsonWriter w = resp.Data();
  w.BeginObject();
  int64_t n = 0;
  for (const auto& [metric, md] : entries) {
    if (limit >= 0 && n >= limit) break;
    ++n;
    w.Key(metric);
    w.BeginArray();
    if (limit_per_metric != 0) {
      w.BeginObject();
      w.Member("type", MetricTypeName(md.type));
      w.Member("help", md.help);
      w.Member("unit", md.unit);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace hearth::web
