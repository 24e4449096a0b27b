#pragma once

// The engine's private state, shared by engine.cpp and engine_parse.cpp (which alone depends on
// the parser, so that programs using only the *Expr entry points do not link it).

#include <condition_variable>
#include <mutex>
#include <string_view>

#include "query/engine.h"

namespace hearth::promql {

struct Engine::Impl {
  // Holds one of the max_concurrency slots while a query runs.
  struct Slot {
    Impl* impl;
    bool held = false;
    ~Slot() {
      if (held) {
        std::lock_guard lock(impl->mu);
        impl->running--;
        impl->cv.notify_one();
      }
    }
  };

  Result<QueryResult> Run(const EngineOptions& options, storage::Queryable& storage,
                          std::string_view text, const Expr& expr, int64_t start, int64_t end,
                          int64_t step, const QueryOptions& opts);

  std::mutex mu;
  std::condition_variable cv;
  int running = 0;  // guarded by mu
  metrics::Gauge* queries_gauge = nullptr;
  metrics::Counter* samples_counter = nullptr;
};

}  // namespace hearth::promql
