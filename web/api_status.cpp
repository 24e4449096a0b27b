// Targets, rules, alerts, Alertmanagers and the /status endpoints.

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "model/duration.h"
#include "model/format.h"
#include "model/strutil.h"
#include "query/parser/parser.h"
#include "web/internal/api_impl.h"

namespace hearth::web {
namespace {

// Go's zero time.Time, which Prometheus writes for "never".
constexpr std::string_view kZeroTime = "0001-01-01T00:00:00Z";

void WriteTime(JsonWriter& w, std::optional<int64_t> ms) {
  if (ms) {
    w.String(FormatRFC3339Nano(*ms));
  } else {
    w.String(kZeroTime);
  }
}

std::string_view HealthName(TargetHealth h) {
  switch (h) {
    case TargetHealth::kUp: return "up";
    case TargetHealth::kDown: return "down";
    default: return "unknown";
  }
}

std::string_view RuleHealthName(RuleHealth h) {
  switch (h) {
    case RuleHealth::kOk: return "ok";
    case RuleHealth::kErr: return "err";
    default: return "unknown";
  }
}

void WriteAlert(JsonWriter& w, const ActiveAlert& a) {
  w.BeginObject();
  w.Key("labels");
  w.LabelSet(a.labels);
  w.Key("annotations");
  w.LabelSet(a.annotations);
  w.Member("state", a.state);
  if (a.active_at_ms) {
    w.Key("activeAt");
    WriteTime(w, a.active_at_ms);
  }
  if (a.keep_firing_since_ms) {
    w.Key("keepFiringSince");
    WriteTime(w, a.keep_firing_since_ms);
  }
  // Alert values use Go's 'e' format: "1e+00".
  w.Member("value", FormatGoFloat(a.value, 'e'));
  w.EndObject();
}

// Number of threads of this process (Prometheus reports goroutines).
int64_t ThreadCount() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      if (auto v = ParseInt64(TrimSpace(std::string_view(line).substr(8)))) return *v;
    }
  }
  return 0;
}

}  // namespace

