#pragma once

// JSON of query results exactly as Prometheus' API writes them (used by the API and by
// hearthctl when it queries a data directory itself).
//
// Thread-safety: pure functions.

#include <string_view>

#include "query/engine.h"
#include "query/value.h"
#include "web/json_writer.h"

namespace hearth::web {

// "scalar", "vector", "matrix" or "string".
std::string_view ResultTypeName(const promql::Value& v);
// The `result` member of a query's data.
void WriteResult(JsonWriter& w, const promql::Value& v);
// The `stats` member (stats=true, or stats=all with per_step).
void WriteQueryStats(JsonWriter& w, const promql::QueryStats& s, bool per_step);

}  // namespace hearth::web
