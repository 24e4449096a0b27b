// The test-script format of tests/query/promqltest: series notation, commands, expectations.

#include <cmath>

#include <catch2/catch.hpp>

#include "model/sample.h"
#include "tests/query/promqltest/script.h"

namespace hearth::promqltest {
namespace {

using Kind = SeriesValue::Kind;

std::vector<double> Floats(const std::vector<SeriesValue>& v) {
  std::vector<double> out;
  for (const auto& x : v) out.push_back(x.kind == Kind::kFloat ? x.v : -999);
  return out;
}

TEST_CASE("series notation: a+bxN, a-bxN, axN, _, _xN, stale", "[promqltest]") {
  auto v = ParseValueSequence("0+10x3 8000-10x2 5x2 _ _x2 stale 1e-6 -Inf NaN .5");
  REQUIRE(v.ok());
  REQUIRE(v->size() == 18);
  CHECK(Floats(*v)[0] == 0);
  CHECK(Floats(*v)[3] == 30);
  CHECK(Floats(*v)[4] == 8000);
  CHECK(Floats(*v)[6] == 7980);
  CHECK(Floats(*v)[7] == 5);
  CHECK(Floats(*v)[9] == 5);
  CHECK((*v)[10].kind == Kind::kOmitted);
  CHECK((*v)[12].kind == Kind::kOmitted);
  CHECK(IsStaleNaN((*v)[13].v));
  CHECK((*v)[14].v == 1e-6);
  CHECK(std::isinf((*v)[15].v));
  CHECK((*v)[15].v < 0);
  CHECK(std::isnan((*v)[16].v));
  CHECK_FALSE(IsStaleNaN((*v)[16].v));
  CHECK((*v)[17].v == 0.5);
}

TEST_CASE("series notation: x0 is one value and big numbers parse as floats", "[promqltest]") {
  auto v = ParseValueSequence("0x59 60 18547707689471986212190138521399707760 1.78264E+50");
  REQUIRE(v.ok());
  REQUIRE(v->size() == 63);
  CHECK((*v)[60].v == 60);
  CHECK((*v)[61].v == Approx(1.8547707689471986e37));
  CHECK((*v)[62].v == 1.78264e50);
}

TEST_CASE("series notation: histograms are recognized and counted", "[promqltest]") {
  auto v = ParseValueSequence(
      "{{schema:0 sum:1 count:1}}x2 0 {{sum:6 count:6}}+{{sum:3 count:3}}x5 "
      "{{schema:1 sum:15 count:10 buckets:[3 2 5 7 9]}}");
  REQUIRE(v.ok());
  REQUIRE(v->size() == 3 + 1 + 6 + 1);
  CHECK((*v)[0].kind == Kind::kHistogram);
  CHECK((*v)[3].kind == Kind::kFloat);
  CHECK((*v)[10].kind == Kind::kHistogram);
}

TEST_CASE("series notation: bad values are errors", "[promqltest]") {
  CHECK_FALSE(ParseValueSequence("1+x3").ok());
  CHECK_FALSE(ParseValueSequence("abc").ok());
  CHECK_FALSE(ParseValueSequence("_xq").ok());
}

TEST_CASE("metric descriptions: names, quoted labels, UTF-8 names", "[promqltest]") {
  auto d = ParseSeriesDesc(
      R"(http_requests{job="api-server", instance="0", group="production"}	0+10x2)");
  REQUIRE(d.ok());
  CHECK(d->labels == Labels{{"__name__", "http_requests"},
                            {"job", "api-server"},
                            {"instance", "0"},
                            {"group", "production"}});
  CHECK(d->values.size() == 3);

  auto e = ParseSeriesDesc(R"({__name__="metric", a='x\ty', "b.c"=`raw\n`} 1)");
  REQUIRE(e.ok());
  CHECK(e->labels.Get("a") == "x\ty");
  CHECK(e->labels.Get("b.c") == "raw\\n");
  CHECK(e->labels.MetricName() == "metric");

  auto f = ParseSeriesDesc(R"({"my.metric", env="1"} 2)");
  REQUIRE(f.ok());
  CHECK(f->labels.MetricName() == "my.metric");

  auto g = ParseSeriesDesc(R"(node_namespace_pod:kube_pod_info:{ns="o",} 1)");
  REQUIRE(g.ok());
  CHECK(g->labels.MetricName() == "node_namespace_pod:kube_pod_info:");

  auto h = ParseSeriesDesc(R"({version="{count:20, sum:10, [-2,-1):2}"} 2)");
  REQUIRE(h.ok());
  CHECK(h->labels.Get("version") == "{count:20, sum:10, [-2,-1):2}");

  auto empty = ParseSeriesDesc("{} 1");
  REQUIRE(empty.ok());
  CHECK(empty->labels.empty());
}

TEST_CASE("scalar expectation lines", "[promqltest]") {
  CHECK(*ParseScalarLine("12340000") == 12340000);
  CHECK(*ParseScalarLine("-0.0000002") == -0.0000002);
  CHECK(std::isinf(*ParseScalarLine("+Inf")));
  CHECK(std::isnan(*ParseScalarLine("NaN")));
  CHECK(*ParseScalarLine("0x10") == 16);
  CHECK_FALSE(ParseScalarLine("{} 1"));
  CHECK_FALSE(ParseScalarLine("metric 1"));
}

TEST_CASE("scripts: load, clear and evals with every expect form", "[promqltest]") {
  const char* text = R"(# comment
load 5m
  metric{a="b"} 0+1x2
  h {{schema:0 sum:1 count:1}}

load_with_nhcb 1m
  x_bucket{le="1"} 1

eval instant at 10m metric
  expect no_warn
  expect info regex: PromQL info: .* \(1:1\)
  metric{a="b"} 2

eval_ordered instant at 0 sort(metric)
  metric{a="b"} 0

eval range from 0 to 10m step 5m -metric
  expect warn msg: PromQL warning: hi (1:2)
  {a="b"} 0 -1 _

eval instant at 1m missing
  expect fail msg: something

eval instant at 1m 1.5
  1.5

eval_fail instant at 0 x
  expected_fail_message vector cannot contain metrics with the same labelset

eval instant at 50m "Foo"
  expect string `Foo`

eval instant at 1m metric[1m]
  expect range vector from 10s to 1m step 10s
  metric{a="b"} 1 2

clear
)";
  auto cmds = ParseScript(text);
  INFO(cmds.status().ToString());
  REQUIRE(cmds.ok());
  REQUIRE(cmds->size() == 11);
  const auto& load = std::get<LoadCmd>((*cmds)[0]);
  CHECK(load.line == 2);
  CHECK(load.gap == 5 * 60 * 1000);
  REQUIRE(load.series.size() == 2);
  CHECK(std::get<LoadCmd>((*cmds)[1]).with_nhcb);

