// The PromQL parser and printer on valid input: canonical output (Prometheus' Expr.String()),
// the shape of the tree (precedence, modifiers, values), round trips and Prettify.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "query/parser/functions.h"
#include "query/parser/parser.h"

namespace hearth::promql {
namespace {

ExprPtr MustParse(const std::string& q) {
  auto r = ParseExpr(q);
  INFO("query: " << q);
  if (!r.ok()) FAIL("parse failed: " << r.status().message());
  return std::move(r).value();
}

template <typename T>
const T& As(const Expr& e, NodeKind k) {
  REQUIRE(e.kind == k);
  return static_cast<const T&>(e);
}

struct FormatCase {
  const char* input;
  const char* canonical;
};

// Inputs and Prometheus' canonical form of them. Where Prometheus 2.42 and 3.x agree the
// expected strings were checked against the Prometheus 2.42 /api/v1/format_query on this
// machine; the rest follow 3.x's printer (numbers as ranges, quoted names, duration literals).
const FormatCase kFormatCases[] = {
    // Literals.
    {"1", "1"},
    {"+1", "1"},
    {"-1", "-1"},
    {".5", "0.5"},
    {"5.", "5"},
    {"123.4567", "123.4567"},
    {"5e-3", "0.005"},
    {"5e3", "5000"},
    {"1e21", "1000000000000000000000"},
    {"0xc", "12"},
    {"0x1F", "31"},
    {"0X_1F", "31"},
    {"0755", "493"},
    {"-0755", "-493"},
    {"08", "8"},
    {"1_000", "1000"},
    {"1_000.5", "1000.5"},
    {"+5.5e-3", "0.0055"},
    {"Inf", "+Inf"},
    {"+Inf", "+Inf"},
    {"-Inf", "-Inf"},
    {"inf", "+Inf"},
    {"NaN", "NaN"},
    {"nan", "NaN"},
    {"-NaN", "NaN"},
    {"- - 1", "1"},
    {"-(1)", "-(1)"},
    {"5m", "5m"},
    {"-5m", "-5m"},
    {"1h30m", "1h30m"},
    {"1h0m0s", "1h"},
    {"90s", "1m30s"},
    {R"("double-quoted string \" with escaped quote")",
     R"("double-quoted string \" with escaped quote")"},
    {R"('single-quoted string \' with escaped quote')",
     R"("single-quoted string ' with escaped quote")"},
    {"`backtick-quoted string`", R"("backtick-quoted string")"},
    {R"("\a\b\f\n\r\t\v\\\" - \u1234\U00010111☺")", R"("\a\b\f\n\r\t\v\\\" - ሴ𐄑☺")"},
    {R"('\a\b\f\n\r\t\v\\\' - ☺')", R"("\a\b\f\n\r\t\v\\' - ☺")"},
    {R"("\101\x42")", R"("AB")"},
    {"`\\a\\n`", R"("\\a\\n")"},
    {"`multi\nline`", R"("multi\nline")"},

    // Selectors.
    {"foo", "foo"},
    {"foo:bar", "foo:bar"},
    {"min", "min"},
    {"sum", "sum"},
    {"by", "by"},
    {"start", "start"},
    {"end", "end"},
    {"offset", "offset"},
    {"OFFSET", "OFFSET"},
    {"fill", "fill"},
    {R"(foo{a="b"})", R"(foo{a="b"})"},
    {R"(foo{a="b",})", R"(foo{a="b"})"},
    {R"(foo{ a = "b" , c != 'd' })", R"(foo{a="b",c!="d"})"},
    {R"(foo{c=~"x.*", b!~"y", a="z"})", R"(foo{a="z",b!~"y",c=~"x.*"})"},
    {R"(foo:bar{a="bc"})", R"(foo:bar{a="bc"})"},
    {R"({__name__="foo"})", R"({__name__="foo"})"},
    {R"({__name__=~"foo|bar"})", R"({__name__=~"foo|bar"})"},
    {R"({__name__="bar", __name__="baz"})", R"({__name__="bar",__name__="baz"})"},
    {R"({"foo"})", R"({__name__="foo"})"},
    {R"({"my.metric", a="b"})", R"({__name__="my.metric",a="b"})"},
    {R"({"my.metric", "label.name"="v"})", R"({"label.name"="v",__name__="my.metric"})"},
    {R"({'foo\'bar', 'a\\dos\\path'='boo\\urns'})",
     R"({"a\\dos\\path"="boo\\urns",__name__="foo'bar"})"},
    {R"(foo{NaN='bc'})", R"(foo{NaN="bc"})"},
    {R"(foo{bar='}'})", R"(foo{bar="}"})"},
    {R"(offset{step="1s"}[5m])", R"(offset{step="1s"}[5m])"},
    {R"(step{offset="1s"}[5m])", R"(step{offset="1s"}[5m])"},
    {R"(sum{job="a"})", R"(sum{job="a"})"},
    {R"(foo{a=""})", R"(foo{a=""})"},
    {"foo # a comment\n", "foo"},
    {"# leading comment\nfoo", "foo"},

    // Ranges, offsets, @.
    {"foo[5m]", "foo[5m]"},
    {"foo[1000ms]", "foo[1s]"},
    {"foo[1001ms]", "foo[1s1ms]"},
    {"foo[5m30s]", "foo[5m30s]"},
    {"foo[1m0s]", "foo[1m]"},
    {"foo[1h0m0s]", "foo[1h]"},
    {"foo[90m]", "foo[1h30m]"},
    {"foo[14d]", "foo[2w]"},
    {"foo[5y]", "foo[5y]"},
    {"foo[ 5m ]", "foo[5m]"},
    {"foo[5]", "foo[5s]"},
    {"foo[4.018]", "foo[4s18ms]"},
    {"foo[+5m]", "foo[5m]"},
    {"test[5h] OFFSET 5m", "test[5h] offset 5m"},
    {"test[5d] OFFSET 10s", "test[5d] offset 10s"},
    {R"(test{a="b"}[5y] OFFSET 3d)", R"(test{a="b"}[5y] offset 3d)"},
    {R"(test{a="b"}[5m] OFFSET 3600)", R"(test{a="b"}[5m] offset 1h)"},
    {"foo offset 5m", "foo offset 5m"},
    {"foo offset -7m", "foo offset -7m"},
    {"foo offset +7m", "foo offset 7m"},
    {"foo OFFSET 1h30m", "foo offset 1h30m"},
    {"foo OFFSET 1m30ms", "foo offset 1m30ms"},
    {"foo offset 0s", "foo"},
    {"foo offset 1.5", "foo offset 1s500ms"},
    {"foo @ 1603774568", "foo @ 1603774568.000"},
    {"foo @ -100", "foo @ -100.000"},
    {"foo @ +100", "foo @ 100.000"},
    {"foo @ .3", "foo @ 0.300"},
    {"foo @ 3.", "foo @ 3.000"},
    {"foo @ 3.33", "foo @ 3.330"},
    {"foo @ 3.3333", "foo @ 3.333"},
    {"foo @ 3.3335", "foo @ 3.334"},
    {"foo @ 3e2", "foo @ 300.000"},
    {"foo @ 0xA", "foo @ 10.000"},
    {"foo @ 1m", "foo @ 60.000"},
    {"foo @ start()", "foo @ start()"},
    {"foo @ end()", "foo @ end()"},
    {"foo @ START()", "foo @ start()"},
    {"foo[3ms] @ 2.345", "foo[3ms] @ 2.345"},
    {"foo[4s180ms] @ 2.345", "foo[4s180ms] @ 2.345"},
    {"foo @ 10 offset 5m", "foo @ 10.000 offset 5m"},
    {"foo offset 5m @ 10", "foo @ 10.000 offset 5m"},
    {"foo[5m] @ 10 offset 5m", "foo[5m] @ 10.000 offset 5m"},
    {"foo[5m] offset 5m @ end()", "foo[5m] @ end() offset 5m"},
    {"foo @ start() [5m]", "foo[5m] @ start()"},
    {"test[5y] @ start()", "test[5y] @ start()"},

    // Subqueries.
    {R"(foo{bar="baz"}[10m:6s])", R"(foo{bar="baz"}[10m:6s])"},
    {R"(foo{bar="baz"}[10m5s:1h6ms])", R"(foo{bar="baz"}[10m5s:1h6ms])"},
    {"foo[10m:]", "foo[10m:]"},
    {"foo[5m:1m]", "foo[5m:1m]"},
    {"foo[5m : 1m]", "foo[5m:1m]"},
    {"foo[300:60]", "foo[5m:1m]"},
    {R"(min_over_time(rate(foo{bar="baz"}[2s])[5m:5s]))",
     R"(min_over_time(rate(foo{bar="baz"}[2s])[5m:5s]))"},
    {R"(min_over_time(rate(foo{bar="baz"}[2s])[5m:])[4m:3s])",
     R"(min_over_time(rate(foo{bar="baz"}[2s])[5m:])[4m:3s])"},
    {R"(min_over_time(rate(foo{bar="baz"}[2s])[5m:] offset 4m)[4m:3s])",
     R"(min_over_time(rate(foo{bar="baz"}[2s])[5m:] offset 4m)[4m:3s])"},
    {R"(min_over_time(rate(foo{bar="baz"}[2s])[5m:] @ 1603775091)[4m:3s])",
     R"(min_over_time(rate(foo{bar="baz"}[2s])[5m:] @ 1603775091.000)[4m:3s])"},
    {"sum without(and, by, avg, count, alert, annotations)(some_metric) [30m:10s]",
     "sum without (and, by, avg, count, alert, annotations) (some_metric)[30m:10s]"},
    {"some_metric OFFSET 1m [10m:5s]", "some_metric offset 1m[10m:5s]"},
    {"some_metric @ 123 [10m:5s]", "some_metric @ 123.000[10m:5s]"},
    {"some_metric @ 123 offset 1m [10m:5s]", "some_metric @ 123.000 offset 1m[10m:5s]"},
    {"some_metric[10m:5s] offset 1m @ 123", "some_metric[10m:5s] @ 123.000 offset 1m"},
    {R"((foo + bar{nm="val"})[5m:])", R"((foo + bar{nm="val"})[5m:])"},
    {R"((foo + bar{nm="val"})[5m:] offset 10m)", R"((foo + bar{nm="val"})[5m:] offset 10m)"},
    {R"((foo + bar{nm="val"} @ 1234)[5m:] @ 1603775019)",
     R"((foo + bar{nm="val"} @ 1234.000)[5m:] @ 1603775019.000)"},
    {"foo[10m:6s] @ start()", "foo[10m:6s] @ start()"},
    {"rate(x[5m])[30m:1m] offset -1m", "rate(x[5m])[30m:1m] offset -1m"},

    // Duration expressions (experimental in Prometheus), and step(), range(), start(), end(),
    // min_of(), max_of() as expressions.
    {"foo[26m+4m]", "foo[26m + 4m]"},
    {"foo[60*30]", "foo[60 * 30]"},
    {"foo[2m*(10+5)]", "foo[2m * (10 + 5)]"},
    {"foo[-5m+35m]", "foo[-5m + 35m]"},
    {"foo[(5m)]", "foo[5m]"},
    {"foo[-(-5m)]", "foo[5m]"},
    {"foo[+step()]", "foo[step()]"},
    {"foo[-step()+1h]", "foo[-step() + 1h]"},
    {"foo[2 ^ 3 ^ 2]", "foo[2 ^ 3 ^ 2]"},
    {"foo[1+(STep()-5)*2]", "foo[1 + (step() - 5) * 2]"},
    {"foo[ step ( ) ]", "foo[step()]"},
    {"foo[range()]", "foo[range()]"},
    {"foo[max_of(min_of((step()+1),((1h))),1ms)]", "foo[max_of(min_of((step() + 1), 1h), 1ms)]"},
    {"foo[29s+1s:5s+5s]", "foo[29s + 1s:5s + 5s]"},
    {"foo[5m:step()]", "foo[5m:step()]"},
    {"foo[4s+4s:1s*2] offset (5s-8)", "foo[4s + 4s:1s * 2] offset (5s - 8)"},
    {"foo offset step()", "foo offset step()"},
    {"foo offset -step()", "foo offset -step()"},
    {"foo offset step()*0", "foo offset step() * 0"},
    {"foo offset (100 + 2)", "foo offset (100 + 2)"},
    {"foo offset 100 + 2", "foo offset 1m40s + 2"},
    {"foo offset (5m)", "foo offset 5m"},
    {"foo offset -(1^2)", "foo offset -(1 ^ 2)"},
    {"foo offset -min_of(step(), 1s)+8000", "foo offset -min_of(step(), 1s) + 8000"},
    {"foo offset max_of(range(), 5s)", "foo offset max_of(range(), 5s)"},
    {"foo[5m] offset step()", "foo[5m] offset step()"},
    {"rate(foo[2m+2m])", "rate(foo[2m + 2m])"},
    {"step()", "step()"},
    {"range()", "range()"},
    {"start()", "start()"},
    {"end()", "end()"},
    {"STEP()", "step()"},
    {"end() - start()", "end() - start()"},
    {"vector(step())", "vector(step())"},
    {"metric * step()", "metric * step()"},
    {"min_of(3, 5)", "min_of(3, 5)"},
    {"max_of(-2, -5)", "max_of(-2, -5)"},
    {"step{a=\"b\"}", "step{a=\"b\"}"},

    // Unary and binary operators, precedence and associativity.
    {"1 + 1", "1 + 1"},
    {"1 - 1", "1 - 1"},
    {"1 * 1", "1 * 1"},
    {"1 % 1", "1 % 1"},
    {"1 / 1", "1 / 1"},
    {"1 == bool 1", "1 == bool 1"},
    {"1 != bool 1", "1 != bool 1"},
    {"1 > bool 1", "1 > bool 1"},
    {"1 >= bool 1", "1 >= bool 1"},
    {"1 < bool 1", "1 < bool 1"},
    {"1 <= bool 1", "1 <= bool 1"},
    {"-1^2", "-1 ^ 2"},
    {"-1*2", "-1 * 2"},
    {"-1+2", "-1 + 2"},
    {"-1^-2", "-1 ^ -2"},
    {"+1 + -2 * 1", "1 + -2 * 1"},
    {"1 + 2/(3*1)", "1 + 2 / (3 * 1)"},
    {"1 < bool 2 - 1 * 2", "1 < bool 2 - 1 * 2"},
    {"2 ^ 3 ^ 2", "2 ^ 3 ^ 2"},
    {"-some_metric", "-some_metric"},
    {"+some_metric", "+some_metric"},
    {" +some_metric", "+some_metric"},
    {R"( +{"some_metric"})", R"(+{__name__="some_metric"})"},
    {"foo * bar", "foo * bar"},
    {"foo * sum", "foo * sum"},
    {"foo == 1", "foo == 1"},
    {"foo == bool 1", "foo == bool 1"},
    {"2.5 / bar", "2.5 / bar"},
    {"foo and bar", "foo and bar"},
    {"foo or bar", "foo or bar"},
    {"foo unless bar", "foo unless bar"},
    {"foo AND bar", "foo and bar"},
    {"foo + bar or bla and blub", "foo + bar or bla and blub"},
    {"foo and bar unless baz or qux", "foo and bar unless baz or qux"},
    {"bar + on(foo) bla / on(baz, buz) group_right(test) blub",
     "bar + on (foo) bla / on (baz, buz) group_right (test) blub"},
    {"foo * on(test,blub) bar", "foo * on (test, blub) bar"},
    {"foo * on(test,blub) group_left bar", "foo * on (test, blub) group_left () bar"},
    {"foo and on(test,blub) bar", "foo and on (test, blub) bar"},
    {"foo and on() bar", "foo and on () bar"},
    {"foo and ignoring(test,blub) bar", "foo and ignoring (test, blub) bar"},
    {"foo and ignoring() bar", "foo and bar"},
    {"foo unless on(bar) baz", "foo unless on (bar) baz"},
    {"foo / on(test,blub) group_left(bar) bar", "foo / on (test, blub) group_left (bar) bar"},
    {"foo / ignoring(test,blub) group_left(blub) bar",
     "foo / ignoring (test, blub) group_left (blub) bar"},
    {"foo - on(test,blub) group_right(bar,foo) bar",
     "foo - on (test, blub) group_right (bar, foo) bar"},
    {"foo - ignoring(test,blub) group_right(bar,foo) bar",
     "foo - ignoring (test, blub) group_right (bar, foo) bar"},
    {"foo * ignoring() group_left bar", "foo * ignoring () group_left () bar"},
    {"a > bool on(b) c", "a > bool on (b) c"},
    {"a atan2 b", "a atan2 b"},
    {"a + sum", "a + sum"},
    {"foo offset 5s-8", "foo offset 5s - 8"},
    {"foo offset -1^1", "foo offset -1s ^ 1"},
    {"foo unless on(start) bar", "foo unless on (start) bar"},
    {"foo unless on(end) bar", "foo unless on (end) bar"},
    {"a + on(\"b.c\") d", "a + on (\"b.c\") d"},

    // Aggregations.
    {"sum by (foo)(some_metric)", "sum by (foo) (some_metric)"},
    {"avg by (foo)(some_metric)", "avg by (foo) (some_metric)"},
    {"max by (foo)(some_metric)", "max by (foo) (some_metric)"},
    {"sum without (foo) (some_metric)", "sum without (foo) (some_metric)"},
    {"sum (some_metric) without (foo)", "sum without (foo) (some_metric)"},
    {"stddev(some_metric)", "stddev(some_metric)"},
    {"stdvar by (foo)(some_metric)", "stdvar by (foo) (some_metric)"},
    {"sum by ()(some_metric)", "sum(some_metric)"},
    {"sum without ()(some_metric)", "sum without () (some_metric)"},
    {"sum by (foo,bar,)(some_metric)", "sum by (foo, bar) (some_metric)"},
    {"sum by (foo,)(some_metric)", "sum by (foo) (some_metric)"},
    {"topk(5, some_metric)", "topk(5, some_metric)"},
    {"bottomk by (a) (5, some_metric)", "bottomk by (a) (5, some_metric)"},
    {"quantile(0.9, some_metric)", "quantile(0.9, some_metric)"},
    {R"(count_values("value", some_metric))", R"(count_values("value", some_metric))"},
    {"limitk(2, some_metric)", "limitk(2, some_metric)"},
    {"limit_ratio(0.5, some_metric)", "limit_ratio(0.5, some_metric)"},
    {"group(x)", "group(x)"},
    {"count(x)", "count(x)"},
    {"min(x)", "min(x)"},
    {"SUM(x) BY (job)", "sum by (job) (x)"},
    {"sum without(and, by, avg, count, alert, annotations)(some_metric)",
     "sum without (and, by, avg, count, alert, annotations) (some_metric)"},
    {R"(sum by ("foo bar")({"some.metric"}))", R"(sum by ("foo bar") ({__name__="some.metric"}))"},
    {R"(sum by ("foo", bar, 'baz')({"some.metric"}))",
     R"(sum by (foo, bar, baz) ({__name__="some.metric"}))"},
    {"sum by (anchored)(some_metric)", "sum by (anchored) (some_metric)"},
    {"sum(sum)", "sum(sum)"},
    {"(sum(foo))", "(sum(foo))"},
    {"(sum(foo) by (bar))", "(sum by (bar) (foo))"},
    {"sum by (job)(rate(http_requests_total[30m]))",
     "sum by (job) (rate(http_requests_total[30m]))"},
    {"sum by (a:b) (x)", "sum by (a:b) (x)"},

    // Function calls.
    {"time()", "time()"},
    {R"(floor(some_metric{foo!="bar"}))", R"(floor(some_metric{foo!="bar"}))"},
    {"rate(some_metric[5m])", "rate(some_metric[5m])"},
    {"round(some_metric)", "round(some_metric)"},
    {"round(some_metric, 5)", "round(some_metric, 5)"},
    {"rate (x[5m])", "rate(x[5m])"},
    {"hour()", "hour()"},
    {"hour(x)", "hour(x)"},
    {R"(label_join(x, "d", ",", "a", "b", "c"))", R"(label_join(x, "d", ",", "a", "b", "c"))"},
    {R"x(label_replace(x, "d", "$1", "s", "(.*)"))x", R"x(label_replace(x, "d", "$1", "s", "(.*)"))x"},
    {R"(sort_by_label(x, "a", "b"))", R"(sort_by_label(x, "a", "b"))"},
    {"histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))",
     "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))"},
    {"histogram_fraction(0, 0.2, x)", "histogram_fraction(0, 0.2, x)"},
    {"double_exponential_smoothing(x[5m], 0.5, 0.5)",
     "double_exponential_smoothing(x[5m], 0.5, 0.5)"},
    {"info(rate(http_request_counter_total{}[5m]))",
     "info(rate(http_request_counter_total[5m]))"},
    {R"(info(http_request_counter_total{namespace="zzz"}, {foo="bar", bar="baz"}))",
     R"(info(http_request_counter_total{namespace="zzz"}, {bar="baz",foo="bar"}))"},
    {"info(x, {})", "info(x, {})"},
    {"vector(1)", "vector(1)"},
    {"scalar(x)", "scalar(x)"},
    {"absent(nonexistent{job=\"a\"})", "absent(nonexistent{job=\"a\"})"},
    {"pi()", "pi()"},
    {"predict_linear(x[1h], 3600)", "predict_linear(x[1h], 3600)"},
    {"quantile_over_time(0.5, x[5m])", "quantile_over_time(0.5, x[5m])"},
    {"ts_of_max_over_time(x[5m])", "ts_of_max_over_time(x[5m])"},
    {"clamp(x, 0, 1)", "clamp(x, 0, 1)"},
    {"timestamp(x)", "timestamp(x)"},
    {"time() - 5m", "time() - 5m"},

    // Typical dashboard and alert queries.
    {R"(histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le)) > 0.5)",
     R"(histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5)"},
    {R"(up{job="fastapi"} == 0)", R"(up{job="fastapi"} == 0)"},
    {R"(100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))))",
     R"(100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m]))))"},
};

TEST_CASE("parser formats valid expressions canonically", "[query][parser]") {
  for (const auto& c : kFormatCases) {
    INFO("input: " << c.input);
    auto r = ParseExpr(c.input);
    REQUIRE(r.ok());
    CHECK(Format(**r) == c.canonical);
    // The canonical form parses back to an expression printing the same.
    auto again = ParseExpr(Format(**r));
    REQUIRE(again.ok());
    CHECK(Format(**again) == c.canonical);
  }
}

TEST_CASE("parser gives unary minus the precedence Prometheus does", "[query][parser]") {
  // -2^2 is -(2^2): a unary expression over the power.
  auto e = MustParse("-2^2");
  const auto& u = As<UnaryExpr>(*e, NodeKind::kUnary);
  CHECK(u.op == BinaryOp::kSub);
  const auto& pow = As<BinaryExpr>(*u.expr, NodeKind::kBinary);
  CHECK(pow.op == BinaryOp::kPow);

  // -1*2 is (-1)*2 with the minus folded into the literal.
  e = MustParse("-1*2");
  const auto& mul = As<BinaryExpr>(*e, NodeKind::kBinary);
  CHECK(mul.op == BinaryOp::kMul);
  CHECK(As<NumberLiteral>(*mul.lhs, NodeKind::kNumberLiteral).value == -1);

  // ^ is right-associative: 2^3^2 = 2^(3^2).
  e = MustParse("2 ^ 3 ^ 2");
  const auto& p1 = As<BinaryExpr>(*e, NodeKind::kBinary);
  CHECK(p1.lhs->kind == NodeKind::kNumberLiteral);
  CHECK(As<BinaryExpr>(*p1.rhs, NodeKind::kBinary).op == BinaryOp::kPow);

  // Everything else is left-associative: 1 - 2 - 3 = (1 - 2) - 3.
  e = MustParse("1 - 2 - 3");
  const auto& s1 = As<BinaryExpr>(*e, NodeKind::kBinary);
  CHECK(As<BinaryExpr>(*s1.lhs, NodeKind::kBinary).op == BinaryOp::kSub);
  CHECK(s1.rhs->kind == NodeKind::kNumberLiteral);

  // a + -b * c is a + ((-b) * c).
  e = MustParse("a + -b * c");
  const auto& add = As<BinaryExpr>(*e, NodeKind::kBinary);
  const auto& m2 = As<BinaryExpr>(*add.rhs, NodeKind::kBinary);
  CHECK(m2.op == BinaryOp::kMul);
  CHECK(m2.lhs->kind == NodeKind::kUnary);

  // or < and/unless < comparisons < +,- < *,/,%,atan2 < ^.
  e = MustParse("a or b and c == d + e * f ^ g");
  const auto& o = As<BinaryExpr>(*e, NodeKind::kBinary);
  CHECK(o.op == BinaryOp::kLor);
  const auto& a = As<BinaryExpr>(*o.rhs, NodeKind::kBinary);
  CHECK(a.op == BinaryOp::kLand);
  const auto& eq = As<BinaryExpr>(*a.rhs, NodeKind::kBinary);
  CHECK(eq.op == BinaryOp::kEql);
  const auto& plus = As<BinaryExpr>(*eq.rhs, NodeKind::kBinary);
  CHECK(plus.op == BinaryOp::kAdd);
  const auto& times = As<BinaryExpr>(*plus.rhs, NodeKind::kBinary);
  CHECK(times.op == BinaryOp::kMul);
  CHECK(As<BinaryExpr>(*times.rhs, NodeKind::kBinary).op == BinaryOp::kPow);

  // Suffixes bind tighter than unary minus and binary operators.
  e = MustParse("-foo offset 5m");
  const auto& u2 = As<UnaryExpr>(*e, NodeKind::kUnary);
  CHECK(As<VectorSelector>(*u2.expr, NodeKind::kVectorSelector).original_offset == 300000);
  e = MustParse("a + b offset 5m");
  CHECK(As<VectorSelector>(*As<BinaryExpr>(*e, NodeKind::kBinary).rhs, NodeKind::kVectorSelector)
            .original_offset == 300000);
  e = MustParse("sum_over_time(a[5m:] offset 1m)");
  CHECK(As<Call>(*e, NodeKind::kCall).args[0]->kind == NodeKind::kSubquery);
}

TEST_CASE("parser fills selectors, ranges, offsets and @", "[query][parser]") {
  auto e = MustParse(R"(foo{a="b", c!~"d.*"}[5m] offset -1h @ 12.5)");
  const auto& m = As<MatrixSelector>(*e, NodeKind::kMatrixSelector);
  CHECK(m.range == 300000);
  const auto& vs = As<VectorSelector>(*m.vector_selector, NodeKind::kVectorSelector);
  CHECK(vs.name == "foo");
  REQUIRE(vs.matchers.size() == 3);
  CHECK(vs.matchers[0].name() == "a");
  CHECK(vs.matchers[0].type() == MatchType::kEqual);
  CHECK(vs.matchers[1].type() == MatchType::kRegexNoMatch);
  CHECK(vs.matchers[2].name() == "__name__");  // the name matcher comes last
  CHECK(vs.matchers[2].value() == "foo");
  CHECK(vs.original_offset == -3600000);
  CHECK(vs.offset == -3600000);
  CHECK(vs.at == AtModifier::kTimestamp);
  CHECK(vs.at_timestamp == 12500);
  CHECK(e->Type() == ValueType::kMatrix);

  e = MustParse(R"({"my.metric"})");
  const auto& q = As<VectorSelector>(*e, NodeKind::kVectorSelector);
  CHECK(q.name.empty());
  REQUIRE(q.matchers.size() == 1);
  CHECK(q.matchers[0].name() == "__name__");
  CHECK(q.matchers[0].value() == "my.metric");

  e = MustParse("x[1h:30s] @ end()");
  const auto& sq = As<SubqueryExpr>(*e, NodeKind::kSubquery);
  CHECK(sq.range == 3600000);
  CHECK(sq.step == 30000);
  CHECK(sq.at == AtModifier::kEnd);

  e = MustParse("x[10m:]");
  CHECK(As<SubqueryExpr>(*e, NodeKind::kSubquery).step == 0);

  e = MustParse("foo @ 3.3335");
  CHECK(As<VectorSelector>(*e, NodeKind::kVectorSelector).at_timestamp == 3334);
  e = MustParse("foo @ -3.3e1");
  CHECK(As<VectorSelector>(*e, NodeKind::kVectorSelector).at_timestamp == -33000);
}

TEST_CASE("parser keeps duration expressions and folds constant ones", "[query][parser]") {
  // A constant expression: the range is computed and the expression kept for printing.
  auto e = MustParse("foo[30m1s-30m1s % 1m]");
  const auto& m = As<MatrixSelector>(*e, NodeKind::kMatrixSelector);
  CHECK(m.range == 1800000);
  REQUIRE(m.range_expr);
  CHECK(m.range_expr->kind == NodeKind::kBinary);
  CHECK(m.range_expr->Type() == ValueType::kScalar);

  // One that needs the query's step: left to the engine.
  e = MustParse("foo[step() + 1ms]");
  const auto& m2 = As<MatrixSelector>(*e, NodeKind::kMatrixSelector);
  CHECK(m2.range == 0);
  REQUIRE(m2.range_expr);
  const auto& add = As<BinaryExpr>(*m2.range_expr, NodeKind::kBinary);
  CHECK(As<Call>(*add.lhs, NodeKind::kCall).func == LookupFunction("step"));
  CHECK(*As<NumberLiteral>(*add.rhs, NodeKind::kNumberLiteral).duration_ms == 1);

  // A plain literal keeps no expression.
  e = MustParse("foo[(5m)]");
  CHECK_FALSE(As<MatrixSelector>(*e, NodeKind::kMatrixSelector).range_expr);

  e = MustParse("foo[29s+1s:20*500ms] offset -(20*(((((8 - 2) / 3) * 7s) % 4) + 8000ms))");
  const auto& sq = As<SubqueryExpr>(*e, NodeKind::kSubquery);
  CHECK(sq.range == 30000);
  CHECK(sq.step == 10000);
  CHECK(sq.original_offset == -200000);
  CHECK(sq.offset == -200000);
  CHECK(sq.range_expr);
  CHECK(sq.step_expr);
  CHECK(sq.offset_expr);

  e = MustParse("foo offset min_of(step(), 1s) + 8000");
  const auto& b = As<BinaryExpr>(*e, NodeKind::kBinary);
  const auto& vs = As<VectorSelector>(*b.lhs, NodeKind::kVectorSelector);
  CHECK(vs.original_offset == 0);
  REQUIRE(vs.offset_expr);
  CHECK(As<Call>(*vs.offset_expr, NodeKind::kCall).func == LookupFunction("min_of"));

  // offset -2 ^ 2 is (offset -2s) ^ 2; the parenthesized form is a duration expression.
  e = MustParse("foo offset -2 ^ 2");
  CHECK(As<VectorSelector>(*As<BinaryExpr>(*e, NodeKind::kBinary).lhs, NodeKind::kVectorSelector)
            .original_offset == -2000);
  e = MustParse("foo offset (-2 ^ 2)");
  CHECK(As<VectorSelector>(*e, NodeKind::kVectorSelector).original_offset == -4000);

  // step() etc. as expressions are calls returning scalars.
  e = MustParse("end() - start()");
  const auto& d = As<BinaryExpr>(*e, NodeKind::kBinary);
  CHECK(As<Call>(*d.lhs, NodeKind::kCall).func == LookupFunction("end"));
  CHECK(e->Type() == ValueType::kScalar);
}

TEST_CASE("parser fills vector matching as Prometheus does", "[query][parser]") {
  auto e = MustParse("a * on(x, y) group_left(z) b");
  const auto& b = As<BinaryExpr>(*e, NodeKind::kBinary);
  REQUIRE(b.matching);
  CHECK(b.matching->on);
  CHECK(b.matching->card == VectorMatching::Cardinality::kManyToOne);
  CHECK(b.matching->matching_labels == std::vector<std::string>{"x", "y"});
  CHECK(b.matching->include == std::vector<std::string>{"z"});

  e = MustParse("a and b");
  REQUIRE(As<BinaryExpr>(*e, NodeKind::kBinary).matching);
  CHECK(As<BinaryExpr>(*e, NodeKind::kBinary).matching->card ==
        VectorMatching::Cardinality::kManyToMany);

  e = MustParse("a - ignoring(i) group_right b");
  CHECK(As<BinaryExpr>(*e, NodeKind::kBinary).matching->card ==
        VectorMatching::Cardinality::kOneToMany);
  CHECK_FALSE(As<BinaryExpr>(*e, NodeKind::kBinary).matching->on);

  // Matching only exists between two instant vectors.
  e = MustParse("a * 2");
  CHECK_FALSE(As<BinaryExpr>(*e, NodeKind::kBinary).matching);
  e = MustParse("1 + 2");
  CHECK_FALSE(As<BinaryExpr>(*e, NodeKind::kBinary).matching);
  CHECK(e->Type() == ValueType::kScalar);

  e = MustParse("a > bool 2");
  CHECK(As<BinaryExpr>(*e, NodeKind::kBinary).return_bool);
}

TEST_CASE("parser fills aggregations and calls", "[query][parser]") {
  auto e = MustParse("topk by (job) (3, x)");
  const auto& a = As<AggregateExpr>(*e, NodeKind::kAggregate);
  CHECK(a.op == AggregateOp::kTopk);
  REQUIRE(a.param);
  CHECK(As<NumberLiteral>(*a.param, NodeKind::kNumberLiteral).value == 3);
  CHECK(a.grouping == std::vector<std::string>{"job"});
  CHECK_FALSE(a.without);
  CHECK(a.grouping_given);

  e = MustParse("sum(x) without (instance)");
  const auto& s = As<AggregateExpr>(*e, NodeKind::kAggregate);
  CHECK(s.without);
  CHECK_FALSE(s.param);

  e = MustParse("sum(x)");
  CHECK_FALSE(As<AggregateExpr>(*e, NodeKind::kAggregate).grouping_given);

  e = MustParse("round(x, 0.5)");
  const auto& c = As<Call>(*e, NodeKind::kCall);
  CHECK(c.func == LookupFunction("round"));
  CHECK(c.args.size() == 2);

  e = MustParse("time()");
  CHECK(e->Type() == ValueType::kScalar);
}

TEST_CASE("parser records positions as byte offsets", "[query][parser]") {
  auto e = MustParse("sum by (job) (rate(foo[5m])) + 1");
  const auto& b = As<BinaryExpr>(*e, NodeKind::kBinary);
  CHECK(b.pos.start == 0);
  CHECK(b.pos.end == 32);
  CHECK(b.lhs->pos.start == 0);
  CHECK(b.lhs->pos.end == 28);
  const auto& agg = As<AggregateExpr>(*b.lhs, NodeKind::kAggregate);
  CHECK(agg.expr->pos.start == 14);
  CHECK(agg.expr->pos.end == 27);
  const auto& call = As<Call>(*agg.expr, NodeKind::kCall);
  CHECK(call.args[0]->pos.start == 19);
  CHECK(call.args[0]->pos.end == 26);
  CHECK(b.rhs->pos.start == 31);

  e = MustParse(" +some_metric");
  CHECK(e->pos.start == 1);
  CHECK(As<UnaryExpr>(*e, NodeKind::kUnary).expr->pos.start == 2);
  e = MustParse("foo offset 5m");
  CHECK(e->pos.end == 13);
}

TEST_CASE("the function table is sorted and complete", "[query][parser]") {
  auto all = AllFunctions();
  REQUIRE(all.size() > 80);
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].name < all[i].name);
  for (const char* name :
       {"abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
        "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh",
        "count_over_time", "days_in_month", "day_of_month", "day_of_week", "day_of_year", "deg",
        "delta", "deriv", "exp", "floor", "histogram_avg", "histogram_count",
        "histogram_fraction", "histogram_quantile", "histogram_stddev", "histogram_stdvar",
        "histogram_sum", "double_exponential_smoothing", "hour", "idelta", "increase", "info",
        "irate", "label_replace", "label_join", "last_over_time", "ln", "log10", "log2",
        "mad_over_time", "max_over_time", "min_over_time", "minute", "month", "pi",
        "predict_linear", "present_over_time", "quantile_over_time", "rad", "rate", "resets",
        "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_desc", "sort_by_label",
        "sort_by_label_desc", "sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time",
        "tan", "tanh", "time", "timestamp", "vector", "year", "first_over_time",
        "ts_of_first_over_time", "ts_of_last_over_time", "ts_of_max_over_time",
        "ts_of_min_over_time"}) {
    INFO(name);
    const FunctionSpec* f = LookupFunction(name);
    REQUIRE(f != nullptr);
    CHECK(f->name == name);
  }
  CHECK(LookupFunction("holt_winters") == nullptr);  // renamed in 3.0
  CHECK(LookupFunction("RATE") == nullptr);          // names are case-sensitive
  const FunctionSpec* rate = LookupFunction("rate");
  CHECK(rate->arg_types == std::vector<ValueType>{ValueType::kMatrix});
  CHECK(rate->return_type == ValueType::kVector);
  CHECK(LookupFunction("label_join")->variadic == -1);
  CHECK(LookupFunction("round")->variadic == 1);
  CHECK(LookupFunction("scalar")->return_type == ValueType::kScalar);
}

TEST_CASE("ParseMetricSelector returns the matchers of a series selector", "[query][parser]") {
  auto r = ParseMetricSelector(R"(up{job="a", instance=~"b.*"})");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].ToString() == R"(job="a")");
  CHECK((*r)[1].ToString() == R"(instance=~"b.*")");
  CHECK((*r)[2].ToString() == R"(__name__="up")");

  r = ParseMetricSelector(R"({__name__=~"x.*"})");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);

  r = ParseMetricSelector(R"({"my.metric"})");
  REQUIRE(r.ok());
  CHECK((*r)[0].value() == "my.metric");

  // The API checks for empty matchers itself (its own error message), so `{}` parses here.
  r = ParseMetricSelector("{}");
  REQUIRE(r.ok());
  CHECK(r->empty());

  r = ParseMetricSelector("sum");
  REQUIRE(r.ok());

  r = ParseMetricSelector("up[5m]");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == R"(1:3: parse error: unexpected "[")");
  r = ParseMetricSelector("rate(up[5m])");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == R"(1:5: parse error: unexpected "(")");
  r = ParseMetricSelector("");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  r = ParseMetricSelector(R"(up{job="a")");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "1:11: parse error: unexpected end of input inside braces");
}

