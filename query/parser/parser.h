#pragma once

// The PromQL parser and printer.
//
// Thread-safety: all functions are pure and may be called concurrently.

#include <string>
#include <string_view>

#include "model/status.h"
#include "query/parser/ast.h"

namespace hearth::promql {

// Parses a whole expression. Errors have code kInvalidArgument and Prometheus' message format,
// position first: `1:15: parse error: unexpected <EOF>` (line:column, 1-based, column in
// characters of that line) or, for errors about a range, `1:1: parse error: ...` at its start.
Result<ExprPtr> ParseExpr(std::string_view input);

// Parses a series selector only (`up{job="a"}`, `{__name__=~"x.*"}`), as the API's match[]
// and the test scripts need: returns the matchers.
Result<std::vector<Matcher>> ParseMetricSelector(std::string_view input);

// Canonical single-line PromQL for an expression (Prometheus' Expr.String()): rule display,
// `@` re-serialisation in the test runner, labels of errors.
std::string Format(const Expr& e);

// Multi-line pretty form as /api/v1/format_query returns it (Prometheus' Prettify).
std::string Prettify(const Expr& e);

}  // namespace hearth::promql
