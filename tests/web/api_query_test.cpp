// /api/v1/query and /api/v1/query_range: parameters, envelope, encoding and error mapping, on a
// scripted engine.

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "tests/web/api_fixture.h"
#include <sys/socket.h>
#include <unistd.h>

#include "web/compress.h"

using namespace hearth;
using hearth::testing::ApiFixture;
using hearth::testing::HttpRequestRaw;

namespace {

promql::QueryResult Scalar(int64_t t, double v) {
  promql::QueryResult r;
  r.value = promql::Scalar{t, v};
  return r;
}

promql::Vector TwoUp(int64_t t) {
  return {{Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "a:1"}}, t, 1},
          {Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "b:1"}}, t, 0}};
}

}  // namespace

TEST_CASE("Grafana's Save & test: POST query=1+1&time=4 answers scalar [4,\"2\"]", "[web][api]") {
  ApiFixture f;
  f.engine.Set("1+1", Scalar(4000, 2));
  auto r = f.Post("/api/v1/query", "query=1%2B1&time=4");
  CHECK(r.status == 200);
  CHECK(r.Header("content-type") == "application/json");
  CHECK(r.body == R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  auto call = f.engine.last();
  CHECK(call.query == "1+1");
  CHECK_FALSE(call.range);
  CHECK(call.t == 4000);
  CHECK(call.opts.timeout_ms == 0);

  SECTION("with the timeout newer Grafanas send") {
    auto r2 = f.Post("/api/v1/query", "query=1%2B1&time=4&timeout=2m");
    CHECK(r2.status == 200);
    CHECK(f.engine.last().opts.timeout_ms == 120000);
  }
  SECTION("GET works the same") {
    auto r2 = f.Get("/api/v1/query?query=1%2B1&time=4");
    CHECK(r2.body == r.body);
  }
}

TEST_CASE("query parameters merge URL and body; the body wins", "[web][api]") {
  ApiFixture f;
  f.engine.Set("up", Scalar(0, 1));
  // Grafana puts custom query parameters in the URL of a POST.
  auto r = HttpRequestRaw(
      f.port,
      "POST /api/v1/query?time=1&timeout=30s&max_samples_processed_warning_threshold=5 HTTP/1.1\r\n"
      "Host: x\r\nContent-Type: application/x-www-form-urlencoded;charset=UTF-8\r\n"
      "Content-Length: 15\r\nConnection: close\r\n\r\nquery=up&time=4");
  CHECK(r.status == 200);
  auto call = f.engine.last();
  CHECK(call.t == 4000);
  CHECK(call.opts.timeout_ms == 30000);
}

TEST_CASE("the time defaults to now and takes any precision and size", "[web][api]") {
  ApiFixture f;
  f.engine.Set("up", Scalar(0, 1));
  CHECK(f.Get("/api/v1/query?query=up").status == 200);
  CHECK(f.engine.last().t == f.clock.NowMs());
  CHECK(f.Get("/api/v1/query?query=up&time=1712345678.1234567").status == 200);
  CHECK(f.engine.last().t == 1712345678123);
  CHECK(f.Get("/api/v1/query?query=up&time=2024-04-05T19:34:38.123Z").status == 200);
  CHECK(f.engine.last().t == 1712345678123);
  CHECK(f.Get("/api/v1/query?query=up&time=1712345678000").status == 200);
  CHECK(f.engine.last().t == 1712345678000000);
  auto bad = f.Get("/api/v1/query?query=up&time=yesterday");
  CHECK(bad.status == 400);
  CHECK(bad.body ==
        R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": )"
        R"(Invalid time value for 'time': cannot parse \"yesterday\" to a valid timestamp"})");
}

