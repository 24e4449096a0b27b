#include "web/query_engine.h"

namespace hearth::web {
namespace {

class PromqlQueryEngine final : public QueryEngine {
 public:
  explicit PromqlQueryEngine(promql::Engine& engine) : engine_(engine) {}

  Result<promql::QueryResult> Instant(storage::Queryable& storage, std::string_view query,
                                      int64_t t, const promql::QueryOptions& opts) override {
    return engine_.Instant(storage, query, t, opts);
  }
  Result<promql::QueryResult> Range(storage::Queryable& storage, std::string_view query,
                                    int64_t start, int64_t end, int64_t step,
                                    const promql::QueryOptions& opts) override {
    return engine_.Range(storage, query, start, end, step, opts);
  }

 private:
  promql::Engine& engine_;
};

}  // namespace

std::unique_ptr<QueryEngine> NewQueryEngine(promql::Engine& engine) {
  return std::make_unique<PromqlQueryEngine>(engine);
}

}  // namespace hearth::web