  const auto& e1 = std::get<EvalCmd>((*cmds)[2]);
  CHECK(e1.line == 9);
  CHECK(e1.expr == "metric");
  CHECK(e1.eval_time == 10 * 60 * 1000);
  CHECK(e1.Has(Expectation::Type::kNoWarn));
  REQUIRE(e1.expects.size() == 2);
  CHECK(e1.expects[1].regex == R"(PromQL info: .* \(1:1\))");
  REQUIRE(e1.series.size() == 1);
  CHECK(e1.series[0].pos == 1);

  CHECK(std::get<EvalCmd>((*cmds)[3]).IsOrdered());
  const auto& r = std::get<EvalCmd>((*cmds)[4]);
  CHECK(r.is_range);
  CHECK(r.step == 5 * 60 * 1000);
  CHECK(r.expects[0].message == "PromQL warning: hi (1:2)");
  CHECK(r.series[0].values[2].kind == Kind::kOmitted);

  const auto& f = std::get<EvalCmd>((*cmds)[5]);
  CHECK(f.IsFail());
  const auto& s = std::get<EvalCmd>((*cmds)[6]);
  CHECK(s.expect_scalar);
  CHECK(s.scalar == 1.5);
  const auto& old = std::get<EvalCmd>((*cmds)[7]);
  CHECK(old.fail);
  CHECK(old.expected_fail_message == "vector cannot contain metrics with the same labelset");
  const auto& str = std::get<EvalCmd>((*cmds)[8]);
  CHECK(str.expected_string == "Foo");
  CHECK(str.exclude_from_range);
  const auto& rv = std::get<EvalCmd>((*cmds)[9]);
  CHECK(rv.range_vector);
  CHECK(rv.start == 10000);
  CHECK(rv.end == 60000);
  CHECK(rv.step == 10000);
  CHECK(std::holds_alternative<ClearCmd>((*cmds).back()));
}

TEST_CASE("scripts: malformed commands are errors naming the line", "[promqltest]") {
  auto a = ParseScript("load 5m\n  m 1\n\nevaluate now\n");
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().message().rfind("line 4:", 0) == 0);
  auto b = ParseScript("eval instant at 1m x\n  expect warn\n  expect no_warn\n");
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().message().find("warn and no_warn") != std::string::npos);
  auto c = ParseScript("eval instant at 1m x\n  x 1 2\n");
  REQUIRE_FALSE(c.ok());
  auto d = ParseScript("load 5m\n  m 1+x\n");
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().message().rfind("line 2:", 0) == 0);
}

}  // namespace
}  // namespace hearth::promqltest