TEST_CASE("vectors, matrices, scalars and strings encode as Prometheus", "[web][api]") {
  ApiFixture f;
  f.engine.SetValue("up", TwoUp(1435781451781));
  CHECK(f.Get("/api/v1/query?query=up").body ==
        R"({"status":"success","data":{"resultType":"vector","result":[)"
        R"({"metric":{"__name__":"up","instance":"a:1","job":"api"},"value":[1435781451.781,"1"]},)"
        R"({"metric":{"__name__":"up","instance":"b:1","job":"api"},"value":[1435781451.781,"0"]}]}})");

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  f.engine.SetValue("m", promql::Matrix{{Labels{{"a", "x\"y"}},
                                         {{1000, nan}, {2005, inf}, {3050, -inf}, {4000, 1e-7},
                                          {5000, 2.5e21}, {6000, -0.0}, {7000, 0.1}}},
                                        {Labels{}, {}}});
  CHECK(f.Get("/api/v1/query_range?query=m&start=1&end=7&step=1").body ==
        R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"x\"y"},)"
        R"("values":[[1,"NaN"],[2.005,"+Inf"],[3.050,"-Inf"],[4,"1e-07"],[5,"2.5e+21"],)"
        R"([6,"-0"],[7,"0.1"]]},{"metric":{}}]}})");

  // Scalars: time as an encoding/json float, value always in 'f' format.
  f.engine.Set("s", Scalar(1712345678123, 1e21));
  CHECK(f.Get("/api/v1/query?query=s").body ==
        R"({"status":"success","data":{"resultType":"scalar","result":)"
        R"([1712345678.123,"1000000000000000000000"]}})");
  promql::QueryResult str;
  str.value = promql::String{1500, "a<b"};
  f.engine.Set("str", str);
  CHECK(f.Get("/api/v1/query?query=str").body ==
        R"({"status":"success","data":{"resultType":"string","result":[1.5,"a\u003cb"]}})");
}

TEST_CASE("engine errors map to Prometheus' error types and status codes", "[web][api]") {
  ApiFixture f;
  struct Case {
    StatusCode code;
    int http;
    std::string body;
  };
  std::vector<Case> cases = {
      {StatusCode::kInvalidArgument, 400,
       R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": msg"})"},
      {StatusCode::kExecution, 422,
       R"({"status":"error","errorType":"execution","error":"msg"})"},
      {StatusCode::kResourceExhausted, 422,
       R"({"status":"error","errorType":"execution","error":"msg"})"},
      {StatusCode::kDeadlineExceeded, 503,
       R"({"status":"error","errorType":"timeout","error":"msg"})"},
      {StatusCode::kCancelled, 499, R"({"status":"error","errorType":"canceled","error":"msg"})"},
      {StatusCode::kInternal, 500, R"({"status":"error","errorType":"internal","error":"msg"})"},
      {StatusCode::kIOError, 500, R"({"status":"error","errorType":"internal","error":"msg"})"},
      {StatusCode::kUnavailable, 500,
       R"({"status":"error","errorType":"unavailable","error":"msg"})"},
  };
  for (const auto& c : cases) {
    f.engine.Set("q", Status(c.code, "msg"));
    auto r = f.Get("/api/v1/query?query=q");
    INFO(StatusCodeName(c.code));
    CHECK(r.status == c.http);
    CHECK(r.Header("content-type") == "application/json");
    CHECK(r.body == c.body);
    auto rr = f.Get("/api/v1/query_range?query=q&start=0&end=10&step=1");
    CHECK(rr.status == c.http);
    CHECK(rr.body == c.body);
  }
}

TEST_CASE("range query parameters are checked as Prometheus checks them", "[web][api]") {
  ApiFixture f;
  f.engine.SetValue("up", promql::Matrix{});
  auto err = [&](const std::string& q) { return f.Get("/api/v1/query_range?query=up&" + q); };
  auto msg = [](const std::string& m) {
    return R"({"status":"error","errorType":"bad_data","error":")" + m + "\"}";
  };
  CHECK(err("start=10&end=0&step=1").body ==
        msg(R"(invalid parameter \"end\": end timestamp must not be before start time)"));
  CHECK(err("start=0&end=10&step=0").body ==
        msg(R"(invalid parameter \"step\": zero or negative query resolution step widths are )"
            R"(not accepted. Try a positive integer)"));
  CHECK(err("start=0&end=10").body ==
        msg(R"(invalid parameter \"step\": cannot parse \"\" to a valid duration)"));
  CHECK(err("start=x&end=10&step=1").body ==
        msg(R"(invalid parameter \"start\": cannot parse \"x\" to a valid timestamp)"));
  CHECK(err("start=0&end=11001&step=1").body ==
        msg("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
            "query resolution (?step=XX)"));
  CHECK(err("start=0&end=11001&step=1").status == 400);
  CHECK(err("start=0&end=10&step=1&limit=x").body ==
        msg(R"(invalid parameter \"limit\": strconv.Atoi: parsing \"x\": invalid syntax)"));
  CHECK(err("start=0&end=10&step=1&timeout=x").body ==
        msg(R"(invalid parameter \"timeout\": cannot parse \"x\" to a valid duration)"));
  CHECK(err("start=0&end=10&step=1&lookback_delta=x").body ==
        msg(R"(error parsing lookback delta duration: cannot parse \"x\" to a valid duration)"));
  // Exactly 11000 points is fine; open ranges do not overflow.
  CHECK(err("start=0&end=11000&step=1").status == 200);
  CHECK(err("start=-292273086-05-16T16:47:06Z&end=292277025-08-18T07:12:54.999999999Z&step=1")
            .status == 400);

  // Grafana: aligned start/end, step in seconds; durations of any Prometheus form.
  REQUIRE(err("start=1712345640&end=1712349240&step=60").status == 200);
  auto c = f.engine.last();
  CHECK(c.range);
  CHECK(c.t == 1712345640000);
  CHECK(c.end == 1712349240000);
  CHECK(c.step == 60000);
  REQUIRE(err("start=2024-04-05T19:34:00Z&end=2024-04-05T20:34:00.5Z&step=1m0s").status == 200);
  c = f.engine.last();
  CHECK(c.t == 1712345640000);
  CHECK(c.end == 1712349240500);
  CHECK(c.step == 60000);
  REQUIRE(err("start=0&end=10&step=0.5&lookback_delta=1m&timeout=1.5").status == 200);
  c = f.engine.last();
  CHECK(c.step == 500);
  CHECK(c.opts.lookback_delta_ms == 60000);
  CHECK(c.opts.timeout_ms == 1500);
}

