// The API on the real PromQL engine: the exact requests Grafana sends (reference/clients-api.md
// section 1) and what it must get back.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "query/engine.h"
#include "tests/common/http_client.h"
#include "tsdb/storage/memstore.h"
#include "web/api.h"
#include "web/web.h"

using namespace hearth;
using hearth::testing::HttpGet;
using hearth::testing::HttpPost;
using hearth::testing::HttpRequestRaw;

namespace {

constexpr int64_t kStart = 1712345640;  // a Grafana-aligned range: an hour, step 60 s
constexpr int64_t kEnd = 1712349240;

struct Server {
  Server()
      : clock(kEnd * 1000), engine(promql::EngineOptions{}),
        web(Options(), registry, Logger::Discard()) {
    adapter = web::NewQueryEngine(engine);
    web::ApiOptions o;
    o.build_info = {"3.0.0", "rev", "main", "hearth", "20261125-10:00:00", "g++ 12"};
    auto a = web::Api::Make(o, store, *adapter, {}, clock, Logger::Discard());
    REQUIRE(a.ok());
    api = std::move(a).value();
    api->Register(web);
    REQUIRE(web.Start().ok());
    web.SetReady(true);
    port = web.port();
    Fill();
  }
  ~Server() { web.Stop(); }

  static web::WebOptions Options() {
    web::WebOptions o;
    o.listen_address = "127.0.0.1:0";
    return o;
  }

  // Scraped every 15 s for the hour before kEnd (and a little earlier).
  void Fill() {
    auto app = store.NewAppender();
    for (int64_t t = (kStart - 600) * 1000; t <= kEnd * 1000; t += 15000) {
      int64_t i = (t - (kStart - 600) * 1000) / 15000;
      auto add = [&](Labels l, double v) { REQUIRE(app->Append(0, l, t, v).ok()); };
      add(Labels{{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "a:8000"},
                 {"code", "200"}},
          10.0 * static_cast<double>(i));
      add(Labels{{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "a:8000"},
                 {"code", "500"}},
          static_cast<double>(i));
      add(Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "a:8000"}}, 1);
      add(Labels{{"__name__", "up"}, {"job", "prometheus"}, {"instance", "localhost:9090"}}, 1);
    }
    REQUIRE(app->UpdateMetadata(Labels{{"__name__", "http_requests_total"}},
                                {MetricType::kCounter, "Total requests.", ""}).ok());
    REQUIRE(app->UpdateMetadata(Labels{{"__name__", "up"}},
                                {MetricType::kGauge, "Target up.", ""}).ok());
    REQUIRE(app->Commit().ok());
  }

  nlohmann::json Json(const testing::HttpResult& r) {
    INFO(r.body);
    return nlohmann::json::parse(r.body);
  }

  storage::MemStore store;
  ManualClock clock;
  promql::Engine engine;
  std::unique_ptr<web::QueryEngine> adapter;
  metrics::Registry registry;
  web::WebServer web;
  std::unique_ptr<web::Api> api;
  int port = 0;
};

std::string S(int64_t v) { return std::to_string(v); }

}  // namespace

