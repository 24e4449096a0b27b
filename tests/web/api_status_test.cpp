// Targets, rules, alerts, Alertmanagers, /status/*, admin endpoints and /federate.

#include <catch2/catch.hpp>

#include "tests/web/api_fixture.h"

using namespace hearth;
using hearth::testing::ApiFixture;
using hearth::testing::HttpRequestRaw;

namespace {

class StaticTargets final : public web::TargetRetriever {
 public:
  std::vector<web::ActiveTarget> active;
  std::vector<web::DroppedTarget> dropped;
  std::map<std::string, size_t> counts;
  std::vector<web::TargetMetricMetadata> metadata;

  std::vector<web::ActiveTarget> ActiveTargets() override { return active; }
  std::vector<web::DroppedTarget> DroppedTargets() override { return dropped; }
  std::map<std::string, size_t> DroppedTargetCounts() override { return counts; }
  std::vector<web::TargetMetricMetadata> TargetsMetadata() override { return metadata; }
};

StaticTargets SampleTargets() {
  StaticTargets t;
  web::ActiveTarget a;
  a.scrape_pool = "prometheus";
  a.discovered_labels = Labels{{"__address__", "127.0.0.1:9090"},
                               {"__metrics_path__", "/metrics"},
                               {"__scheme__", "http"},
                               {"job", "prometheus"}};
  a.labels = Labels{{"instance", "127.0.0.1:9090"}, {"job", "prometheus"}};
  a.scrape_url = "http://127.0.0.1:9090/metrics";
  a.global_url = "http://host:9090/metrics";
  a.last_scrape_ms = 1712345678123;
  a.last_scrape_duration_s = 0.023368509;
  a.health = web::TargetHealth::kUp;
  a.scrape_interval_ms = 15000;
  a.scrape_timeout_ms = 10000;
  web::ActiveTarget b;
  b.scrape_pool = "api";
  b.labels = Labels{{"instance", "api:8000"}, {"job", "api"}};
  b.discovered_labels = Labels{{"__address__", "api:8000"}, {"job", "api"}};
  b.scrape_url = "http://api:8000/metrics";
  b.last_error = "connection refused";
  b.health = web::TargetHealth::kDown;
  b.scrape_interval_ms = 60000;
  b.scrape_timeout_ms = 10000;
  t.active = {a, b};
  t.dropped = {{"node", Labels{{"__address__", "127.0.0.1:1"}, {"job", "node"}}}};
  t.counts = {{"node", 3}};
  t.metadata = {{b.labels, "http_requests_total", {MetricType::kCounter, "Requests.", ""}},
                {b.labels, "temp", {MetricType::kGauge, "Temperature.", "celsius"}},
                {a.labels, "up", {MetricType::kGauge, "Up.", ""}}};
  return t;
}

class StaticRules final : public web::RulesRetriever {
 public:
  std::vector<web::RuleGroupInfo> groups;
  std::vector<web::RuleGroupInfo> RuleGroups() override { return groups; }
};

StaticRules SampleRules() {
  StaticRules r;
  web::RuleGroupInfo g;
  g.name = "api";
  g.file = "/etc/prometheus/alert.rules.yml";
  g.interval_ms = 15000;
  g.evaluation_time_s = 0.000512;
  g.last_evaluation_ms = 1712345678000;
  web::RuleInfo alert;
  alert.alerting = true;
  alert.name = "ApiDown";
  alert.query = "up{job=\"fastapi\"} == 0";
  alert.state = "firing";
  alert.duration_ms = 60000;
  alert.labels = Labels{{"severity", "page"}};
  alert.annotations = Labels{{"summary", "API down"}};
  alert.health = web::RuleHealth::kOk;
  alert.evaluation_time_s = 0.0002;
  alert.last_evaluation_ms = 1712345678000;
  web::ActiveAlert a;
  a.labels = Labels{{"alertname", "ApiDown"}, {"severity", "page"}};
  a.annotations = Labels{{"summary", "API down"}};
  a.state = "firing";
  a.active_at_ms = 1712345000000;
  a.value = 0;
  alert.alerts = {a};
  web::RuleInfo rec;
  rec.name = "job:up:sum";
  rec.query = "sum by (job) (up)";
  rec.health = web::RuleHealth::kErr;
  rec.last_error = "boom";
  g.rules = {alert, rec};
  r.groups = {g};
  return r;
}

}  // namespace