TEST_CASE("limit truncates vectors and matrices with a warning", "[web][api]") {
  ApiFixture f;
  f.engine.SetValue("up", TwoUp(1000));
  auto r = f.Get("/api/v1/query?query=up&limit=1");
  CHECK(r.body ==
        R"({"status":"success","data":{"resultType":"vector","result":[)"
        R"({"metric":{"__name__":"up","instance":"a:1","job":"api"},"value":[1,"1"]}]},)"
        R"("warnings":["results truncated due to limit"]})");
  CHECK(f.Get("/api/v1/query?query=up&limit=2").body.find("warnings") == std::string::npos);
  CHECK(f.Get("/api/v1/query?query=up&limit=0").body.find("b:1") != std::string::npos);
  f.engine.SetValue("m", promql::Matrix{{Labels{{"a", "1"}}, {{1000, 1}}},
                                        {Labels{{"a", "2"}}, {{1000, 2}}}});
  auto m = f.Get("/api/v1/query_range?query=m&start=0&end=1&step=1&limit=1");
  CHECK(m.body == R"({"status":"success","data":{"resultType":"matrix","result":[)"
                  R"({"metric":{"a":"1"},"values":[[1,"1"]]}]},)"
                  R"("warnings":["results truncated due to limit"]})");
  auto neg = f.Get("/api/v1/query?query=up&limit=-1");
  CHECK(neg.status == 400);
  CHECK(neg.body.find("limit must be non-negative") != std::string::npos);
}

TEST_CASE("annotations become warnings and infos, ten of each at most", "[web][api]") {
  ApiFixture f;
  promql::QueryResult r;
  r.value = promql::Vector{};
  for (int i = 0; i < 12; ++i) r.annotations.warnings.push_back("w" + std::to_string(i));
  r.annotations.infos.push_back("PromQL info: metric might not be a counter (1:6)");
  f.engine.Set("x", r);
  auto body = f.Get("/api/v1/query?query=x").body;
  CHECK(body == R"({"status":"success","data":{"resultType":"vector","result":[]},)"
                R"("warnings":["w0","w1","w2","w3","w4","w5","w6","w7","w8","w9",)"
                R"("2 more warning annotations omitted"],)"
                R"x("infos":["PromQL info: metric might not be a counter (1:6)"]})x");
}

TEST_CASE("stats=true and stats=all add the statistics object", "[web][api]") {
  ApiFixture f;
  promql::QueryResult r = Scalar(1000, 1);
  r.stats.eval_total_time = 0.000141596;
  r.stats.result_sort_time = 6.21e-07;
  r.stats.total_queryable_samples = 3;
  r.stats.samples_read = 3;
  r.stats.peak_samples = 2;
  r.stats.total_queryable_samples_per_step = {{1000, 1}, {2500, 2}};
  f.engine.Set("x", r);
  auto plain = f.Get("/api/v1/query?query=x");
  CHECK(plain.body.find("stats") == std::string::npos);
  CHECK_FALSE(f.engine.last().opts.per_step_stats);
  auto st = f.Get("/api/v1/query?query=x&stats=true");
  CHECK(st.body ==
        R"({"status":"success","data":{"resultType":"scalar","result":[1,"1"],"stats":{)"
        R"("timings":{"evalTotalTime":0.000141596,"resultSortTime":6.21e-07,)"
        R"("queryPreparationTime":0,"innerEvalTime":0,"execQueueTime":0,"execTotalTime":0},)"
        R"("samples":{"totalQueryableSamples":3,"samplesRead":3,"peakSamples":2}}}})");
  auto all = f.Get("/api/v1/query?query=x&stats=all");
  CHECK(f.engine.last().opts.per_step_stats);
  CHECK(all.body.find(R"("samples":{"totalQueryableSamplesPerStep":[[1,1],[2.5,2]],)") !=
        std::string::npos);
}

