// The API's plumbing (envelope, errors, CORS, routes) and the query endpoints.

#include "web/api.h"

#include <fmt/format.h>

#include "model/duration.h"
#include "query/parser/parser.h"
#include "web/internal/api_impl.h"

namespace hearth::web {
namespace {

constexpr std::string_view kSuccessOpening = R"({"status":"success","data":)";
// Prometheus caps annotations at ten of each kind (annotations.AsStrings).
constexpr size_t kMaxAnnotations = 10;

// Appends `,"<key>":[...]` unless the list is empty.
void AppendAnnotations(std::string* out, std::string_view key,
                       const std::vector<std::string>& list, std::string_view kind) {
  if (list.empty()) return;
  out->push_back(',');
  AppendJsonString(out, key);
  out->push_back(':');
  JsonWriter w(out);
  w.BeginArray();
  size_t n = std::min(list.size(), kMaxAnnotations);
  for (size_t i = 0; i < n; ++i) w.String(list[i]);
  if (list.size() > n) {
    w.String(fmt::format("{} more {} annotations omitted", list.size() - n, kind));
  }
  w.EndArray();
}

void PlainText(HttpResponse& resp, int status, std::string body) {
  resp.status = status;
  resp.SetHeader("Content-Type", "text/plain; charset=utf-8");
  resp.body = std::move(body);
}

}  // namespace

std::string_view ErrorTypeName(ErrorType t) {
  switch (t) {
    case ErrorType::kNone: return "";
    case ErrorType::kTimeout: return "timeout";
    case ErrorType::kCanceled: return "canceled";
    case ErrorType::kExecution: return "execution";
    case ErrorType::kBadData: return "bad_data";
    case ErrorType::kInternal: return "internal";
    case ErrorType::kUnavailable: return "unavailable";
    case ErrorType::kNotFound: return "not_found";
    case ErrorType::kNotAcceptable: return "not_acceptable";
  }
  return "";
}

int ErrorTypeHttpStatus(ErrorType t) {
  switch (t) {
    case ErrorType::kBadData: return 400;
    case ErrorType::kExecution: return 422;
    case ErrorType::kCanceled: return 499;
    case ErrorType::kTimeout: return 503;
    case ErrorType::kNotFound: return 404;
    case ErrorType::kNotAcceptable: return 406;
    default: return 500;
  }
}

ApiResponse::ApiResponse() : body_(kSuccessOpening) {}

JsonWriter ApiResponse::Data() {
  has_data_ = true;
  return JsonWriter(&body_);
}

void ApiResponse::Fail(ErrorType type, std::string message) {
  error_ = type;
  error_message_ = std::move(message);
}

void ApiResponse::InvalidParam(std::string_view name, const Status& st) {
  Fail(ErrorType::kBadData, fmt::format("invalid parameter \"{}\": {}", name, st.message()));
}

void ApiResponse::Finish(HttpResponse& out) {
  if (failed()) {
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    w.Member("status", "error");
    w.Member("errorType", ErrorTypeName(error_));
    w.Member("error", error_message_);
    w.EndObject();
    out.status = ErrorTypeHttpStatus(error_);
    out.SetHeader("Content-Type", "application/json");
    out.body = std::move(body);
    return;
  }
  if (!has_data_) {
    out.status = 204;
    out.body.clear();
    return;
  }
  // The data value is complete: the annotations follow, then the envelope closes.
  AppendAnnotations(&body_, "warnings", warnings_, "warning");
  AppendAnnotations(&body_, "infos", infos_, "info");
  body_.push_back('}');
  out.status = 200;
  out.SetHeader("Content-Type", "application/json");
  out.body = std::move(body_);
}

Result<std::vector<Matchers>> ParseMatchers(const std::vector<std::string_view>& selectors) {
  std::vector<Matchers> sets;
  sets.reserve(selectors.size());
  for (std::string_view s : selectors) {
    HEARTH_ASSIGN_OR_RETURN(auto ms, promql::ParseMetricSelector(s));
    sets.push_back(std::move(ms));
  }
  for (const Matchers& ms : sets) {
    bool any_non_empty = false;
    for (const Matcher& m : ms) any_non_empty = any_non_empty || !m.MatchesEmpty();
    if (!any_non_empty) {
      return InvalidArgument("match[] must contain at least one non-empty matcher");
    }
  }
  return sets;
}

ApiImpl::ApiImpl(ApiOptions options, storage::Storage& storage, QueryEngine& engine,
                 ApiSources sources, const Clock& clock, Logger logger, Matcher cors)
    : options_(std::move(options)),
      storage_(storage),
      engine_(engine),
      sources_(std::move(sources)),
      clock_(clock),
      logger_(std::move(logger)),
      cors_(std::move(cors)),
      cors_any_(options_.cors_origin == ".*") {}

void ApiImpl::SetCors(const HttpRequest& req, HttpResponse& resp) const {
  std::string_view origin = req.Header("Origin");
  if (origin.empty()) return;
  resp.SetHeader("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, Origin");
  resp.SetHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  resp.SetHeader("Access-Control-Expose-Headers", "Date");
  resp.SetHeader("Vary", "Origin");
  if (cors_any_) {
    resp.SetHeader("Access-Control-Allow-Origin", "*");
  } else if (cors_.Matches(origin)) {
    resp.SetHeader("Access-Control-Allow-Origin", origin);
  }
}

HttpHandler ApiImpl::Wrap(Handler h) {
  return [this, h](const HttpRequest& req, HttpResponse& out) {
    if (web_ != nullptr && !web_->ready()) {
      PlainText(out, 503, "Service Unavailable");
      return;
    }
    SetCors(req, out);
    if (req.method == "OPTIONS") {
      out.status = 204;
      return;
    }
    ApiResponse resp;
    auto form = Form::Parse(req);
    if (!form.ok()) {
      resp.Fail(ErrorType::kBadData, "error parsing form values: " + form.status().message());
    } else {
      (this->*h)(req, *form, resp);
    }
    resp.Finish(out);
  };
}

bool ApiImpl::CheckAdmin(ApiResponse& resp) const {
  if (options_.enable_admin_api) return true;
  resp.Fail(ErrorType::kUnavailable, "admin APIs disabled");
  return false;
}

void ApiImpl::FailQuery(ApiResponse& resp, const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      resp.InvalidParam("query", st);
      return;
    case StatusCode::kDeadlineExceeded:
      resp.Fail(ErrorType::kTimeout, st.message());
      return;
    case StatusCode::kCancelled:
      resp.Fail(ErrorType::kCanceled, st.message());
      return;
    case StatusCode::kIOError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      resp.Fail(ErrorType::kInternal, st.message());
      return;
    case StatusCode::kUnavailable:
      resp.Fail(ErrorType::kUnavailable, st.message());
      return;
    default:
      resp.Fail(ErrorType::kExecution, st.message());
      return;
  }
}

