// PromQL parsing and printing: the cost every query, rule evaluation and format_query pays
// before evaluation starts. Typical Grafana dashboard and alert-rule queries.
#include <benchmark/benchmark.h>

#include <string>

#include "query/parser/parser.h"

namespace {

using namespace hearth::promql;

const char* const kSimple = R"(up{job="api"} == 0)";
const char* const kDashboard =
    R"(sum by (job, instance) (rate(http_requests_total{job="api", code=~"5..", handler!="/metrics"}[5m])) / ignoring(code) group_left sum by (job, instance) (rate(http_requests_total{job="api"}[5m])))";
const char* const kHistogram =
    R"(histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[5m]))) > 0.5)";
const char* const kNode =
    R"(100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle", instance=~"$host"}[1m0s]))) + on(instance) group_left(nodename) (0 * node_uname_info))";
// Only equality matchers: no regular expression to compile.
const char* const kNoRegex =
    R"(sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="prod", container!=""}[5m])) / sum by (pod) (kube_pod_container_resource_requests{namespace="prod", resource="cpu"}))";

void BM_Parse(benchmark::State& state, const char* query) {
  size_t bytes = 0;
  for (auto _ : state) {
    auto r = ParseExpr(query);
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    benchmark::DoNotOptimize(r);
    bytes += std::char_traits<char>::length(query);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK_CAPTURE(BM_Parse, simple, kSimple);
BENCHMARK_CAPTURE(BM_Parse, dashboard, kDashboard);
BENCHMARK_CAPTURE(BM_Parse, histogram_quantile, kHistogram);
BENCHMARK_CAPTURE(BM_Parse, node_cpu, kNode);
BENCHMARK_CAPTURE(BM_Parse, no_regex, kNoRegex);

void BM_ParseError(benchmark::State& state) {
  const char* q = R"(sum by (job) (rate(http_requests_total{job="api"}[5m])) +)";
  for (auto _ : state) benchmark::DoNotOptimize(ParseExpr(q));
}
BENCHMARK(BM_ParseError);

void BM_Format(benchmark::State& state, const char* query) {
  auto e = ParseExpr(query);
  for (auto _ : state) benchmark::DoNotOptimize(Format(**e));
}
BENCHMARK_CAPTURE(BM_Format, dashboard, kDashboard);

void BM_Prettify(benchmark::State& state, const char* query) {
  auto e = ParseExpr(query);
  for (auto _ : state) benchmark::DoNotOptimize(Prettify(**e));
}
BENCHMARK_CAPTURE(BM_Prettify, dashboard, kDashboard);

void BM_ParseMetricSelector(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseMetricSelector(R"(up{job="api", instance="10.0.0.1:9100"})"));
  }
}
BENCHMARK(BM_ParseMetricSelector);

}  // namespace

BENCHMARK_MAIN();