TEST_CASE("OPTIONS, CORS, readiness, gzip and unknown paths", "[web][api]") {
  SECTION("CORS with the default origin regex") {
    ApiFixture f;
    f.engine.Set("1", Scalar(0, 1));
    auto opt = HttpRequestRaw(f.port,
                              "OPTIONS /api/v1/query HTTP/1.1\r\nHost: x\r\nOrigin: http://g.com\r\n"
                              "Connection: close\r\n\r\n");
    CHECK(opt.status == 204);
    CHECK(opt.body.empty());
    CHECK(opt.Header("access-control-allow-origin") == "*");
    CHECK(opt.Header("access-control-allow-methods") == "GET, POST, OPTIONS");
    CHECK(opt.Header("access-control-allow-headers") ==
          "Accept, Authorization, Content-Type, Origin");
    CHECK(opt.Header("access-control-expose-headers") == "Date");
    CHECK(opt.Header("vary") == "Origin");
    // Any /api/v1 path answers OPTIONS; other methods on unknown paths are 404.
    auto unknown = HttpRequestRaw(f.port,
                                  "OPTIONS /api/v1/nope HTTP/1.1\r\nHost: x\r\nConnection: close"
                                  "\r\n\r\n");
    CHECK(unknown.status == 204);
    auto missing = f.Get("/api/v1/nope");
    CHECK(missing.status == 404);
    CHECK(missing.body == "404 page not found\n");
    // Without Origin, no CORS headers.
    CHECK(f.Get("/api/v1/query?query=1").Header("access-control-allow-origin").empty());
  }
  SECTION("a restricted origin regex echoes matching origins only") {
    web::ApiOptions o;
    o.cors_origin = R"(https?://(a|b)\.com)";
    ApiFixture f(o);
    f.engine.Set("1", Scalar(0, 1));
    auto ok = HttpRequestRaw(f.port,
                             "GET /api/v1/query?query=1 HTTP/1.1\r\nHost: x\r\nOrigin: https://b.com"
                             "\r\nConnection: close\r\n\r\n");
    CHECK(ok.Header("access-control-allow-origin") == "https://b.com");
    auto no = HttpRequestRaw(f.port,
                             "GET /api/v1/query?query=1 HTTP/1.1\r\nHost: x\r\nOrigin: https://b.com.evil"
                             "\r\nConnection: close\r\n\r\n");
    CHECK(no.Header("access-control-allow-origin").empty());
    CHECK(no.Header("vary") == "Origin");
  }
  SECTION("a bad origin regex is refused") {
    web::ApiOptions o;
    o.cors_origin = "(";
    storage::MemStore store;
    testing::ScriptedEngine engine;
    ManualClock clock;
    auto a = web::Api::Make(o, store, engine, {}, clock, Logger::Discard());
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().message().find("--web.cors.origin") != std::string::npos);
  }
  SECTION("503 until ready") {
    ApiFixture f;
    f.web.SetReady(false);
    auto r = f.Get("/api/v1/status/buildinfo");
    CHECK(r.status == 503);
    CHECK(r.body == "Service Unavailable");
  }
  SECTION("gzip when accepted") {
    ApiFixture f;
    f.engine.SetValue("up", TwoUp(1000));
    auto r = HttpRequestRaw(f.port,
                            "GET /api/v1/query?query=up HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip"
                            "\r\nConnection: close\r\n\r\n");
    CHECK(r.status == 200);
    CHECK(r.Header("content-encoding") == "gzip");
    auto plain = web::GzipDecompress(r.body);
    REQUIRE(plain.ok());
    CHECK(*plain == f.Get("/api/v1/query?query=up").body);
  }
  SECTION("method not allowed") {
    ApiFixture f;
    auto r = HttpRequestRaw(f.port, "PUT /api/v1/query HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(r.status == 405);
    CHECK(r.Header("allow") == "GET, POST, OPTIONS");
  }
}