TEST_CASE("without sources, lists are empty and correctly typed", "[web][api]") {
  ApiFixture f;
  CHECK(f.Get("/api/v1/rules").body == R"({"status":"success","data":{"groups":[]}})");
  CHECK(f.Get("/api/v1/alerts").body == R"({"status":"success","data":{"alerts":[]}})");
  CHECK(f.Get("/api/v1/alertmanagers").body ==
        R"({"status":"success","data":{"activeAlertmanagers":[],"droppedAlertmanagers":[]}})");
  CHECK(f.Get("/api/v1/targets").body ==
        R"({"status":"success","data":{"activeTargets":[],"droppedTargets":[],)"
        R"("droppedTargetCounts":{}}})");
  CHECK(f.Get("/api/v1/targets/metadata").body == R"({"status":"success","data":[]})");
  CHECK(f.Get("/api/v1/status/config").body == R"({"status":"success","data":{"yaml":""}})");
  CHECK(f.Get("/api/v1/status/flags").body == R"({"status":"success","data":{}})");
  CHECK(f.Get("/api/v1/status/walreplay").body ==
        R"({"status":"success","data":{"min":0,"max":0,"current":0}})");
  CHECK(f.Get("/api/v1/metadata").body == R"({"status":"success","data":{}})");
  CHECK(f.Get("/api/v1/scrape_pools").body == R"({"status":"success","data":{"scrapePools":[]}})");
  CHECK(f.Get("/api/v1/notifications").body == R"({"status":"success","data":[]})");
}

TEST_CASE("buildinfo reports a semver >= 2.24 and no features", "[web][api]") {
  ApiFixture f;
  auto r = f.Get("/api/v1/status/buildinfo");
  CHECK(r.status == 200);
  CHECK(r.body ==
        R"({"status":"success","data":{"version":"3.0.0","revision":"abc123","branch":"main",)"
        R"("buildUser":"hearth","buildDate":"20261125-10:00:00","goVersion":"g++ 12"}})");
  CHECK(r.body.find("features") == std::string::npos);
  CHECK(r.body.find("application") == std::string::npos);
}

TEST_CASE("targets: active and dropped, state and pool filters", "[web][api]") {
  StaticTargets t = SampleTargets();
  web::ApiSources src;
  src.targets = &t;
  ApiFixture f({}, src);
  const std::string api =
      R"({"discoveredLabels":{"__address__":"api:8000","job":"api"},)"
      R"("labels":{"instance":"api:8000","job":"api"},"scrapePool":"api",)"
      R"("scrapeUrl":"http://api:8000/metrics","globalUrl":"","lastError":"connection refused",)"
      R"("lastScrape":"0001-01-01T00:00:00Z","lastScrapeDuration":0,"health":"down",)"
      R"("scrapeInterval":"1m","scrapeTimeout":"10s"})";
  const std::string prom =
      R"({"discoveredLabels":{"__address__":"127.0.0.1:9090","__metrics_path__":"/metrics",)"
      R"("__scheme__":"http","job":"prometheus"},)"
      R"("labels":{"instance":"127.0.0.1:9090","job":"prometheus"},"scrapePool":"prometheus",)"
      R"("scrapeUrl":"http://127.0.0.1:9090/metrics","globalUrl":"http://host:9090/metrics",)"
      R"("lastError":"","lastScrape":"2024-04-05T19:34:38.123Z",)"
      R"("lastScrapeDuration":0.023368509,"health":"up","scrapeInterval":"15s",)"
      R"("scrapeTimeout":"10s"})";
  const std::string dropped =
      R"({"discoveredLabels":{"__address__":"127.0.0.1:1","job":"node"},"scrapePool":"node"})";
  // Pools in name order.
  CHECK(f.Get("/api/v1/targets").body ==
        R"({"status":"success","data":{"activeTargets":[)" + api + "," + prom +
            R"(],"droppedTargets":[)" + dropped + R"(],"droppedTargetCounts":{"node":3}}})");
  CHECK(f.Get("/api/v1/targets?state=active").body ==
        R"({"status":"success","data":{"activeTargets":[)" + api + "," + prom +
            R"(],"droppedTargets":[],"droppedTargetCounts":null}})");
  CHECK(f.Get("/api/v1/targets?state=Dropped").body ==
        R"({"status":"success","data":{"activeTargets":[],"droppedTargets":[)" + dropped +
            R"(],"droppedTargetCounts":{"node":3}}})");
  CHECK(f.Get("/api/v1/targets?scrapePool=prometheus&state=any").body ==
        R"({"status":"success","data":{"activeTargets":[)" + prom +
            R"(],"droppedTargets":[],"droppedTargetCounts":{}}})");
  CHECK(f.Get("/api/v1/scrape_pools").body ==
        R"({"status":"success","data":{"scrapePools":["api","node","prometheus"]}})");
  // prometheus-query sends `query=any` (a bug of its own): ignored.
  CHECK(f.Get("/api/v1/targets?query=any").status == 200);
}