namespace {

// Options shared by instant and range queries. Returns false after failing `resp`.
bool QueryOptionsFromForm(const Form& form, ApiResponse& resp, promql::QueryOptions* opts,
                          int64_t* limit) {
  if (std::string_view to = form.Value("timeout"); !to.empty()) {
    auto d = ParseDurationParam(to);
    if (!d.ok()) {
      resp.InvalidParam("timeout", d.status());
      return false;
    }
    // 0 means "the engine's default" to the engine; a zero timeout expires at once.
    opts->timeout_ms = std::max<int64_t>(*d, 1);
  }
  auto l = ParseLimitParam(form.Value("limit"));
  if (!l.ok()) {
    resp.InvalidParam("limit", l.status());
    return false;
  }
  *limit = *l;
  if (std::string_view lb = form.Value("lookback_delta"); !lb.empty()) {
    auto d = ParseDurationParam(lb);
    if (!d.ok()) {
      resp.Fail(ErrorType::kBadData,
                "error parsing lookback delta duration: " + d.status().message());
      return false;
    }
    opts->lookback_delta_ms = *d;
  }
  opts->per_step_stats = form.Value("stats") == "all";
  return true;
}

// Prometheus 3.x truncateResults: vectors and matrices keep their first `limit` series.
bool Truncate(promql::Value& v, int64_t limit) {
  auto n = static_cast<size_t>(limit);
  if (auto* vec = std::get_if<promql::Vector>(&v); vec && vec->size() > n) {
    vec->resize(n);
    return true;
  }
  if (auto* m = std::get_if<promql::Matrix>(&v); m && m->size() > n) {
    m->resize(n);
    return true;
  }
  return false;
}

void WriteQueryData(ApiResponse& resp, const Form& form, promql::QueryResult& res,
                    int64_t limit, bool per_step) {
  if (limit > 0 && Truncate(res.value, limit)) {
    res.annotations.warnings.push_back("results truncated due to limit");
  }
  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Member("resultType", ResultTypeName(res.value));
  w.Key("result");
  WriteResult(w, res.value);
  if (!form.Value("stats").empty()) {
    w.Key("stats");
    WriteQueryStats(w, res.stats, per_step);
  }
  w.EndObject();
  for (auto& s : res.annotations.warnings) resp.Warn(std::move(s));
  for (auto& s : res.annotations.infos) resp.Info(std::move(s));
}

}  // namespace