TEST_CASE("the API is served under --web.route-prefix", "[web][api]") {
  auto wo = ApiFixture::LocalWebOptions();
  wo.route_prefix = "/prometheus/";
  ApiFixture f({}, {}, wo);
  f.engine.Set("1+1", Scalar(4000, 2));
  auto r = f.Post("/prometheus/api/v1/query", "query=1%2B1&time=4");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  CHECK(f.Get("/api/v1/query?query=1").status == 404);
  CHECK(f.Get("/prometheus/api/v1/status/buildinfo").status == 200);
  // Handlers that read the path see it without the prefix.
  f.Add(Labels{{"__name__", "up"}, {"job", "api"}}, {{1000, 1}});
  auto values = f.Get("/prometheus/api/v1/label/job/values");
  CHECK(values.status == 200);
  CHECK(values.body == R"({"status":"success","data":["api"]})");
  CHECK(f.Get("/prometheus/api/v1/nope").status == 404);
}

TEST_CASE("request durations are recorded by API handler", "[web][api]") {
  ApiFixture f;
  f.engine.Set("1", Scalar(0, 1));
  REQUIRE(f.Get("/api/v1/query?query=1").status == 200);
  REQUIRE(f.Get("/api/v1/label/job/values").status == 200);
  auto m = f.Get("/metrics").body;
  CHECK(m.find(R"(prometheus_http_requests_total{code="200",handler="/api/v1/query"} 1)") !=
        std::string::npos);
  CHECK(m.find(R"(prometheus_http_request_duration_seconds_count{handler="/api/v1/query"} 1)") !=
        std::string::npos);
  CHECK(m.find(R"(handler="/api/v1/label/:name/values")") != std::string::npos);
}

TEST_CASE("many concurrent requests, and a long query does not delay others", "[web][api]") {
  ApiFixture f;
  f.engine.SetValue("up", TwoUp(1000));
  SECTION("concurrent clients all get complete answers") {
    std::string expected = f.Get("/api/v1/query?query=up").body;
    std::atomic<int> good{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < 16; ++i) {
      clients.emplace_back([&] {
        for (int j = 0; j < 20; ++j) good += f.Get("/api/v1/query?query=up").body == expected;
      });
    }
    for (auto& t : clients) t.join();
    CHECK(good == 16 * 20);
  }
  SECTION("slow queries occupy workers; status calls still answer at once") {
    f.engine.SetDelay(1500);
    std::vector<std::thread> slow;
    for (int i = 0; i < 6; ++i) {  // more than the 4 initial workers
      slow.emplace_back([&] { CHECK(f.Get("/api/v1/query?query=up").status == 200); });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto start = std::chrono::steady_clock::now();
    CHECK(f.Get("/api/v1/status/buildinfo").status == 200);
    CHECK(f.Get("/-/healthy").status == 200);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
    for (auto& t : slow) t.join();
  }
}

TEST_CASE("a client hanging up cancels its query", "[web][api]") {
  ApiFixture f;
  std::atomic<bool> saw_cancel{false};
  struct Watching final : web::QueryEngine {
    std::atomic<bool>* saw;
    Result<promql::QueryResult> Instant(storage::Queryable&, std::string_view, int64_t,
                                        const promql::QueryOptions& o) override {
      for (int i = 0; i < 250; ++i) {
        if (o.cancel != nullptr && o.cancel->load()) {
          saw->store(true);
          return Status(StatusCode::kCancelled, "query was canceled");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      return Status(StatusCode::kInternal, "not canceled");
    }
    Result<promql::QueryResult> Range(storage::Queryable& q, std::string_view s, int64_t a,
                                      int64_t, int64_t, const promql::QueryOptions& o) override {
      return Instant(q, s, a, o);
    }
  } engine;
  engine.saw = &saw_cancel;
  storage::MemStore store;
  ManualClock clock;
  metrics::Registry registry;
  web::WebServer web(ApiFixture::LocalWebOptions(), registry, Logger::Discard());
  auto api = web::Api::Make({}, store, engine, {}, clock, Logger::Discard());
  REQUIRE(api.ok());
  (*api)->Register(web);
  REQUIRE(web.Start().ok());
  web.SetReady(true);
  int fd = hearth::testing::ConnectLoopback(web.port());
  std::string req = "GET /api/v1/query?query=slow HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(send(fd, req.data(), req.size(), MSG_NOSIGNAL) > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  close(fd);
  for (int i = 0; i < 200 && !saw_cancel; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(saw_cancel);
  // The canceled query is counted with Prometheus' status code.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(hearth::testing::HttpGet(web.port(), "/metrics").body.find(
            R"(prometheus_http_requests_total{code="499",handler="/api/v1/query"} 1)") !=
        std::string::npos);
  web.Stop();
}
