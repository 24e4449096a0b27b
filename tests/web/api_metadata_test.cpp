// /series, /labels, /label/<name>/values, /metadata, /query_exemplars, /format_query,
// /parse_query on a MemStore with the real PromQL parser.

#include <catch2/catch.hpp>

#include "tests/web/api_fixture.h"

using namespace hearth;
using hearth::testing::ApiFixture;
using hearth::testing::HttpRequestRaw;

namespace {

// Three series of two metrics, samples at 1000..3000 ms.
void AddSeries(ApiFixture& f) {
  f.Add(Labels{{"__name__", "up"}, {"job", "api"}, {"instance", "a:1"}}, {{1000, 1}, {3000, 1}});
  f.Add(Labels{{"__name__", "up"}, {"job", "node"}, {"instance", "b:1"}}, {{1000, 0}});
  f.Add(Labels{{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "200"}},
        {{2000, 5}});
}

std::string Ok(const std::string& data) { return R"({"status":"success","data":)" + data + "}"; }
std::string Err(const std::string& msg) {
  return R"({"status":"error","errorType":"bad_data","error":")" + msg + "\"}";
}

}  // namespace

TEST_CASE("series: match[] is required and selects, GET or POST", "[web][api]") {
  ApiFixture f;
  AddSeries(f);
  const std::string up_a = R"({"__name__":"up","instance":"a:1","job":"api"})";
  const std::string up_b = R"({"__name__":"up","instance":"b:1","job":"node"})";
  const std::string http = R"({"__name__":"http_requests_total","code":"200","job":"api"})";
  CHECK(f.Get("/api/v1/series?match[]=up").body == Ok("[" + up_a + "," + up_b + "]"));
  CHECK(f.Post("/api/v1/series", "match%5B%5D=up&match%5B%5D=%7Bjob%3D%22api%22%7D").body ==
        Ok("[" + http + "," + up_a + "," + up_b + "]"));
  // Grafana's metrics browser in series mode.
  CHECK(f.Post("/api/v1/series",
               "end=1712349240&limit=40000&match%5B%5D=%7B__name__%21%3D%22%22%7D&start=0")
            .body == Ok("[" + http + "," + up_a + "," + up_b + "]"));
  CHECK(f.Get("/api/v1/series?match[]=nothing").body == Ok("[]"));
  // Time range: only series with samples inside.
  CHECK(f.Get("/api/v1/series?match[]=up&start=2.5&end=4").body == Ok("[" + up_a + "]"));

  auto none = f.Get("/api/v1/series");
  CHECK(none.status == 400);
  CHECK(none.body == Err("no match[] parameter provided"));
  auto empty = f.Get("/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D");
  CHECK(empty.status == 400);
  CHECK(empty.body ==
        Err(R"(invalid parameter \"match[]\": match[] must contain at least one non-empty matcher)"));
  auto bad = f.Get("/api/v1/series?match[]=up%7B");
  CHECK(bad.status == 400);
  CHECK(bad.body.find(R"(invalid parameter \"match[]\": 1:)") != std::string::npos);
  auto limited = f.Get("/api/v1/series?match[]=up&limit=1");
  CHECK(limited.body == R"({"status":"success","data":[)" + up_a +
                            R"(],"warnings":["results truncated due to limit"]})");
  CHECK(f.Get("/api/v1/series?match[]=up&limit=2").body.find("warnings") == std::string::npos);
}

