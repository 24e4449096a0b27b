#pragma once

// The PromQL parser and printer.
//
// Thread-safety: all functions are pure and may be called concurrently.

#include <string>
#include <string_view>

#include "model/status.h"
#include "query/parser/ast.h"

namespace hearth::promql {

// Parses a whole expression (the Prometheus 3.x grammar, including the experimental functions,
// limitk/limit_ratio and duration expressions such as `[5m + step()]`; not the experimental
// fill(), anchored/smoothed modifiers or the native-histogram </ >/ operators) and type-checks
// it. Errors have code kInvalidArgument and Prometheus' message, position first:
// `1:15: parse error: unexpected end of input` (line:column, 1-based, column in bytes as
// Prometheus counts), or `unknown position: parse error: ...` for an empty query. Only the first
// error is reported, as Prometheus does. Nesting deeper than 256 levels of parentheses, calls
// and unary operators, or trees deeper than 2000 levels, are refused ("expression nested too
// deeply").
Result<ExprPtr> ParseExpr(std::string_view input);

// Parses a series selector only (`up{job="a"}`, `{__name__=~"x.*"}`), as the API's match[]
// and the test scripts need: returns the matchers, the name matcher last. Like Prometheus it
// does not refuse selectors whose matchers all match the empty string (`{}`): the API reports
// those itself.
Result<std::vector<Matcher>> ParseMetricSelector(std::string_view input);

// Canonical single-line PromQL for an expression (Prometheus' Expr.String()): rule display,
// `@` re-serialisation in the test runner, labels of errors. ParseExpr(Format(e)) gives back
// the same tree (fuzzed). Numbers print in Go's 'f' format as Prometheus 3.x does (1e+06 is
// 1000000), @ timestamps as seconds with three decimals.
std::string Format(const Expr& e);

// Multi-line pretty form as /api/v1/format_query returns it (Prometheus' Prettify: a node
// longer than 100 bytes is split, two spaces of indent per level).
std::string Prettify(const Expr& e);

}  // namespace hearth::promql
