// Rule evaluation costs that grow with the number of alerts: expanding alert templates,
// running the alerting state machine over a query result, and encoding a batch for
// Alertmanager. The query itself is a fixed vector here (the engine has its own benchmarks).
#include <benchmark/benchmark.h>

#include "rules/alerting.h"
#include "rules/notifier.h"
#include "rules/template.h"

namespace {

using namespace hearth;
using namespace hearth::rules;

AlertTemplateData Data() {
  AlertTemplateData d;
  d.labels = Labels{{"__name__", "up"}, {"instance", "api-17:8000"}, {"job", "fastapi"}};
  d.value = 0.734;
  return d;
}

void BM_TemplateConstant(benchmark::State& state) {
  auto t = Template::Parse("High request latency detected", "__alert_X");
  auto d = Data();
  TemplateEnv env;
  for (auto _ : state) benchmark::DoNotOptimize(ExpandAlertTemplate(*t, d, env));
}
BENCHMARK(BM_TemplateConstant);

void BM_TemplateLabelsAndHumanize(benchmark::State& state) {
  auto t = Template::Parse(
      "{{ $labels.instance }} of job {{ $labels.job }} is at {{ $value | humanize }}s",
      "__alert_X");
  auto d = Data();
  TemplateEnv env;
  for (auto _ : state) benchmark::DoNotOptimize(ExpandAlertTemplate(*t, d, env));
}
BENCHMARK(BM_TemplateLabelsAndHumanize);

void BM_TemplateParse(benchmark::State& state) {
  const std::string text =
      "{{ if gt $value 0.5 }}{{ $labels.instance }} slow: {{ printf \"%.2f\" $value }}"
      "{{ else }}ok{{ end }}";
  for (auto _ : state) benchmark::DoNotOptimize(Template::Parse(text, "__alert_X"));
}
BENCHMARK(BM_TemplateParse);

// One evaluation of an alerting rule whose expression returns state.range(0) series, each
// with a templated label and two templated annotations; all alerts already pending.
void BM_AlertingRuleEval(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  promql::Vector result;
  for (int i = 0; i < n; ++i) {
    result.push_back({Labels{{"__name__", "up"}, {"instance", "host-" + std::to_string(i)},
                             {"job", "fastapi"}},
                      0, 0});
  }
  AlertingRuleSpec spec;
  spec.name = "ServiceDown";
  spec.query = "up == 0";
  spec.hold_ms = 300'000;
  spec.labels = {{"severity", "critical"}, {"host", "{{ $labels.instance }}"}};
  spec.annotations = {{"summary", "{{ $labels.instance }} down"},
                      {"description", "{{ $labels.job }} has been down, value {{ $value }}"}};
  auto rule = AlertingRule::Make(spec, Logger::Discard());
  QueryFunc q = [&](std::string_view, int64_t) -> Result<promql::Vector> { return result; };
  int64_t ts = 0;
  for (auto _ : state) {
    ts += 15'000;
    benchmark::DoNotOptimize((*rule)->Eval(ts, 0, q, 0));
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_AlertingRuleEval)->Arg(10)->Arg(1000);

void BM_EncodeAlertsV2(benchmark::State& state) {
  std::vector<NotifierAlert> alerts;
  for (int i = 0; i < 256; ++i) {
    NotifierAlert a;
    a.labels = Labels{{"alertname", "ServiceDown"}, {"instance", "host-" + std::to_string(i)},
                      {"job", "fastapi"}, {"severity", "critical"}};
    a.annotations = {{"description", "The FastAPI service has been down for more than 5 minutes."},
                     {"summary", "FastAPI service down"}};
    a.starts_at = 1'700'000'000'000;
    a.ends_at = 1'700'000'240'000;
    a.generator_url = "http://hearth:9090/graph?g0.expr=up%7Bjob%3D%22fastapi%22%7D+%3D%3D+0";
    alerts.push_back(std::move(a));
  }
  for (auto _ : state) benchmark::DoNotOptimize(EncodeAlertsV2(alerts));
  state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(BM_EncodeAlertsV2);

}  // namespace

BENCHMARK_MAIN();