TEST_CASE("labels: names, match[], limit with warning", "[web][api]") {
  ApiFixture f;
  AddSeries(f);
  CHECK(f.Get("/api/v1/labels").body == Ok(R"(["__name__","code","instance","job"])"));
  CHECK(f.Post("/api/v1/labels", "match%5B%5D=up").body ==
        Ok(R"(["__name__","instance","job"])"));
  CHECK(f.Post("/api/v1/labels", "match%5B%5D=up&match%5B%5D=http_requests_total").body ==
        Ok(R"(["__name__","code","instance","job"])"));
  // Grafana: limit=40000 and integer-second times.
  CHECK(f.Get("/api/v1/labels?limit=40000&start=0&end=1712349240").body ==
        Ok(R"(["__name__","code","instance","job"])"));
  CHECK(f.Get("/api/v1/labels?limit=2").body ==
        R"({"status":"success","data":["__name__","code"],)"
        R"("warnings":["results truncated due to limit"]})");
  CHECK(f.Get("/api/v1/labels?start=100&end=200").body == Ok("[]"));
  CHECK(f.Get("/api/v1/labels?start=x").status == 400);
}

TEST_CASE("label values: GET only, U__ names, match[], limit", "[web][api]") {
  ApiFixture f;
  AddSeries(f);
  f.Add(Labels{{"__name__", "odd"}, {"my.label", "v1"}}, {{1000, 1}});
  CHECK(f.Get("/api/v1/label/job/values").body == Ok(R"(["api","node"])"));
  CHECK(f.Get("/api/v1/label/__name__/values?limit=40000&start=0&end=1712349240").body ==
        Ok(R"(["http_requests_total","odd","up"])"));
  CHECK(f.Get("/api/v1/label/job/values?match[]=http_requests_total").body == Ok(R"(["api"])"));
  CHECK(f.Get("/api/v1/label/job/values?match[]=http_requests_total&match[]=%7Bjob%3D%22node%22%7D")
            .body == Ok(R"(["api","node"])"));
  CHECK(f.Get("/api/v1/label/U__my_2e_label/values").body == Ok(R"(["v1"])"));
  CHECK(f.Get("/api/v1/label/nope/values").body == Ok("[]"));
  CHECK(f.Get("/api/v1/label/__name__/values?limit=1").body ==
        R"({"status":"success","data":["http_requests_total"],)"
        R"("warnings":["results truncated due to limit"]})");
  // Grafana's resource client retries a 405 as GET.
  auto post = f.Post("/api/v1/label/job/values", "");
  CHECK(post.status == 405);
  CHECK(post.Header("allow") == "GET, OPTIONS");
  auto bad = f.Get("/api/v1/label/U___zz_/values");  // malformed escape: kept as is, valid UTF-8
  CHECK(bad.status == 200);
  auto invalid = f.Get("/api/v1/label/%FF/values");
  CHECK(invalid.status == 400);
  CHECK(invalid.body == Err(R"(invalid label name: \"\\xff\")"));
  CHECK(f.Get("/api/v1/label/job/other").status == 404);
  CHECK(f.Get("/api/v1/label/a/b/values").status == 404);
}

TEST_CASE("metadata: per metric, limit, metric filter", "[web][api]") {
  ApiFixture f;
  auto app = f.store.NewAppender();
  REQUIRE(app->UpdateMetadata(Labels{{"__name__", "http_requests_total"}},
                              {MetricType::kCounter, "Requests.", ""}).ok());
  REQUIRE(app->UpdateMetadata(Labels{{"__name__", "temp"}},
                              {MetricType::kGauge, "Temperature.", "celsius"}).ok());
  REQUIRE(app->Commit().ok());
  const std::string http = R"("http_requests_total":[{"type":"counter","help":"Requests.","unit":""}])";
  const std::string temp = R"("temp":[{"type":"gauge","help":"Temperature.","unit":"celsius"}])";
  CHECK(f.Get("/api/v1/metadata").body == Ok("{" + http + "," + temp + "}"));
  CHECK(f.Get("/api/v1/metadata?limit=40000").body == Ok("{" + http + "," + temp + "}"));
  CHECK(f.Get("/api/v1/metadata?limit=1").body == Ok("{" + http + "}"));
  CHECK(f.Get("/api/v1/metadata?limit=0").body == Ok("{}"));
  CHECK(f.Get("/api/v1/metadata?metric=temp").body == Ok("{" + temp + "}"));
  CHECK(f.Get("/api/v1/metadata?limit_per_metric=0&metric=temp").body == Ok(R"({"temp":[]})"));
  CHECK(f.Get("/api/v1/metadata?limit=x").body == Err("limit must be a number"));
  CHECK(f.Get("/api/v1/metadata?limit_per_metric=x").body == Err("limit_per_metric must be a number"));
}