void ApiImpl::Query(const HttpRequest& req, const Form& form, ApiResponse& resp) {
  auto t = ParseTimeParam(form, "time", clock_.NowMs());
  if (!t.ok()) return resp.InvalidParam("time", t.status());
  promql::QueryOptions opts;
  opts.cancel = req.client_gone;  // a client that hangs up cancels its query
  int64_t limit = 0;
  if (!QueryOptionsFromForm(form, resp, &opts, &limit)) return;
  auto res = engine_.Instant(storage_, form.Value("query"), *t, opts);
  if (!res.ok()) return FailQuery(resp, res.status());
  WriteQueryData(resp, form, *res, limit, opts.per_step_stats);
}

void ApiImpl::QueryRange(const HttpRequest& req, const Form& form, ApiResponse& resp) {
  auto limit_param = ParseLimitParam(form.Value("limit"));
  if (!limit_param.ok()) return resp.InvalidParam("limit", limit_param.status());
  auto start = ParseTime(form.Value("start"));
  if (!start.ok()) return resp.InvalidParam("start", start.status());
  auto end = ParseTime(form.Value("end"));
  if (!end.ok()) return resp.InvalidParam("end", end.status());
  if (*end < *start) {
    return resp.InvalidParam("end", InvalidArgument("end timestamp must not be before start time"));
  }
  auto step = ParseDurationParam(form.Value("step"));
  if (!step.ok()) return resp.InvalidParam("step", step.status());
  if (*step <= 0) {
    return resp.InvalidParam(
        "step", InvalidArgument("zero or negative query resolution step widths are not "
                                "accepted. Try a positive integer"));
  }
  // For safety, at most 11000 points per series (Prometheus' limit). The difference may not
  // fit an int64 (open ranges); it does fit a uint64 since end >= start.
  uint64_t span = static_cast<uint64_t>(*end) - static_cast<uint64_t>(*start);
  if (span / static_cast<uint64_t>(*step) > 11000) {
    return resp.Fail(ErrorType::kBadData,
                     "exceeded maximum resolution of 11,000 points per timeseries. Try "
                     "decreasing the query resolution (?step=XX)");
  }
  promql::QueryOptions opts;
  opts.cancel = req.client_gone;
  int64_t limit = 0;
  if (!QueryOptionsFromForm(form, resp, &opts, &limit)) return;
  auto res = engine_.Range(storage_, form.Value("query"), *start, *end, *step, opts);
  if (!res.ok()) return FailQuery(resp, res.status());
  WriteQueryData(resp, form, *res, limit, opts.per_step_stats);
}

