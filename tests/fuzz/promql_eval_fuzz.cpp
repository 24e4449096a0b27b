// Fuzz target: the PromQL engine on untrusted query text, over a small fixed MemStore (counters
// with a reset, a gauge with NaN, a stale marker, classic histogram buckets). Invariants: no
// crash, no sanitizer report; errors are Status values; a range result is sorted by labels and
// has no two series with equal labels; an instant vector has no duplicate label sets.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "query/engine.h"
#include "tsdb/storage/memstore.h"

namespace {

using namespace hearth;

storage::MemStore& Store() {
  static storage::MemStore* store = [] {
    auto* s = new storage::MemStore();
    auto app = s->NewAppender();
    for (int i = 0; i < 20; ++i) {
      const int64_t t = i * 15'000;
      (void)app->Append(0, {{"__name__", "c_total"}, {"job", "a"}, {"i", "0"}}, t,
                        i < 12 ? i * 10.0 : (i - 12) * 3.0);
      (void)app->Append(0, {{"__name__", "c_total"}, {"job", "b"}, {"i", "1"}}, t, i * 7.0);
      (void)app->Append(0, {{"__name__", "g"}, {"job", "a"}}, t,
                        i == 5 ? std::nan("") : std::sin(i));
      if (i != 9) {
        (void)app->Append(0, {{"__name__", "s"}, {"job", "b"}}, t, i == 10 ? StaleNaN() : i);
      }
      const char* les[] = {"0.1", "1", "10", "+Inf"};
      for (int b = 0; b < 4; ++b) {
        (void)app->Append(0, {{"__name__", "h_bucket"}, {"job", "a"}, {"le", les[b]}}, t,
                          i * (b + 1.0));
      }
    }
    (void)app->Commit();
    return s;
  }();
  return *store;
}

promql::Engine& Engine() {
  static promql::Engine* engine = [] {
    promql::EngineOptions o;
    o.max_samples = 200'000;
    o.timeout_ms = 2000;
    o.default_subquery_step_ms = 15'000;
    return new promql::Engine(o);
  }();
  return *engine;
}

[[noreturn]] void Violation(const char* what, std::string_view in) {
  std::fprintf(stderr, "promql_eval invariant violated: %s\ninput: %.*s\n", what,
               static_cast<int>(in.size()), in.data());
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (size > 4096) return 0;
  auto inst = Engine().Instant(Store(), in, 200'000);
  if (inst.ok()) {
    if (const auto* v = std::get_if<promql::Vector>(&inst->value)) {
      for (size_t i = 0; i < v->size(); ++i) {
        for (size_t j = i + 1; j < v->size(); ++j) {
          if ((*v)[i].labels == (*v)[j].labels) Violation("duplicate labels in a vector", in);
        }
      }
    }
  }
  auto range = Engine().Range(Store(), in, 0, 300'000, 30'000);
  if (std::getenv("HEARTH_FUZZ_VERBOSE") != nullptr) {
    std::fprintf(stderr, "%.*s => instant: %s, range: %s\n", static_cast<int>(in.size()),
                 in.data(), inst.ok() ? "ok" : inst.status().message().c_str(),
                 range.ok() ? "ok" : range.status().message().c_str());
  }
  if (range.ok()) {
    const auto& m = std::get<promql::Matrix>(range->value);
    for (size_t i = 1; i < m.size(); ++i) {
      if (!(m[i - 1].labels < m[i].labels)) Violation("range result not sorted/unique", in);
    }
    for (const auto& s : m) {
      for (size_t k = 1; k < s.samples.size(); ++k) {
        if (s.samples[k].t <= s.samples[k - 1].t) Violation("points out of order", in);
      }
    }
  }
  return 0;
}