TEST_CASE("query_exemplars: [] for selectors, 204 without, any time size", "[web][api]") {
  ApiFixture f;
  // Grafana's probe on data-source load: milliseconds sent as seconds.
  auto probe = f.Post("/api/v1/query_exemplars",
                      "query=test&start=1712343878123&end=1712345678123");
  CHECK(probe.status == 200);
  CHECK(probe.body == Ok("[]"));
  CHECK(f.Get("/api/v1/query_exemplars?query=rate(x%5B5m%5D)").body == Ok("[]"));
  auto scalar = f.Get("/api/v1/query_exemplars?query=1%2B1");
  CHECK(scalar.status == 204);
  CHECK(scalar.body.empty());
  CHECK(f.Get("/api/v1/query_exemplars?query=x&start=10&end=5").body ==
        Err("end timestamp must not be before start timestamp"));
  CHECK(f.Get("/api/v1/query_exemplars?query=x(").status == 400);
}

TEST_CASE("format_query and parse_query", "[web][api]") {
  ApiFixture f;
  auto fq = f.Post("/api/v1/format_query", "query=sum(rate(x%5B5m%5D))by(job)");
  CHECK(fq.status == 200);
  CHECK(fq.body.rfind(R"({"status":"success","data":"sum by (job) ()", 0) == 0);
  auto bad = f.Get("/api/v1/format_query?query=sum(");
  CHECK(bad.status == 400);
  CHECK(bad.body.find(R"(invalid parameter \"query\": 1:)") != std::string::npos);

  auto vs = f.Get("/api/v1/parse_query?query=up%7Bjob%3D%22a%22%7D%20offset%205m").body;
  bool name_first =
      vs == Ok(R"({"matchers":[{"name":"__name__","type":"=","value":"up"},)"
               R"({"name":"job","type":"=","value":"a"}],"name":"up","offset":300000,)"
               R"("startOrEnd":null,"timestamp":null,"type":"vectorSelector"})");
  bool name_last =
      vs == Ok(R"({"matchers":[{"name":"job","type":"=","value":"a"},)"
               R"({"name":"__name__","type":"=","value":"up"}],"name":"up","offset":300000,)"
               R"("startOrEnd":null,"timestamp":null,"type":"vectorSelector"})");
  INFO(vs);
  CHECK((name_first || name_last));
  auto agg = f.Get("/api/v1/parse_query?query=sum%20by%20(job)%20(rate(x%5B1m%5D%20%40%20end()))").body;
  CHECK(agg.rfind(R"({"status":"success","data":{"expr":{"args":[{"matchers":)", 0) == 0);
  CHECK(agg.find(R"("range":60000,"startOrEnd":"end","timestamp":null,"type":"matrixSelector"})") !=
        std::string::npos);
  CHECK(agg.find(R"("func":{"argTypes":["matrix"],"name":"rate","returnType":"vector","variadic":0},"type":"call"})") !=
        std::string::npos);
  CHECK(agg.find(R"("grouping":["job"],"op":"sum","param":null,"type":"aggregation","without":false})") !=
        std::string::npos);
  auto bin = f.Get("/api/v1/parse_query?query=a%20%2F%20on(x)%20group_left%20b").body;
  CHECK(bin.find(R"("matching":{"card":"many-to-one","include":[],"labels":["x"],"on":true})") !=
        std::string::npos);
  CHECK(f.Get("/api/v1/parse_query?query=1").body ==
        Ok(R"({"type":"numberLiteral","val":"1"})"));
}