void ApiImpl::Register(WebServer& web) {
  web_ = &web;
  Router& r = web.router();
  const std::vector<std::string> kGetPost = {"GET", "POST", "OPTIONS"};
  const std::vector<std::string> kGet = {"GET", "OPTIONS"};
  const std::vector<std::string> kPostPut = {"POST", "PUT", "OPTIONS"};
  auto api = [&](const std::string& path, const std::vector<std::string>& methods, Handler h) {
    r.Handle("/api/v1" + path, methods, Wrap(h), "/api/v1" + path);
  };
  api("/query", kGetPost, &ApiImpl::Query);
  api("/query_range", kGetPost, &ApiImpl::QueryRange);
  api("/query_exemplars", kGetPost, &ApiImpl::QueryExemplars);
  api("/format_query", kGetPost, &ApiImpl::FormatQuery);
  api("/parse_query", kGetPost, &ApiImpl::ParseQuery);
  api("/labels", kGetPost, &ApiImpl::LabelNames);
  api("/series", {"GET", "POST", "DELETE", "OPTIONS"}, &ApiImpl::Series);
  api("/targets", kGet, &ApiImpl::Targets);
  api("/targets/metadata", kGet, &ApiImpl::TargetsMetadata);
  api("/scrape_pools", kGet, &ApiImpl::ScrapePools);
  api("/notifications", kGet, &ApiImpl::Notifications);
  api("/alertmanagers", kGet, &ApiImpl::Alertmanagers);
  api("/metadata", kGet, &ApiImpl::Metadata);
  api("/status/config", kGet, &ApiImpl::StatusConfig);
  api("/status/runtimeinfo", kGet, &ApiImpl::StatusRuntimeInfo);
  api("/status/buildinfo", kGet, &ApiImpl::StatusBuildInfo);
  api("/status/flags", kGet, &ApiImpl::StatusFlags);
  api("/status/tsdb", kGet, &ApiImpl::StatusTsdb);
  api("/status/walreplay", kGet, &ApiImpl::StatusWalReplay);
  api("/alerts", kGet, &ApiImpl::Alerts);
  api("/rules", kGet, &ApiImpl::Rules);
  api("/admin/tsdb/delete_series", kPostPut, &ApiImpl::AdminDeleteSeries);
  api("/admin/tsdb/clean_tombstones", kPostPut, &ApiImpl::AdminCleanTombstones);
  api("/admin/tsdb/snapshot", kPostPut, &ApiImpl::AdminSnapshot);

  // Live import: the body is streamed, never held whole.
  r.HandleStreaming("/api/v1/import/openmetrics", {"POST", "PUT", "OPTIONS"},
                    Wrap(&ApiImpl::ImportOpenMetrics), "/api/v1/import/openmetrics");

  // /api/v1/label/<name>/values: GET only (POST gets 405, which Grafana's client takes as
  // "retry with GET").
  auto label_values = Wrap(&ApiImpl::LabelValues);
  r.HandlePrefix(
      "/api/v1/label/", {},
      [label_values](const HttpRequest& req, HttpResponse& out) {
        constexpr std::string_view kPrefix = "/api/v1/label/", kSuffix = "/values";
        std::string_view p = req.path;
        std::string_view name = p.substr(kPrefix.size());
        if (name.size() <= kSuffix.size() ||
            name.substr(name.size() - kSuffix.size()) != kSuffix ||
            name.substr(0, name.size() - kSuffix.size()).find('/') != std::string_view::npos) {
          PlainText(out, 404, "404 page not found\n");
          return;
        }
        if (req.method != "GET" && req.method != "OPTIONS") {
          out.SetHeader("Allow", "GET, OPTIONS");
          PlainText(out, 405, "Method Not Allowed\n");
          return;
        }
        label_values(req, out);
      },
      "/api/v1/label/:name/values");
  // OPTIONS on any other /api/v1 path answers 204 with CORS headers; other methods 404.
  r.HandlePrefix(
      "/api/v1/", {},
      [this](const HttpRequest& req, HttpResponse& out) {
        if (req.method != "OPTIONS") {
          PlainText(out, 404, "404 page not found\n");
          return;
        }
        if (web_ != nullptr && !web_->ready()) {
          PlainText(out, 503, "Service Unavailable");
          return;
        }
        SetCors(req, out);
        out.status = 204;
      },
      "/api/v1/*path");
  r.Handle("/federate", {"GET"},
           [this](const HttpRequest& req, HttpResponse& out) { Federate(req, out); });
}

Result<std::unique_ptr<Api>> Api::Make(ApiOptions options, storage::Storage& storage,
                                       QueryEngine& engine, ApiSources sources,
                                       const Clock& clock, Logger logger) {
  auto cors = Matcher::Make(MatchType::kRegexMatch, "origin", options.cors_origin);
  if (!cors.ok()) {
    return InvalidArgument("invalid --web.cors.origin {}: {}", options.cors_origin,
                           cors.status().message());
  }
  auto impl = std::make_unique<ApiImpl>(std::move(options), storage, engine, std::move(sources),
                                        clock, std::move(logger), std::move(cors).value());
  return std::unique_ptr<Api>(new Api(std::move(impl)));
}

Api::Api(std::unique_ptr<ApiImpl> impl) : impl_(std::move(impl)) {}
Api::~Api() = default;

void Api::Register(WebServer& web) { impl_->Register(web); }

}  // namespace hearth::web
