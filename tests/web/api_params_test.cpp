#include <catch2/catch.hpp>

#include "web/api_params.h"
#include "web/compress.h"

using namespace hearth;
using namespace hearth::web;

namespace {
HttpRequest Post(std::string query, std::string body,
                 std::string content_type = "application/x-www-form-urlencoded") {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/v1/query";
  r.query = std::move(query);
  r.body = std::move(body);
  r.headers.emplace_back("content-type", std::move(content_type));
  return r;
}
}  // namespace

TEST_CASE("form merges body and URL parameters, body first", "[web][api]") {
  auto f = Form::Parse(Post("time=1&timeout=5s&match%5B%5D=a", "query=1%2B1&time=4&match[]=b"));
  REQUIRE(f.ok());
  CHECK(f->Value("query") == "1+1");
  CHECK(f->Value("time") == "4");  // the body wins
  CHECK(f->Value("timeout") == "5s");
  CHECK(f->Values("match[]") == std::vector<std::string_view>{"b", "a"});
  CHECK(f->Value("missing").empty());
  CHECK_FALSE(f->Has("missing"));

  SECTION("charset in the content type is accepted") {
    auto g = Form::Parse(Post("", "query=up", "application/x-www-form-urlencoded;charset=UTF-8"));
    REQUIRE(g.ok());
    CHECK(g->Value("query") == "up");
  }
  SECTION("other content types leave the body alone") {
    auto g = Form::Parse(Post("a=1", "query=up", "application/json"));
    REQUIRE(g.ok());
    CHECK(g->Value("query").empty());
    CHECK(g->Value("a") == "1");
  }
  SECTION("GET bodies are not forms") {
    HttpRequest r = Post("", "query=up");
    r.method = "GET";
    auto g = Form::Parse(r);
    REQUIRE(g.ok());
    CHECK_FALSE(g->Has("query"));
  }
  SECTION("bad escapes fail") {
    auto g = Form::Parse(Post("q=%zz", ""));
    REQUIRE_FALSE(g.ok());
    CHECK(g.status().message() == "invalid URL escape \"%zz\"");
  }
}

TEST_CASE("API times parse as Prometheus' parseTime", "[web][api]") {
  CHECK(*ParseTime("4") == 4000);
  CHECK(*ParseTime("1712345678.123") == 1712345678123);
  CHECK(*ParseTime("1712345678.1234567") == 1712345678123);  // promtool's precision
  CHECK(*ParseTime("1712345678.9996") == 1712345679000);
  CHECK(*ParseTime("-1.5") == -1500);
  // Milliseconds sent as seconds (Grafana's exemplar probe): year ~56000, still valid.
  CHECK(*ParseTime("1712345678000") == 1712345678000000);
  CHECK(*ParseTime("2015-07-01T20:10:51.781Z") == 1435781451781);
  CHECK(*ParseTime("2015-07-01T22:10:51+02:00") == 1435781451000);
  CHECK(*ParseTime("-292273086-05-16T16:47:06Z") == kApiMinTime);
  CHECK(*ParseTime("292277025-08-18T07:12:54.999999999Z") == kApiMaxTime);
  auto bad = ParseTime("abc");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "cannot parse \"abc\" to a valid timestamp");
  CHECK_FALSE(ParseTime("1e400").ok());
  CHECK_FALSE(ParseTime("").ok());

  auto form = Form::FromQueryString("time=abc&start=10");
  REQUIRE(form.ok());
  CHECK(*ParseTimeParam(*form, "end", 77) == 77);
  CHECK(*ParseTimeParam(*form, "start", 77) == 10000);
  auto e = ParseTimeParam(*form, "time", 0);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message() ==
        "Invalid time value for 'time': cannot parse \"abc\" to a valid timestamp");
}

TEST_CASE("API durations, limits and booleans", "[web][api]") {
  CHECK(*ParseDurationParam("15") == 15000);
  CHECK(*ParseDurationParam("0.5") == 500);
  CHECK(*ParseDurationParam("1m0s") == 60000);  // Grafana's $__rate_interval form
  CHECK(*ParseDurationParam("1h30m") == 5400000);
  auto bad = ParseDurationParam("abc");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "cannot parse \"abc\" to a valid duration");

  CHECK(*ParseLimitParam("") == 0);
  CHECK(*ParseLimitParam("40000") == 40000);
  CHECK(ParseLimitParam("-1").status().message() == "limit must be non-negative");
  CHECK(ParseLimitParam("x").status().message() ==
        "strconv.Atoi: parsing \"x\": invalid syntax");
  CHECK(ParseLimitParam("99999999999999999999").status().message() ==
        "strconv.Atoi: parsing \"99999999999999999999\": value out of range");

  CHECK(*ParseGoBool("true"));
  CHECK(*ParseGoBool("1"));
  CHECK_FALSE(*ParseGoBool("F"));
  CHECK(ParseGoBool("yes").status().message() ==
        "strconv.ParseBool: parsing \"yes\": invalid syntax");
}

TEST_CASE("U__ label names unescape as Prometheus' value encoding", "[web][api]") {
  CHECK(UnescapeLabelName("job") == "job");
  CHECK(UnescapeLabelName("U__my_2e_label") == "my.label");
  CHECK(UnescapeLabelName("U__a__b") == "a_b");
  CHECK(UnescapeLabelName("U___1f600_") == "\U0001F600");
  CHECK(UnescapeLabelName("U___1F600_") == "\U0001F600");
  // Malformed escapes give the name back unchanged.
  CHECK(UnescapeLabelName("U__a_zz_") == "U__a_zz_");
  CHECK(UnescapeLabelName("U__a_") == "U__a_");
  CHECK(UnescapeLabelName("U__a_2e") == "U__a_2e");
  CHECK(UnescapeLabelName("U___d800_") == "U___d800_");      // surrogate
  CHECK(UnescapeLabelName("U___10ffff_") == "U___10ffff_");  // six digits: too long for Go
}

TEST_CASE("gzip round-trips and Accept-Encoding is read", "[web][gzip]") {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += "{\"metric\":{\"__name__\":\"up\"},\"value\":[1,\"1\"]}";
  std::string z = GzipCompress(data);
  CHECK(z.size() < data.size() / 10);
  CHECK(static_cast<unsigned char>(z[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(z[1]) == 0x8b);
  auto back = GzipDecompress(z);
  REQUIRE(back.ok());
  CHECK(*back == data);
  CHECK_FALSE(GzipDecompress(z.substr(0, z.size() / 2)).ok());
  CHECK_FALSE(GzipDecompress("not gzip").ok());
  CHECK(GzipDecompress(z, 100).status().code() == StatusCode::kResourceExhausted);

  CHECK(AcceptsGzip("gzip"));
  CHECK(AcceptsGzip("deflate, gzip;q=1.0, *;q=0.5"));
  CHECK(AcceptsGzip("GZIP"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(AcceptsGzip("deflate, br"));
  CHECK_FALSE(AcceptsGzip(""));
}
