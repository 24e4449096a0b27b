#pragma once

// The rules' PromQL plumbing: the query function rules and templates run (Prometheus'
// EngineQueryFunc) and the expression parser the manager uses to check and print rule
// expressions (rule "query" fields show the parsed expression's String()).

#include "query/engine.h"
#include "rules/manager.h"
#include "rules/rule.h"
#include "tsdb/storage/storage.h"

namespace hearth::rules {

// Instant queries through `engine` on `queryable`. A vector is returned as is, a scalar as one
// sample without labels; anything else fails with "rule result is not a vector or scalar".
// Parsed expressions are cached (rules run the same expressions every interval).
// `engine` and `queryable` must outlive the function.
QueryFunc EngineQueryFunc(promql::Engine& engine, storage::Queryable& queryable);

// Parses with the PromQL parser and prints the canonical form (promql::Format).
ExprParser PromQLExprParser();

}  // namespace hearth::rules
