// The PromQL parser on invalid input: the exact message Prometheus gives, position first.
// Messages come from Prometheus 3.x's promql/parser/parse_test.go and, where the grammar is
// the same as 2.42's, from the Prometheus 2.42 server on this machine.
#include <catch2/catch.hpp>

#include <string>

#include "query/parser/parser.h"

namespace hearth::promql {
namespace {

const NumberLiteral& As(const Expr& e) {
  REQUIRE(e.kind == NodeKind::kNumberLiteral);
  return static_cast<const NumberLiteral&>(e);
}

struct ErrorCase {
  const char* input;
  const char* error;
};

const ErrorCase kErrorCases[] = {
    // Empty input and lexical errors.
    {"", "unknown position: parse error: no expression found in input"},
    {"# just a comment\n\n", "1:1: parse error: no expression found in input"},
    {"1+", "1:3: parse error: unexpected end of input"},
    {"1 /", "1:4: parse error: unexpected end of input"},
    {".", "1:1: parse error: unexpected character: '.'"},
    {"2.5.", R"(1:1: parse error: bad number or duration syntax: "2.5.")"},
    {"100..4", R"(1:1: parse error: bad number or duration syntax: "100..")"},
    {"0deadbeef", R"(1:1: parse error: bad number or duration syntax: "0de")"},
    {"1__0", R"(1:1: parse error: bad number or duration syntax: "1__")"},
    {"1e", R"(1:1: parse error: bad number or duration syntax: "1e")"},
    {"*1", "1:1: parse error: unexpected <op:*>"},
    {"*test", "1:1: parse error: unexpected <op:*>"},
    {"@@", "1:1: parse error: unexpected <op:@>"},
    {"(1))", "1:5: parse error: unexpected right parenthesis ')'"},
    {"((1)", "1:5: parse error: unclosed left parenthesis"},
    {"(", "1:2: parse error: unclosed left parenthesis"},
    {"sum(", "1:5: parse error: unclosed left parenthesis"},
    {"sum(rate(", "1:10: parse error: unclosed left parenthesis"},
    {"1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"},
    {"1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"},
    {"-=", R"(1:2: parse error: unexpected "=")"},
    {"++-++-+-+-<", "1:11: parse error: unexpected <op:<>"},
    {"e-+=/(0)", R"(1:4: parse error: unexpected "=")"},
    {"foo bar", R"(1:5: parse error: unexpected identifier "bar")"},
    {"1 2", R"(1:3: parse error: unexpected number "2")"},
    {"foo 5m", R"(1:5: parse error: unexpected duration "5m")"},
    {R"(foo "a long string here")", R"(1:5: parse error: unexpected string "\"a long st"...)"},
    {"foo a:b", R"(1:5: parse error: unexpected metric identifier "a:b")"},
    {"foo ]", "1:5: parse error: unexpected right bracket ']'"},
    {"foo }", "1:5: parse error: unexpected character: '}'"},
    {"}", "1:1: parse error: unexpected character: '}'"},
    {"foo ~", "1:5: parse error: unexpected character: '~'"},
    {"foo ☺", "1:5: parse error: unexpected character: '☺'"},
    {"a\n+\n)", "3:2: parse error: unexpected right parenthesis ')'"},
    {"a +\n  b c", R"(2:5: parse error: unexpected identifier "c")"},
    {"0x", R"(1:1: parse error: error parsing number: strconv.ParseFloat: parsing "0x": invalid syntax)"},

    // Strings.
    {"`\\``", "1:4: parse error: unterminated raw string"},
    {R"("\)", "1:1: parse error: escape sequence not terminated"},
    {R"("\c")", "1:1: parse error: unknown escape sequence U+0063 'c'"},
    {R"("\x.")", "1:1: parse error: illegal character U+002E '.' in escape sequence"},
    {R"("\'")", "1:1: parse error: unknown escape sequence U+0027 '''"},
    {R"("\ud800")", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {R"("\400")", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"\"abc", "1:1: parse error: unterminated quoted string"},
    {"\"a\nb\"", "1:1: parse error: unterminated quoted string"},
    {"\"\xff\"", "1:1: parse error: invalid UTF-8 rune"},
    {"some_metric{a=\"\xff\"}", "1:15: parse error: invalid UTF-8 rune"},
    {"label_replace(a, `b`, `c\xff`, `d`, `.*`)", "1:23: parse error: invalid UTF-8 rune"},

    // Operators and their type checks.
    {"1 and 1", R"(1:1: parse error: set operator "and" not allowed in binary scalar expression)"},
    {"1 or 1", R"(1:1: parse error: set operator "or" not allowed in binary scalar expression)"},
    {"1 unless 1",
     R"(1:1: parse error: set operator "unless" not allowed in binary scalar expression)"},
    {"foo and 1", R"(1:1: parse error: set operator "and" not allowed in binary scalar expression)"},
    {"1 and foo", R"(1:1: parse error: set operator "and" not allowed in binary scalar expression)"},
    {"foo or 1", R"(1:1: parse error: set operator "or" not allowed in binary scalar expression)"},
    {"foo unless 1",
     R"(1:1: parse error: set operator "unless" not allowed in binary scalar expression)"},
    {"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 or on(bar) foo", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"foo == on(bar) 10", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"foo + group_left(baz) bar", "1:7: parse error: unexpected <group_left>"},
    {"foo and on(bar) group_left(baz) bar",
     R"(1:1: parse error: no grouping allowed for "and" operation)"},
    {"foo and on(bar) group_right(baz) bar",
     R"(1:1: parse error: no grouping allowed for "and" operation)"},
    {"foo or on(bar) group_left(baz) bar",
     R"(1:1: parse error: no grouping allowed for "or" operation)"},
    {"foo unless on(bar) group_right(baz) bar",
     R"(1:1: parse error: no grouping allowed for "unless" operation)"},
    {R"(http_requests{group="production"} + on(instance) group_left(job,instance) cpu_count{type="smp"})",
     R"(1:35: parse error: label "instance" must not occur in ON and GROUP clause at once)"},
    {"foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo + bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo and bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"},
    {"a + on(b) bool c", "1:11: parse error: unexpected <bool>"},
    {"a * on(b) group_right / c",
     R"x(1:23: parse error: unexpected <op:/> in grouping opts, expected "(")x"},
    {"a + on b", R"(1:8: parse error: unexpected identifier "b" in grouping opts, expected "(")"},
    {"a + on(b c) d",
     R"x(1:10: parse error: unexpected identifier "c" in grouping opts, expected "," or ")")x"},
    {"a + on(b) group_left(c d) e",
     R"x(1:24: parse error: unexpected identifier "d" in grouping opts, expected "," or ")")x"},
    {R"(-"string")",
     R"(1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "string")"},
    {"-test[5m]",
     R"(1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector")"},
    {"foo[5m] + 1",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"1 + foo[5m]",
     "1:5: parse error: binary expression must contain only scalar and instant vector types"},
    {R"("a" + 1)",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"a + fill(0) b", "1:1: parse error: binop fill modifiers are experimental and not enabled"},

    // Selectors.
    {"{", "1:2: parse error: unexpected end of input inside braces"},
    {"some{", "1:6: parse error: unexpected end of input inside braces"},
    {"some}", "1:5: parse error: unexpected character: '}'"},
    {"some_metric{a=b}",
     R"(1:15: parse error: unexpected identifier "b" in label matching, expected string)"},
    {R"(some_metric{a:b="b"})", "1:14: parse error: unexpected character inside braces: ':'"},
    {R"(foo{a*"b"})", "1:6: parse error: unexpected character inside braces: '*'"},
    {R"(foo{a>="b"})", "1:6: parse error: unexpected character inside braces: '>'"},
    {"foo{gibberish}",
     R"(1:14: parse error: unexpected "}" in label matching, expected label matching operator)"},
    {"foo{1}", "1:5: parse error: unexpected character inside braces: '1'"},
    {"foo{a!b}", "1:6: parse error: unexpected character after '!' inside braces: 'b'"},
    {"foo{{}", "1:5: parse error: unexpected left brace '{'"},
    {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"({x=""})", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"({x=~".*"})",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"({x!~".+"})",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"({x!="a"})", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {R"(foo{__name__="bar"})",
     R"(1:1: parse error: metric name must not be set twice: "foo" or "bar")"},
    {"foo{__name__= =}",
     R"(1:15: parse error: unexpected "=" in label matching, expected string)"},
    {"foo{,}", R"(1:5: parse error: unexpected "," in label matching, expected identifier or "}")"},
    {R"(foo{__name__ == "bar"})",
     R"(1:15: parse error: unexpected "=" in label matching, expected string)"},
    {R"(foo{__name__="bar" lol})",
     R"(1:20: parse error: unexpected identifier "lol" in label matching, expected "," or "}")"},
    {R"(foo{"a"=})", R"(1:9: parse error: unexpected "}" in label matching, expected string)"},
    {R"(foo{a="b",,})",
     R"(1:11: parse error: unexpected "," in label matching, expected identifier or "}")"},
    {R"x(foo{a=~"("})x", "1:5: parse error: error parsing regexp: missing ): ^(?:()$"},

    // Ranges, offsets, @, subqueries.
    {"foo[5mm]", R"(1:5: parse error: bad number or duration syntax: "5mm")"},
    {"foo[5m1]", R"(1:5: parse error: bad number or duration syntax: "5m1")"},
    {"foo[5m:1m1]", R"(1:8: parse error: bad number or duration syntax: "1m1")"},
    {"foo[5y1hs]", R"(1:5: parse error: unknown unit "hs" in duration "5y1hs")"},
    {"foo[5m1h]", R"(1:5: parse error: not a valid duration string: "5m1h")"},
    {"foo[5m1m]", R"(1:5: parse error: not a valid duration string: "5m1m")"},
    {"foo[0m]", "1:5: parse error: duration must be greater than 0"},
    {"foo[-1]", "1:5: parse error: duration must be greater than 0"},
    {"foo[-5m]", "1:5: parse error: duration must be greater than 0"},
    {"foo[5m:0s]", "1:8: parse error: duration must be greater than 0"},
    {R"(foo["5m"])", R"(1:5: parse error: unexpected character in duration expression: '"')"},
    {"foo[]",
     R"x(1:5: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range())x"},
    {"foo[5m 5m]",
     R"(1:8: parse error: unexpected duration "5m" in subquery or range, expected ":" or "]")"},
    {"foo[5m:1m 1m]",
     R"(1:11: parse error: unexpected duration "1m" in subquery selector, expected "]")"},
    {"foo[5m:,]",
     R"(1:8: parse error: unexpected "," in subquery selector, expected number, duration, step(), range(), or "]")"},
    {"foo[5s x 5s]", "1:8: parse error: unexpected character: 'x', expected ':'"},
    {"foo[5s s 5s]", "1:8: parse error: unexpected character: 's', expected ':'"},
    {"foo[5m::]", R"(1:7: parse error: unexpected "::" in subquery or range, expected ":" or "]")"},
    {"foo[5m:1m:]", "1:10: parse error: unexpected colon ':'"},
    {"foo[:5m]", "1:6: parse error: unexpected colon before duration in duration expression"},
    {"foo[5m", "1:7: parse error: unclosed left bracket"},
    {"foo[5m][5m]", "1:8: parse error: ranges only allowed for vector selectors"},
    {"foo[5m][5m:]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"foo[5m:][5m]", "1:9: parse error: ranges only allowed for vector selectors"},
    {"foo[[5m]", "1:5: parse error: unexpected character in duration expression: '['"},
    {R"(foo{bar="baz"}[)", "1:16: parse error: unexpected end of input in duration expression"},
    {"foo[9.5e10]", "1:5: parse error: duration out of range"},
    {"some_metric[5m] OFFSET 1mm", R"(1:24: parse error: bad number or duration syntax: "1mm")"},
    {"some_metric[5m] OFFSET",
     "1:23: parse error: unexpected end of input in offset, expected number, duration, step(), or range()"},
    {"foo offset bar",
     R"x(1:12: parse error: unexpected identifier "bar" in offset, expected number, duration, step(), or range())x"},
    {"foo offset 9.5e10", "1:12: parse error: duration out of range"},
    {"foo offset NaN", "1:12: parse error: duration out of range"},
    {"foo offset -Inf", "1:12: parse error: duration out of range"},
    {"foo[NaN]", "1:5: parse error: unexpected character in duration expression: 'N'"},
    {"some_metric OFFSET 1m[5m]", "1:22: parse error: no offset modifiers allowed before range"},
    {"some_metric[5m] @", "1:18: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ bar", R"(1:7: parse error: unexpected identifier "bar" in @, expected timestamp)"},
    {"foo @ start", "1:12: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ start(1)", R"(1:13: parse error: unexpected number "1" in @, expected timestamp)"},
    {"foo @ - - 1", "1:9: parse error: unexpected <op:-> in @, expected timestamp"},
    {"some_metric @ 1234 [5m]", "1:20: parse error: no @ modifiers allowed before range"},
    {"(foo + bar)[5m]", "1:12: parse error: ranges only allowed for vector selectors"},
    {"1 offset 1d",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"sum(x) offset 1d",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"},
    {"foo[5m] offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"},
    {"foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo @ start() @ end()", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"rate(some_metric[5m]) @ 1234",
     "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo @ +Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"foo @ -Inf", "1:1: parse error: timestamp out of bounds for @ modifier: -Inf"},
    {"foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
    {"foo @ 9223372036854775808",
     "1:1: parse error: timestamp out of bounds for @ modifier: 9223372036854775808.000000"},
    {"test[5d] OFFSET 10s [10m:5s]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {R"((foo + bar{nm="val"})[5m:][10m:5s])",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"rate(food[1m])[1h] offset 1h", "1:15: parse error: ranges only allowed for vector selectors"},
    {"rate(food[1m])[1h] @ 100", "1:15: parse error: ranges only allowed for vector selectors"},
    {"foo[5m] anchored", "1:1: parse error: anchored modifier is experimental and not enabled"},
    {"foo[5m] smoothed", "1:1: parse error: smoothed modifier is experimental and not enabled"},

    // Duration expressions.
    {"foo[5s/0d]", "1:7: parse error: division by zero"},
    {"foo[step()/0d]", "1:11: parse error: division by zero"},
    {"foo[5s%0d]", "1:7: parse error: modulo by zero"},
    {"foo offset (4d/0)", "1:15: parse error: division by zero"},
    {"foo[5m-5m]", "1:5: parse error: duration must be greater than 0"},
    {"foo[1m:30s-1m]", "1:8: parse error: duration must be greater than 0"},
    {"foo[(1h) * 1e9]", "1:5: parse error: duration out of range"},
    {"foo[1m * 1e10]", "1:10: parse error: duration out of range"},
    {"foo[step]", R"x(1:9: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range())x"},
    {"foo[step(]", R"x(1:10: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range())x"},
    {"foo[min_of(1m)]", R"x(1:14: parse error: unexpected ")" in subquery or range selector, expected number, duration, step(), or range())x"},
    {"foo[(1m]", R"x(1:8: parse error: unexpected "]" in subquery or range selector, expected number, duration, step(), or range())x"},
    {"foo offset min_of(1m, )", R"x(1:23: parse error: unexpected ")" in offset, expected number, duration, step(), or range())x"},
    {"foo offset step(1)", R"x(1:17: parse error: unexpected number "1" in offset, expected number, duration, step(), or range())x"},
    {"foo offset 1m offset step()", "1:1: parse error: offset may not be set multiple times"},
    {"foo offset step() [5m]", "1:19: parse error: no offset modifiers allowed before range"},
    {"foo[5m+range]", "1:8: parse error: unexpected character: 'r', expected ':'"},
    {"step(1)", R"(1:6: parse error: unexpected number "1")"},
    {"min_of(1)", R"(1:1: parse error: expected 2 argument(s) in call to "min_of", got 1)"},
    {"min_of(x, 1)", R"(1:8: parse error: expected type scalar in call to function "min_of", got instant vector)"},

    // Aggregations.
    {"sum without(==)(some_metric)",
     "1:13: parse error: unexpected <op:==> in grouping opts, expected label"},
    {"sum without(,)(some_metric)",
     R"(1:13: parse error: unexpected "," in grouping opts, expected label)"},
    {"sum without(foo,,)(some_metric)",
     R"(1:17: parse error: unexpected "," in grouping opts, expected label)"},
    {"sum by (nan) (x)", R"(1:9: parse error: unexpected number "nan" in grouping opts, expected label)"},
    {R"(sum by ("") (x))", R"(1:9: parse error: invalid label name for grouping: "")"},
    {"sum some_metric by (test)", R"(1:5: parse error: unexpected identifier "some_metric")"},
    {"sum (some_metric) by test",
     R"(1:22: parse error: unexpected identifier "test" in grouping opts, expected "(")"},
    {"sum () by (test)", "1:1: parse error: no arguments for aggregate expression provided"},
    {"MIN keep_common (some_metric)", R"(1:5: parse error: unexpected identifier "keep_common")"},
    {"MIN (some_metric) keep_common", R"(1:19: parse error: unexpected identifier "keep_common")"},
    {"sum (some_metric) without (test) by (test)", "1:34: parse error: unexpected <by>"},
    {"sum without (test) (some_metric) by (test)", "1:34: parse error: unexpected <by>"},
    {"sum by (test) 1", R"(1:15: parse error: unexpected number "1" in aggregation)"},
    {"sum(1 +)", R"x(1:8: parse error: unexpected ")" in aggregation)x"},
    {"sum(rate(x[5m]) y)", R"(1:17: parse error: unexpected identifier "y" in aggregation)"},
    {"topk(some_metric)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"},
    {"topk(some_metric,)", "1:17: parse error: trailing commas not allowed in function call args"},
    {"sum(a, b)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"},
    {"topk(some_metric, other_metric)",
     "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"},
    {"count_values(5, other_metric)",
     "1:14: parse error: expected type string in aggregation parameter, got scalar"},
    {"sum(foo[5m])",
     "1:5: parse error: expected type instant vector in aggregation expression, got range vector"},
    {"quantile(x[5m], y)",
     "1:10: parse error: expected type scalar in aggregation parameter, got range vector"},

    // Function calls.
    {"floor()", R"(1:1: parse error: expected 1 argument(s) in call to "floor", got 0)"},
    {"floor(some_metric, other_metric)",
     R"(1:1: parse error: expected 1 argument(s) in call to "floor", got 2)"},
    {"floor(some_metric, 1)", R"(1:1: parse error: expected 1 argument(s) in call to "floor", got 2)"},
    {"abs(x, y)", R"(1:1: parse error: expected 1 argument(s) in call to "abs", got 2)"},
    {"floor(1)",
     R"(1:7: parse error: expected type instant vector in call to function "floor", got scalar)"},
    {"hour(some_metric, some_metric, some_metric)",
     R"(1:1: parse error: expected at most 1 argument(s) in call to "hour", got 3)"},
    {"label_join(x)",
     R"(1:1: parse error: expected at least 3 argument(s) in call to "label_join", got 1)"},
    {R"(label_join(x, "a", "b", 1))",
     R"(1:25: parse error: expected type string in call to function "label_join", got scalar)"},
    {"time(some_metric)", R"(1:1: parse error: expected 0 argument(s) in call to "time", got 1)"},
    {"non_existent_function_far_bar()",
     R"(1:1: parse error: unknown function with name "non_existent_function_far_bar")"},
    {"holt_winters(x[5m], 0.5, 0.5)", R"(1:1: parse error: unknown function with name "holt_winters")"},
    {"RATE(x[5m])", R"(1:1: parse error: unknown function with name "RATE")"},
    {"rate(some_metric)",
     R"(1:6: parse error: expected type range vector in call to function "rate", got instant vector)"},
    {"rate(avg)",
     R"(1:6: parse error: expected type range vector in call to function "rate", got instant vector)"},
    {"rate(x[5m] y)", R"(1:12: parse error: unexpected identifier "y")"},
    {"rate(1 +)", R"x(1:9: parse error: unexpected ")")x"},
    {"rate(,)", R"(1:6: parse error: unexpected ",")"},
    {R"(label_replace(x, "a", =))", "1:21: parse error: trailing commas not allowed in function call args"},
    {"a>b()", R"(1:3: parse error: unknown function with name "b")"},
    // Prometheus reports what it can decide at a closing token before lexing what follows.
    {"tire(d()", R"(1:6: parse error: unknown function with name "d")"},
    {"sum by (a) () +", "1:1: parse error: no arguments for aggregate expression provided"},
    {"sum() by (a) ~", "1:1: parse error: no arguments for aggregate expression provided"},
    {"sum() ~", "1:7: parse error: unexpected character: '~'"},
    {R"x(foo{a=~"("!})x", "1:5: parse error: error parsing regexp: missing ): ^(?:()$"},
    {"foo @ NaN ~", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
    {"sum(x) @ end() ~",
     "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo[5s] @ 1 @ 2 ~", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo:bar()", R"(1:8: parse error: unexpected "(")"},
    {"info(rate(http_request_counter_total{}[5m]), target_info{foo=\"bar\"})",
     "1:46: parse error: expected label selectors only, got vector selector instead"},
    {R"(info(http_request_counter_total{namespace="zzz"}, {foo="bar"} == 1))",
     "1:51: parse error: expected label selectors only"},
    {R"(info(x, "a"))",
     R"(1:1: parse error: expected type instant vector in call to function "info", got string)"},
};

TEST_CASE("parser rejects invalid expressions with Prometheus' messages", "[query][parser]") {
  for (const auto& c : kErrorCases) {
    INFO("input: " << c.input);
    auto r = ParseExpr(c.input);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message() == c.error);
  }
}

TEST_CASE("parser reports numbers out of range as Go's ParseFloat", "[query][parser]") {
  const std::string big(309, '9');
  auto r = ParseExpr(big);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"" +
                                    big + "\": value out of range");
  // 308 digits still fit a double.
  r = ParseExpr(std::string(308, '9'));
  REQUIRE(r.ok());
  CHECK(As(**r).value > 9e307);
}

TEST_CASE("parser bounds nesting instead of exhausting the stack", "[query][parser]") {
  // Deep nesting of parentheses and unary operators is refused with a clear error.
  std::string deep(100000, '(');
  auto r = ParseExpr(deep + "1" + std::string(100000, ')'));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("nested too deeply") != std::string::npos);
  r = ParseExpr(std::string(100000, '-') + "foo");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("nested too deeply") != std::string::npos);

  // A long flat chain builds a deep left-leaning tree: refused past the tree depth bound.
  std::string chain = "a";
  for (int i = 0; i < 2000; ++i) chain += " + a";
  r = ParseExpr(chain);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("nested too deeply") != std::string::npos);

  // A realistic long chain and realistic nesting are fine, and print back.
  std::string ok = "a";
  for (int i = 0; i < 1000; ++i) ok += " or a";
  r = ParseExpr(ok);
  REQUIRE(r.ok());
  CHECK(Format(**r) == ok);
  CHECK(ParseExpr(Prettify(**r)).ok());
  std::string nested = "x";
  for (int i = 0; i < 80; ++i) nested = "sum(-(" + nested + "))";
  r = ParseExpr(nested);
  REQUIRE(r.ok());
  CHECK(Format(**r) == nested);
}

}  // namespace
}  // namespace hearth::promql
