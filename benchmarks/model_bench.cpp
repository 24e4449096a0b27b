// Core-type costs that sit on every hot path: building and hashing label sets, matching,
// formatting sample values for JSON.
#include <benchmark/benchmark.h>

#include "model/format.h"
#include "model/labels.h"
#include "model/matcher.h"

namespace {

using namespace hearth;

void BM_LabelsBuild(benchmark::State& state) {
  for (auto _ : state) {
    LabelsBuilder b;
    b.Set("__name__", "http_requests_total").Set("job", "api").Set("instance", "10.0.0.1:8000");
    b.Set("method", "GET").Set("code", "200");
    benchmark::DoNotOptimize(b.Build());
  }
}
BENCHMARK(BM_LabelsBuild);

void BM_LabelsGet(benchmark::State& state) {
  Labels l{{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "10.0.0.1:8000"},
           {"method", "GET"}, {"code", "200"}};
  for (auto _ : state) benchmark::DoNotOptimize(l.Get("method"));
}
BENCHMARK(BM_LabelsGet);

void BM_RegexSetMatch(benchmark::State& state) {
  auto m = Matcher::Make(MatchType::kRegexMatch, "code", "200|201|204|404|500");
  for (auto _ : state) benchmark::DoNotOptimize(m->Matches("404"));
}
BENCHMARK(BM_RegexSetMatch);

void BM_RegexMatch(benchmark::State& state) {
  auto m = Matcher::Make(MatchType::kRegexMatch, "path", "/api/v[0-9]+/.*");
  for (auto _ : state) benchmark::DoNotOptimize(m->Matches("/api/v1/query_range"));
}
BENCHMARK(BM_RegexMatch);

void BM_JsonSampleValue(benchmark::State& state) {
  std::string out;
  double v = 0.1234567;
  for (auto _ : state) {
    out.clear();
    AppendJsonSampleValue(&out, v);
    AppendJsonTimestamp(&out, 1712345678123);
    v += 1.5;
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_JsonSampleValue);

}  // namespace

BENCHMARK_MAIN();