TEST_CASE("Prettify splits long expressions as Prometheus does", "[query][parser]") {
  struct Case {
    const char* input;
    const char* pretty;
  };
  // Expected outputs from Prometheus 2.42's /api/v1/format_query.
  const Case cases[] = {
      {"sum(rate(x[5m]))", "sum(rate(x[5m]))"},
      // 99 bytes: stays on one line.
      {R"(sum by (job) (rate(http_requests_total{job="prometheus", handler="/api/v1/query", code="200"}[5m])))",
       R"(sum by (job) (rate(http_requests_total{code="200",handler="/api/v1/query",job="prometheus"}[5m])))"},
      {R"(histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api", handler="/very/long/handler/name"}[5m]))) > 0.5)",
       "  histogram_quantile(\n"
       "    0.99,\n"
       "    sum by (le) (\n"
       "      rate(http_request_duration_seconds_bucket{handler=\"/very/long/handler/name\",job=\"api\"}[5m])\n"
       "    )\n"
       "  )\n"
       ">\n"
       "  0.5"},
      {R"(-sum(rate(some_very_long_metric_name_for_testing_prettify_total{label_one="value_one", label_two="value_two"}[5m])))",
       "-sum(\n"
       "  rate(\n"
       "    some_very_long_metric_name_for_testing_prettify_total{label_one=\"value_one\",label_two=\"value_two\"}[5m]\n"
       "  )\n"
       ")"},
      {R"((some_very_long_metric_name_for_testing_prettify_total{label_one="value_one", label_two="value_two"} + 1))",
       "(\n"
       "    some_very_long_metric_name_for_testing_prettify_total{label_one=\"value_one\",label_two=\"value_two\"}\n"
       "  +\n"
       "    1\n"
       ")"},
      {R"(rate(some_very_long_metric_name_for_testing_prettify_total{label_one="value_one", label_two="value_two"}[5m])[1h:5m])",
       "rate(\n"
       "  some_very_long_metric_name_for_testing_prettify_total{label_one=\"value_one\",label_two=\"value_two\"}[5m]\n"
       ")[1h:5m]"},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.input);
    auto e = MustParse(c.input);
    CHECK(Prettify(*e) == c.pretty);
    // The pretty form is valid PromQL meaning the same.
    auto again = ParseExpr(Prettify(*e));
    REQUIRE(again.ok());
    CHECK(Format(**again) == Format(*e));
  }
}

}  // namespace
}  // namespace hearth::promql