TEST_CASE("Grafana Save & test and data-source discovery", "[web][api][grafana]") {
  Server s;
  // The health check: POST, form body made by Go's url.Values.Encode.
  auto health = HttpPost(s.port, "/api/v1/query", "query=1%2B1&time=4");
  CHECK(health.status == 200);
  CHECK(health.body == R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  // Newer Grafanas add a timeout.
  CHECK(HttpPost(s.port, "/api/v1/query", "query=1%2B1&time=4&timeout=2m").body == health.body);

  // Flavour and version detection: a valid semver >= 2.24, no features.
  auto bi = s.Json(HttpGet(s.port, "/api/v1/status/buildinfo"));
  CHECK(bi["status"] == "success");
  std::string version = bi["data"]["version"];
  int major = 0, minor = 0, patch = 0;
  REQUIRE(std::sscanf(version.c_str(), "%d.%d.%d", &major, &minor, &patch) == 3);
  CHECK((major > 2 || (major == 2 && minor >= 24)));
  CHECK_FALSE(bi["data"].contains("features"));

  // On every dashboard load: recording rules and the exemplar probe (ms sent as seconds).
  CHECK(HttpGet(s.port, "/api/v1/rules").body == R"({"status":"success","data":{"groups":[]}})");
  int64_t now_ms = s.clock.NowMs();
  auto ex = HttpPost(s.port, "/api/v1/query_exemplars",
                     "query=test&start=" + S(now_ms - 1800000) + "&end=" + S(now_ms));
  CHECK(ex.status == 200);
  CHECK(ex.body == R"({"status":"success","data":[]})");
  // Alerting UI.
  CHECK(HttpGet(s.port, "/api/v1/alerts").body == R"({"status":"success","data":{"alerts":[]}})");
  CHECK(HttpGet(s.port, "/api/v1/status/flags").status == 200);
}

TEST_CASE("Grafana panels: aligned range queries with $__rate_interval", "[web][api][grafana]") {
  Server s;
  // rate(...[$__rate_interval]) with the interval interpolated as Go's Duration.String().
  auto r = HttpPost(s.port, "/api/v1/query_range",
                    "end=" + S(kEnd) + "&query=sum+by+%28code%29+%28rate%28http_requests_total%7Bjob%3D%22api%22%7D%5B1m0s%5D%29%29&start=" +
                        S(kStart) + "&step=60");
  REQUIRE(r.status == 200);
  auto j = s.Json(r);
  CHECK(j["data"]["resultType"] == "matrix");
  auto& result = j["data"]["result"];
  REQUIRE(result.size() == 2);
  CHECK(result[0]["metric"] == nlohmann::json{{"code", "200"}});
  CHECK(result[1]["metric"] == nlohmann::json{{"code", "500"}});
  auto& values = result[0]["values"];
  REQUIRE(values.size() == 61);
  // Timestamps are integer seconds on the step grid.
  CHECK(values[0][0].is_number_integer());
  CHECK(values[0][0] == kStart);
  CHECK(values[60][0] == kEnd);
  // 10 requests every 15 s: 0.666.../s.
  for (const auto& p : values) {
    REQUIRE(p[1].is_string());
    CHECK(std::stod(p[1].get<std::string>()) == Approx(10.0 / 15.0));
  }
  CHECK(std::stod(result[1]["values"][5][1].get<std::string>()) == Approx(1.0 / 15.0));
  // The raw bytes of one point, as Prometheus writes them.
  CHECK(r.body.find("[" + S(kStart) + ",\"0.6666666666666666\"]") != std::string::npos);

  // Grafana's "Both" query type: the instant half at the panel's unaligned `to` (ms).
  auto inst = HttpPost(s.port, "/api/v1/query",
                       "query=up%7Bjob%3D%22api%22%7D&time=" + S(kEnd - 1) + ".123");
  CHECK(inst.body ==
        R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up",)"
        R"("instance":"a:8000","job":"api"},"value":[)" + S(kEnd - 1) + R"(.123,"1"]}]}})");

  // Other compound durations and a step as a duration.
  auto r2 = HttpPost(s.port, "/api/v1/query_range",
                     "end=" + S(kEnd) + "&query=increase%28http_requests_total%7Bcode%3D%22500%22%7D%5B1h0m0s%5D%29&start=" +
                         S(kEnd - 300) + "&step=1m0s");
  REQUIRE(r2.status == 200);
  auto j2 = s.Json(r2);
  REQUIRE(j2["data"]["result"].size() == 1);
  CHECK(j2["data"]["result"][0]["values"].size() == 6);

  // The 11,000-point limit Grafana's step calculation respects.
  auto big = HttpPost(s.port, "/api/v1/query_range",
                      "end=" + S(kEnd) + "&query=up&start=" + S(kEnd - 11001) + "&step=1");
  CHECK(big.status == 400);
  CHECK(s.Json(big)["errorType"] == "bad_data");
}

TEST_CASE("Grafana's metrics browser and template variables", "[web][api][grafana]") {
  Server s;
  std::string range = "&start=" + S(kStart) + "&end=" + S(kEnd);
  CHECK(HttpGet(s.port, "/api/v1/label/__name__/values?limit=40000" + range).body ==
        R"({"status":"success","data":["http_requests_total","up"]})");
  CHECK(HttpPost(s.port, "/api/v1/labels", "end=" + S(kEnd) + "&limit=40000&start=" + S(kStart))
            .body == R"({"status":"success","data":["__name__","code","instance","job"]})");
  CHECK(HttpPost(s.port, "/api/v1/labels",
                 "end=" + S(kEnd) + "&limit=40000&match%5B%5D=up&start=" + S(kStart))
            .body == R"({"status":"success","data":["__name__","instance","job"]})");
  CHECK(HttpGet(s.port, "/api/v1/label/job/values?limit=40000&match%5B%5D=up" + range).body ==
        R"({"status":"success","data":["api","prometheus"]})");
  // Series mode (version < 2.24 or seriesEndpoint=true).
  auto series = s.Json(HttpPost(s.port, "/api/v1/series",
                                "end=" + S(kEnd) + "&limit=40000&match%5B%5D=%7B__name__%21%3D%22%22%7D&start=" + S(kStart)));
  CHECK(series["data"].size() == 4);
  auto md = s.Json(HttpGet(s.port, "/api/v1/metadata?limit=40000"));
  CHECK(md["data"]["up"][0]["type"] == "gauge");
  CHECK(md["data"]["http_requests_total"][0]["help"] == "Total requests.");
  // query_result(q) variables: an instant query at integer seconds.
  auto qr = s.Json(HttpPost(s.port, "/api/v1/query",
                            "query=count%28up%29&time=" + S(kEnd)));
  CHECK(qr["data"]["result"][0]["value"][1] == "2");
}

TEST_CASE("engine errors reach clients with Prometheus' types", "[web][api][grafana]") {
  Server s;
  auto parse = HttpPost(s.port, "/api/v1/query", "query=sum%28&time=" + S(kEnd));
  CHECK(parse.status == 400);
  auto pj = s.Json(parse);
  CHECK(pj["errorType"] == "bad_data");
  CHECK(pj["error"].get<std::string>().rfind("invalid parameter \"query\": 1:", 0) == 0);
  // Many-to-many matching fails at run time: 422 execution.
  auto exec = HttpPost(s.port, "/api/v1/query",
                       "query=http_requests_total+%2B+on%28job%29+up&time=" + S(kEnd));
  CHECK(exec.status == 422);
  CHECK(s.Json(exec)["errorType"] == "execution");
  // A string result (promtool refuses it, Grafana reads it).
  CHECK(HttpPost(s.port, "/api/v1/query", "query=%22hello%22&time=4").body ==
        R"({"status":"success","data":{"resultType":"string","result":[4,"hello"]}})");
  // stats=true (the Prometheus UI's table tab dereferences timings and samples).
  auto st = s.Json(HttpGet(s.port, "/api/v1/query?query=up&stats=true&time=" + S(kEnd)));
  CHECK(st["data"]["stats"]["timings"].contains("evalTotalTime"));
  CHECK(st["data"]["stats"]["samples"]["totalQueryableSamples"].get<int64_t>() >= 2);
  // limit on a real result.
  auto lim = s.Json(HttpGet(s.port, "/api/v1/query?query=up&limit=1&time=" + S(kEnd)));
  CHECK(lim["data"]["result"].size() == 1);
  CHECK(lim["warnings"][0] == "results truncated due to limit");
}