TEST_CASE("targets metadata filters by target and metric", "[web][api]") {
  StaticTargets t = SampleTargets();
  web::ApiSources src;
  src.targets = &t;
  ApiFixture f({}, src);
  CHECK(f.Get("/api/v1/targets/metadata?match_target=%7Bjob%3D%22api%22%7D&metric=temp").body ==
        R"({"status":"success","data":[{"target":{"instance":"api:8000","job":"api"},)"
        R"("type":"gauge","help":"Temperature.","unit":"celsius"}]})");
  auto all = f.Get("/api/v1/targets/metadata?match_target=%7Bjob%3D%22api%22%7D").body;
  CHECK(all == R"({"status":"success","data":[{"target":{"instance":"api:8000","job":"api"},)"
               R"("metric":"http_requests_total","type":"counter","help":"Requests.","unit":""},)"
               R"({"target":{"instance":"api:8000","job":"api"},"metric":"temp","type":"gauge",)"
               R"("help":"Temperature.","unit":"celsius"}]})");
  // The limit is checked per target, as Prometheus does.
  auto limited = f.Get("/api/v1/targets/metadata?limit=1").body;
  CHECK(limited.find("http_requests_total") != std::string::npos);
  CHECK(limited.find("\"up\"") == std::string::npos);
  CHECK(f.Get("/api/v1/targets/metadata?limit=x").body ==
        R"({"status":"error","errorType":"bad_data","error":"limit must be a number"})");
}

TEST_CASE("rules and alerts with Grafana's exact types", "[web][api]") {
  StaticRules rules = SampleRules();
  web::ApiSources src;
  src.rules = &rules;
  ApiFixture f({}, src);
  const std::string alert =
      R"({"labels":{"alertname":"ApiDown","severity":"page"},"annotations":{"summary":"API down"},)"
      R"("state":"firing","activeAt":"2024-04-05T19:23:20Z","value":"0e+00"})";
  const std::string alerting =
      R"({"state":"firing","name":"ApiDown","query":"up{job=\"fastapi\"} == 0","duration":60,)"
      R"("keepFiringFor":0,"labels":{"severity":"page"},"annotations":{"summary":"API down"},)"
      R"("alerts":[)" + alert + R"(],"health":"ok","evaluationTime":0.0002,)"
      R"("lastEvaluation":"2024-04-05T19:34:38Z","type":"alerting"})";
  const std::string recording =
      R"x({"name":"job:up:sum","query":"sum by (job) (up)","health":"err","lastError":"boom",)x"
      R"("evaluationTime":0,"lastEvaluation":"0001-01-01T00:00:00Z","type":"recording"})";
  auto group = [](const std::string& rules_json) {
    return R"({"name":"api","file":"/etc/prometheus/alert.rules.yml","rules":[)" + rules_json +
           R"(],"interval":15,"limit":0,"evaluationTime":0.000512,)"
           R"("lastEvaluation":"2024-04-05T19:34:38Z"})";
  };
  CHECK(f.Get("/api/v1/rules").body == R"({"status":"success","data":{"groups":[)" +
                                           group(alerting + "," + recording) + "]}}");
  CHECK(f.Get("/api/v1/rules?type=record").body ==
        R"({"status":"success","data":{"groups":[)" + group(recording) + "]}}");
  CHECK(f.Get("/api/v1/rules?type=alert&exclude_alerts=true").body.find(R"("alerts":null)") !=
        std::string::npos);
  CHECK(f.Get("/api/v1/rules?rule_name[]=nope").body ==
        R"({"status":"success","data":{"groups":[]}})");
  CHECK(f.Get("/api/v1/rules?rule_group[]=api&file[]=/etc/prometheus/alert.rules.yml").body ==
        f.Get("/api/v1/rules").body);
  CHECK(f.Get("/api/v1/rules?match[]=%7Bseverity%3D%22page%22%7D").body ==
        R"({"status":"success","data":{"groups":[)" + group(alerting) + "]}}");
  auto bad = f.Get("/api/v1/rules?type=foo");
  CHECK(bad.status == 400);
  CHECK(bad.body == R"({"status":"error","errorType":"bad_data","error":)"
                    R"("invalid parameter \"type\": not supported value \"foo\""})");
  CHECK(f.Get("/api/v1/alerts").body ==
        R"({"status":"success","data":{"alerts":[)" + alert + "]}}");
}

