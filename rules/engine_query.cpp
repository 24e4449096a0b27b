#include "rules/engine_query.h"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "query/parser/parser.h"

namespace hearth::rules {
namespace {

// Parsed expressions by text. Bounded: cleared when it grows past kMaxEntries (templates can
// run arbitrary queries).
class ExprCache {
 public:
  Result<std::shared_ptr<const promql::Expr>> Get(std::string_view text) {
    {
      std::lock_guard lock(mu_);
      auto it = cache_.find(std::string(text));
      if (it != cache_.end()) return it->second;
    }
    HEARTH_ASSIGN_OR_RETURN(promql::ExprPtr parsed, promql::ParseExpr(text));
    std::shared_ptr<const promql::Expr> e(std::move(parsed));
    std::lock_guard lock(mu_);
    if (cache_.size() >= kMaxEntries) cache_.clear();
    cache_.emplace(std::string(text), e);
    return e;
  }

 private:
  static constexpr size_t kMaxEntries = 10'000;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const promql::Expr>> cache_;
};

}  // namespace

QueryFunc EngineQueryFunc(promql::Engine& engine, storage::Queryable& queryable) {
  auto cache = std::make_shared<ExprCache>();
  return [&engine, &queryable, cache](std::string_view q, int64_t t) -> Result<promql::Vector> {
    HEARTH_ASSIGN_OR_RETURN(auto expr, cache->Get(q));
    HEARTH_ASSIGN_OR_RETURN(promql::QueryResult res, engine.InstantExpr(queryable, *expr, t));
    if (auto* v = std::get_if<promql::Vector>(&res.value)) return std::move(*v);
    if (auto* s = std::get_if<promql::Scalar>(&res.value)) {
      return promql::Vector{promql::VectorSample{Labels{}, s->t, s->v}};
    }
    return Status(StatusCode::kExecution, "rule result is not a vector or scalar");
  };
}

ExprParser PromQLExprParser() {
  return [](std::string_view text) -> Result<std::string> {
    HEARTH_ASSIGN_OR_RETURN(promql::ExprPtr e, promql::ParseExpr(text));
    return promql::Format(*e);
  };
}

}  // namespace hearth::rules
