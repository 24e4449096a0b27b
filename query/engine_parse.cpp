// The string entry points of the engine: parse, then evaluate. Kept apart from engine.cpp so
// that users of InstantExpr/RangeExpr alone do not pull in the parser.

#include "query/engine.h"
#include "query/internal/engine_impl.h"
#include "query/parser/parser.h"

namespace hearth::promql {

Result<QueryResult> Engine::Instant(storage::Queryable& storage, std::string_view query, int64_t t,
                                    const QueryOptions& opts) {
  auto expr = ParseExpr(query);
  if (!expr.ok()) return expr.status();
  return impl_->Run(options_, storage, query, **expr, t, t, 0, opts);
}

Result<QueryResult> Engine::Range(storage::Queryable& storage, std::string_view query,
                                  int64_t start, int64_t end, int64_t step,
                                  const QueryOptions& opts) {
  auto expr = ParseExpr(query);
  if (!expr.ok()) return expr.status();
  if (step <= 0) {
    return InvalidArgument("zero or negative query resolution step widths are not accepted. "
                           "Try a positive integer");
  }
  if (end < start) return InvalidArgument("end timestamp must not be before start time");
  ValueType t = (*expr)->Type();
  if (t != ValueType::kVector && t != ValueType::kScalar) {
    return InvalidArgument("invalid expression type \"{}\" for range query, must be Scalar or "
                           "instant Vector",
                           DocumentedTypeName(t));
  }
  return impl_->Run(options_, storage, query, **expr, start, end, step, opts);
}

}  // namespace hearth::promql