TEST_CASE("status endpoints", "[web][api]") {
  web::ApiSources src;
  src.config_yaml = [] { return std::string("global:\n  scrape_interval: 15s\n"); };
  src.flags = {{"web.listen-address", "0.0.0.0:9090"}, {"config.file", "prometheus.yml"}};
  src.runtime_status = [] {
    web::RuntimeStatus s;
    s.last_config_time_ms = 1712345678000;
    s.storage_retention = "15d";
    return s;
  };
  src.wal_replay = [] { return web::WalReplayStatus{1, 5, 5}; };
  web::ApiOptions o;
  o.start_time_ms = 1712345000000;
  ApiFixture f(o, src);
  CHECK(f.Get("/api/v1/status/config").body ==
        R"({"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\n"}})");
  CHECK(f.Get("/api/v1/status/flags").body ==
        R"({"status":"success","data":{"config.file":"prometheus.yml",)"
        R"("web.listen-address":"0.0.0.0:9090"}})");
  CHECK(f.Get("/api/v1/status/walreplay").body ==
        R"({"status":"success","data":{"min":1,"max":5,"current":5}})");
  auto rt = f.Get("/api/v1/status/runtimeinfo").body;
  CHECK(rt.rfind(R"({"status":"success","data":{"startTime":"2024-04-05T19:23:20Z","CWD":")", 0) == 0);
  for (const char* key : {"\"hostname\":", "\"serverTime\":\"2024-04-05T19:34:38.123Z\"",
                          "\"reloadConfigSuccess\":true",
                          "\"lastConfigTime\":\"2024-04-05T19:34:38Z\"", "\"corruptionCount\":0",
                          "\"goroutineCount\":", "\"GOMAXPROCS\":", "\"GOMEMLIMIT\":",
                          "\"GOGC\":\"\"", "\"GODEBUG\":\"\"", "\"storageRetention\":\"15d\""}) {
    CHECK(rt.find(key) != std::string::npos);
  }
}

TEST_CASE("status/tsdb reads the storage's stats; limit 1..10000", "[web][api]") {
  ApiFixture f;
  f.Add(Labels{{"__name__", "up"}, {"job", "a"}}, {{1000, 1}});
  f.Add(Labels{{"__name__", "up"}, {"job", "b"}}, {{1000, 1}});
  f.Add(Labels{{"__name__", "x"}}, {{1000, 1}});
  auto r = f.Get("/api/v1/status/tsdb?limit=1");
  CHECK(r.body == R"({"status":"success","data":{"headStats":{"numSeries":3,"numLabelPairs":0,)"
                  R"("chunkCount":0,"minTime":0,"maxTime":0},)"
                  R"("seriesCountByMetricName":[{"name":"up","value":2}],)"
                  R"("labelValueCountByLabelName":[],"memoryInBytesByLabelName":[],)"
                  R"("seriesCountByLabelValuePair":[]}})");
  for (const char* bad : {"0", "x", "-3"}) {
    auto e = f.Get(std::string("/api/v1/status/tsdb?limit=") + bad);
    CHECK(e.status == 400);
    CHECK(e.body == R"({"status":"error","errorType":"bad_data","error":"limit must be a positive number"})");
  }
  CHECK(f.Get("/api/v1/status/tsdb?limit=10001").status == 400);
  CHECK(f.Get("/api/v1/status/tsdb?limit=10000").status == 200);
}

TEST_CASE("admin endpoints need --web.enable-admin-api", "[web][api]") {
  SECTION("disabled") {
    ApiFixture f;
    for (const char* path : {"/api/v1/admin/tsdb/delete_series?match[]=up",
                             "/api/v1/admin/tsdb/clean_tombstones", "/api/v1/admin/tsdb/snapshot"}) {
      auto r = f.Post(path, "");
      CHECK(r.status == 500);
      CHECK(r.body == R"({"status":"error","errorType":"unavailable","error":"admin APIs disabled"})");
    }
    CHECK(f.Get("/api/v1/admin/tsdb/snapshot").status == 405);
  }
  SECTION("enabled") {
    web::ApiOptions o;
    o.enable_admin_api = true;
    ApiFixture f(o);
    f.Add(Labels{{"__name__", "up"}, {"job", "a"}}, {{1000, 1}, {2000, 1}, {3000, 1}});
    f.Add(Labels{{"__name__", "up"}, {"job", "b"}}, {{1000, 1}});
    auto none = f.Post("/api/v1/admin/tsdb/delete_series", "");
    CHECK(none.status == 400);
    CHECK(none.body == R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})");
    // prometheus-query sends the parameters in the URL of a POST.
    auto del = f.Post("/api/v1/admin/tsdb/delete_series?match[]=up%7Bjob%3D%22a%22%7D&start=2&end=3",
                      "");
    CHECK(del.status == 204);
    CHECK(del.body.empty());
    auto q = f.store.NewQuerier(kMinTime, kMaxTime);
    REQUIRE(q.ok());
    auto m = Matcher::Make(MatchType::kEqual, "job", "a");
    REQUIRE(m.ok());
    auto set = (*q)->Select(true, {}, std::vector<Matcher>{*m});
    REQUIRE(set->Next());
    auto it = set->At().Iterator();
    int n = 0;
    while (it->Next()) ++n;
    CHECK(n == 1);
    auto bad = f.Post("/api/v1/admin/tsdb/delete_series", "match[]=up{");
    CHECK(bad.status == 400);
    CHECK(bad.body.find(R"(invalid parameter \"match[]\")") != std::string::npos);
    CHECK(f.Post("/api/v1/admin/tsdb/clean_tombstones", "").status == 204);
    auto snap = f.Post("/api/v1/admin/tsdb/snapshot?skip_head=true", "");
    CHECK(snap.status == 500);  // MemStore keeps no snapshots
    CHECK(snap.body == R"({"status":"error","errorType":"internal","error":)"
                       R"("create snapshot: MemStore has no snapshots"})");
    CHECK(f.Post("/api/v1/admin/tsdb/snapshot?skip_head=maybe", "").status == 400);
  }
}

