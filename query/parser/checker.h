#pragma once

// The type checks Prometheus runs on a parsed tree (checkAST): operand and argument types,
// argument counts, vector matching rules, selectors that would match everything. Internal to
// query/parser/: ParseExpr runs it.

#include <optional>
#include <string>
#include <string_view>

#include "query/parser/ast.h"

namespace hearth::promql {

// The first error, at a byte offset of the query, worded as Prometheus does.
struct TypeError {
  int pos = 0;
  std::string msg;
};

// Checks `root`, parsed from `input`, and completes it as Prometheus does: set operators
// between vectors get many-to-many matching, and binary expressions that are not between two
// instant vectors lose their vector matching.
std::optional<TypeError> CheckTypes(Expr& root, std::string_view input);

}  // namespace hearth::promql
