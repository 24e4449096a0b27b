#pragma once

// QueryEngine: what the API needs of the PromQL engine, defined here so that the API can be
// wrapped (query logging, limits) and tested with engines that fail on purpose (timeouts,
// cancellations). NewQueryEngine adapts the real promql::Engine.
//
// Thread-safety: implementations must allow concurrent calls.

#include <cstdint>
#include <memory>
#include <string_view>

#include "model/status.h"
#include "query/engine.h"
#include "tsdb/storage/storage.h"

namespace hearth::web {

class QueryEngine {
 public:
  virtual ~QueryEngine() = default;
  // Status codes as documented in query/engine.h.
  virtual Result<promql::QueryResult> Instant(storage::Queryable& storage, std::string_view query,
                                              int64_t t, const promql::QueryOptions& opts) = 0;
  virtual Result<promql::QueryResult> Range(storage::Queryable& storage, std::string_view query,
                                            int64_t start, int64_t end, int64_t step,
                                            const promql::QueryOptions& opts) = 0;
};

// The production engine behind the interface. `engine` must outlive the result.
std::unique_ptr<QueryEngine> NewQueryEngine(promql::Engine& engine);

}  // namespace hearth::web