TEST_CASE("federate writes the latest sample of each series as text with timestamps",
          "[web][api]") {
  web::ApiSources src;
  src.external_labels = [] { return Labels{{"region", "eu"}, {"zone", "x"}}; };
  ApiFixture f({}, src);
  int64_t now = f.clock.NowMs();
  f.Add(Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "a:1"}},
        {{now - 20000, 0}, {now - 5000, 1}});
  f.Add(Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "b:1"}, {"zone", "own"}},
        {{now - 1000, 0.5}});
  f.Add(Labels{{"__name__", "process_cpu_seconds_total"}, {"job", "api"}},
        {{now - 2000, 1e6}});
  f.Add(Labels{{"__name__", "gone"}, {"job", "api"}}, {{now - 2000, StaleNaN()}});
  f.Add(Labels{{"__name__", "old"}, {"job", "api"}}, {{now - 600000, 1}});
  f.Add(Labels{{"__name__", "esc"}, {"v", "a\"b\\c\nd"}}, {{now - 1000, 2}});
  auto r = f.Get("/federate?match[]=%7Bjob%3D%22api%22%7D&match[]=up&match[]=esc");
  CHECK(r.status == 200);
  CHECK(r.Header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  std::string t1 = std::to_string(now - 5000), t2 = std::to_string(now - 1000),
              t3 = std::to_string(now - 2000);
  CHECK(r.body ==
        "# TYPE esc untyped\n"
        "esc{v=\"a\\\"b\\\\c\\nd\",instance=\"\",region=\"eu\",zone=\"x\"} 2 " + t2 + "\n"
        "# TYPE process_cpu_seconds_total untyped\n"
        "process_cpu_seconds_total{job=\"api\",instance=\"\",region=\"eu\",zone=\"x\"} 1e+06 " +
            t3 + "\n"
        "# TYPE up untyped\n"
        "up{instance=\"a:1\",job=\"api\",region=\"eu\",zone=\"x\"} 1 " + t1 + "\n"
        "up{instance=\"b:1\",job=\"api\",zone=\"own\",region=\"eu\"} 0.5 " + t2 + "\n");
  CHECK(f.Get("/federate").body.empty());
  auto bad = f.Get("/federate?match[]=up{");
  CHECK(bad.status == 400);
}