void ApiImpl::Targets(const HttpRequest&, const Form& form, ApiResponse& resp) {
  std::string state = ToLowerAscii(form.Value("state"));
  bool show_active = state.empty() || state == "any" || state == "active";
  bool show_dropped = state.empty() || state == "any" || state == "dropped";
  std::string_view pool = form.Value("scrapePool");

  std::vector<ActiveTarget> active;
  std::vector<DroppedTarget> dropped;
  std::map<std::string, size_t> dropped_counts;
  if (sources_.targets != nullptr) {
    if (show_active) active = sources_.targets->ActiveTargets();
    if (show_dropped) {
      dropped = sources_.targets->DroppedTargets();
      dropped_counts = sources_.targets->DroppedTargetCounts();
    }
  }
  // Pools in name order, targets in their given order within a pool.
  auto by_pool = [](const auto& a, const auto& b) { return a.scrape_pool < b.scrape_pool; };
  std::stable_sort(active.begin(), active.end(), by_pool);
  std::stable_sort(dropped.begin(), dropped.end(), by_pool);

  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Key("activeTargets");
  w.BeginArray();
  for (const ActiveTarget& t : active) {
    if (!pool.empty() && t.scrape_pool != pool) continue;
    w.BeginObject();
    w.Key("discoveredLabels");
    w.LabelSet(t.discovered_labels);
    w.Key("labels");
    w.LabelSet(t.labels);
    w.Member("scrapePool", t.scrape_pool);
    w.Member("scrapeUrl", t.scrape_url);
    w.Member("globalUrl", t.global_url);
    w.Member("lastError", t.last_error);
    w.Key("lastScrape");
    WriteTime(w, t.last_scrape_ms);
    w.Key("lastScrapeDuration");
    w.Number(t.last_scrape_duration_s);
    w.Member("health", HealthName(t.health));
    w.Member("scrapeInterval", FormatDuration(t.scrape_interval_ms));
    w.Member("scrapeTimeout", FormatDuration(t.scrape_timeout_ms));
    w.EndObject();
  }
  w.EndArray();
  w.Key("droppedTargets");
  w.BeginArray();
  for (const DroppedTarget& t : dropped) {
    if (!pool.empty() && t.scrape_pool != pool) continue;
    w.BeginObject();
    w.Key("discoveredLabels");
    w.LabelSet(t.discovered_labels);
    w.Member("scrapePool", t.scrape_pool);
    w.EndObject();
  }
  w.EndArray();
  w.Key("droppedTargetCounts");
  if (show_dropped) {
    w.BeginObject();
    for (const auto& [p, n] : dropped_counts) {
      if (!pool.empty() && p != pool) continue;
      w.Key(p);
      w.Uint(n);
    }
    w.EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
}

std::vector<std::string> TargetRetriever::ScrapePools() {
  std::set<std::string> pools;
  for (const auto& t : ActiveTargets()) pools.insert(t.scrape_pool);
  for (const auto& t : DroppedTargets()) pools.insert(t.scrape_pool);
  return {pools.begin(), pools.end()};
}

void ApiImpl::ScrapePools(const HttpRequest&, const Form&, ApiResponse& resp) {
  std::vector<std::string> pools;
  if (sources_.targets != nullptr) pools = sources_.targets->ScrapePools();
  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Key("scrapePools");
  w.BeginArray();
  for (const auto& p : pools) w.String(p);
  w.EndArray();
  w.EndObject();
}

void ApiImpl::Notifications(const HttpRequest&, const Form&, ApiResponse& resp) {
  // Hearth raises no server notifications (Prometheus 3.x: config reload failures etc.).
  JsonWriter w = resp.Data();
  w.BeginArray();
  w.EndArray();
}

void ApiImpl::TargetsMetadata(const HttpRequest&, const Form& form, ApiResponse& resp) {
  int64_t limit = -1;
  if (std::string_view s = form.Value("limit"); !s.empty()) {
    auto v = ParseGoInt(s);
    if (!v.ok()) return resp.Fail(ErrorType::kBadData, "limit must be a number");
    limit = *v;
  }
  std::string_view match_target = form.Value("match_target");
  Matchers matchers;
  if (!match_target.empty()) {
    auto ms = promql::ParseMetricSelector(match_target);
    if (!ms.ok()) return resp.Fail(ErrorType::kBadData, ms.status().message());
    matchers = std::move(ms).value();
  }
  std::string_view metric = form.Value("metric");
  std::vector<TargetMetricMetadata> entries;
  if (sources_.targets != nullptr) entries = sources_.targets->TargetsMetadata();

  JsonWriter w = resp.Data();
  w.BeginArray();
  int64_t n = 0;
  const Labels* current = nullptr;  // the target whose entries are being written
  bool skip_target = false;
  for (const TargetMetricMetadata& md : entries) {
    if (current == nullptr || !(md.target == *current)) {
      // Like Prometheus, the limit is checked per target, not per entry.
      if (limit >= 0 && n >= limit) break;
      current = &md.target;
      skip_target = !matchers.empty() && !MatchesAll(matchers, md.target);
    }
    if (skip_target) continue;
    if (!metric.empty() && md.metric != metric) continue;
    w.BeginObject();
    w.Key("target");
    w.LabelSet(md.target);
    if (metric.empty()) w.Member("metric", md.metric);
    w.Member("type", MetricTypeName(md.metadata.type));
    w.Member("help", md.metadata.help);
    w.Member("unit", md.metadata.unit);
    w.EndObject();
    ++n;
  }
  w.EndArray();
}

void ApiImpl::Rules(const HttpRequest&, const Form& form, ApiResponse& resp) {
  std::string type = ToLowerAscii(form.Value("type"));
  if (!type.empty() && type != "alert" && type != "record") {
    return resp.InvalidParam("type", InvalidArgument("not supported value {}", QuoteGo(type)));
  }
  bool want_alerting = type != "record";
  bool want_recording = type != "alert";
  bool exclude_alerts = false;
  if (std::string_view s = form.Value("exclude_alerts"); !s.empty()) {
    auto b = ParseGoBool(s);
    if (!b.ok()) return resp.InvalidParam("exclude_alerts", b.status());
    exclude_alerts = *b;
  }
  auto as_set = [&](std::string_view name) {
    std::set<std::string, std::less<>> out;
    for (auto v : form.Values(name)) out.emplace(v);
    return out;
  };
  auto rule_names = as_set("rule_name[]");
  auto group_names = as_set("rule_group[]");
  auto files = as_set("file[]");
  auto sets = ParseMatchers(form.Values("match[]"));
  if (!sets.ok()) return resp.InvalidParam("match[]", sets.status());
  bool filtering_rules = !rule_names.empty() || !sets->empty() || !type.empty();

  std::vector<RuleGroupInfo> groups;
  if (sources_.rules != nullptr) groups = sources_.rules->RuleGroups();

  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Key("groups");
  w.BeginArray();
  for (const RuleGroupInfo& g : groups) {
    if (!group_names.empty() && !group_names.count(g.name)) continue;
    if (!files.empty() && !files.count(g.file)) continue;
    std::vector<const RuleInfo*> rules;
    for (const RuleInfo& r : g.rules) {
      if (r.alerting ? !want_alerting : !want_recording) continue;
      if (!rule_names.empty() && !rule_names.count(r.name)) continue;
      if (!sets->empty()) {
        bool any = false;
        for (const Matchers& ms : *sets) any = any || MatchesAll(ms, r.labels);
        if (!any) continue;
      }
      rules.push_back(&r);
    }
    if (filtering_rules && rules.empty()) continue;
    w.BeginObject();
    w.Member("name", g.name);
    w.Member("file", g.file);
    w.Key("rules");
    w.BeginArray();
    for (const RuleInfo* r : rules) {
      w.BeginObject();
      if (r->alerting) {
        w.Member("state", r->state);
        w.Member("name", r->name);
        w.Member("query", r->query);
        w.Key("duration");
        w.Number(static_cast<double>(r->duration_ms) / 1000.0);
        w.Key("keepFiringFor");
        w.Number(static_cast<double>(r->keep_firing_for_ms) / 1000.0);
        w.Key("labels");
        w.LabelSet(r->labels);
        w.Key("annotations");
        w.LabelSet(r->annotations);
        w.Key("alerts");
        if (exclude_alerts) {
          w.Null();
        } else {
          w.BeginArray();
          for (const ActiveAlert& a : r->alerts) WriteAlert(w, a);
          w.EndArray();
        }
      } else {
        w.Member("name", r->name);
        w.Member("query", r->query);
        if (!r->labels.empty()) {
          w.Key("labels");
          w.LabelSet(r->labels);
        }
      }
      w.Member("health", RuleHealthName(r->health));
      if (!r->last_error.empty()) w.Member("lastError", r->last_error);
      w.Key("evaluationTime");
      w.Number(r->evaluation_time_s);
      w.Key("lastEvaluation");
      WriteTime(w, r->last_evaluation_ms);
      w.Member("type", r->alerting ? "alerting" : "recording");
      w.EndObject();
    }
    w.EndArray();
    w.Key("interval");
    w.Number(static_cast<double>(g.interval_ms) / 1000.0);
    w.Member("limit", g.limit);
    w.Key("evaluationTime");
    w.Number(g.evaluation_time_s);
    w.Key("lastEvaluation");
    WriteTime(w, g.last_evaluation_ms);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void ApiImpl::Alerts(const HttpRequest&, const Form&, ApiResponse& resp) {
  std::vector<RuleGroupInfo> groups;
  if (sources_.rules != nullptr) groups = sources_.rules->RuleGroups();
  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Key("alerts");
  w.BeginArray();
  for (const RuleGroupInfo& g : groups) {
    for (const RuleInfo& r : g.rules) {
      if (!r.alerting) continue;
      for (const ActiveAlert& a : r.alerts) WriteAlert(w, a);
    }
  }
  w.EndArray();
  w.EndObject();
}

void ApiImpl::Alertmanagers(const HttpRequest&, const Form&, ApiResponse& resp) {
  std::vector<std::string> active, dropped;
  if (sources_.alertmanagers != nullptr) {
    active = sources_.alertmanagers->ActiveAlertmanagers();
    dropped = sources_.alertmanagers->DroppedAlertmanagers();
  }
  JsonWriter w = resp.Data();
  auto list = [&](std::string_view key, const std::vector<std::string>& urls) {
    w.Key(key);
    w.BeginArray();
    for (const auto& u : urls) {
      w.BeginObject();
      w.Member("url", u);
      w.EndObject();
    }
    w.EndArray();
  };
  w.BeginObject();
  list("activeAlertmanagers", active);
  list("droppedAlertmanagers", dropped);
  w.EndObject();
}

void ApiImpl::StatusConfig(const HttpRequest&, const Form&, ApiResponse& resp) {
  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Member("yaml", sources_.config_yaml ? sources_.config_yaml() : std::string());
  w.EndObject();
}

void ApiImpl::StatusFlags(const HttpRequest&, const Form&, ApiResponse& resp) {
  JsonWriter w = resp.Data();
  w.BeginObject();
  for (const auto& [k, v] : sources_.flags) w.Member(k, v);  // std::map: sorted, as Go's map
  w.EndObject();
}

void ApiImpl::StatusRuntimeInfo(const HttpRequest&, const Form&, ApiResponse& resp) {
  RuntimeStatus st = sources_.runtime_status ? sources_.runtime_status() : RuntimeStatus{};
  char buf[4096];
  std::string cwd = getcwd(buf, sizeof(buf)) != nullptr ? buf : "<error retrieving current working directory>";
  std::string host = gethostname(buf, sizeof(buf)) == 0 ? buf : "";
  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Key("startTime");
  WriteTime(w, options_.start_time_ms);
  w.Member("CWD", cwd);
  w.Member("hostname", host);
  w.Key("serverTime");
  WriteTime(w, clock_.NowMs());
  w.Member("reloadConfigSuccess", st.reload_config_success);
  w.Key("lastConfigTime");
  WriteTime(w, st.last_config_time_ms);
  w.Member("corruptionCount", st.corruption_count);
  w.Member("goroutineCount", ThreadCount());
  w.Member("GOMAXPROCS", static_cast<int64_t>(std::thread::hardware_concurrency()));
  w.Member("GOMEMLIMIT", std::numeric_limits<int64_t>::max());
  w.Member("GOGC", "");
  w.Member("GODEBUG", "");
  w.Member("storageRetention", st.storage_retention);
  w.EndObject();
}

void ApiImpl::StatusBuildInfo(const HttpRequest&, const Form&, ApiResponse& resp) {
  const BuildInfo& b = options_.build_info;
  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Member("version", b.version);
  w.Member("revision", b.revision);
  w.Member("branch", b.branch);
  w.Member("buildUser", b.build_user);
  w.Member("buildDate", b.build_date);
  w.Member("goVersion", b.go_version);
  w.EndObject();
}

void ApiImpl::StatusTsdb(const HttpRequest&, const Form& form, ApiResponse& resp) {
  int64_t limit = 10;
  if (std::string_view s = form.Value("limit"); !s.empty()) {
    auto v = ParseGoInt(s);
    if (!v.ok() || *v < 1) return resp.Fail(ErrorType::kBadData, "limit must be a positive number");
    if (*v > 10000) return resp.Fail(ErrorType::kBadData, "limit must not exceed 10000");
    limit = *v;
  }
  auto stats = storage_.Stats(static_cast<size_t>(limit));
  if (!stats.ok()) {
    return resp.Fail(ErrorType::kInternal, "error getting head stats: " + stats.status().message());
  }
  JsonWriter w = resp.Data();
  auto list = [&](std::string_view key, const std::vector<storage::NameCount>& l) {
    w.Key(key);
    w.BeginArray();
    for (size_t i = 0; i < l.size() && i < static_cast<size_t>(limit); ++i) {
      w.BeginObject();
      w.Member("name", l[i].name);
      w.Key("value");
      w.Uint(l[i].value);
      w.EndObject();
    }
    w.EndArray();
  };
  w.BeginObject();
  w.Key("headStats");
  w.BeginObject();
  w.Key("numSeries");
  w.Uint(stats->head.num_series);
  w.Key("numLabelPairs");
  w.Uint(stats->head.num_label_pairs);
  w.Key("chunkCount");
  w.Uint(stats->head.chunk_count);
  w.Member("minTime", stats->head.min_time);
  w.Member("maxTime", stats->head.max_time);
  w.EndObject();
  list("seriesCountByMetricName", stats->series_count_by_metric_name);
  list("labelValueCountByLabelName", stats->label_value_count_by_label_name);
  list("memoryInBytesByLabelName", stats->memory_in_bytes_by_label_name);
  list("seriesCountByLabelValuePair", stats->series_count_by_label_value_pair);
  w.EndObject();
}

void ApiImpl::StatusWalReplay(const HttpRequest&, const Form&, ApiResponse& resp) {
  WalReplayStatus st = sources_.wal_replay ? sources_.wal_replay() : WalReplayStatus{};
  JsonWriter w = resp.Data();
  w.BeginObject();
  w.Member("min", st.min);
  w.Member("max", st.max);
  w.Member("current", st.current);
  w.EndObject();
}

}  // namespace hearth::web
