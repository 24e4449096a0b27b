// Relabeling throughput on Prometheus' own benchmark cases (model/relabel/relabel_test.go's
// BenchmarkRelabel): a small "example" chain, a realistic Kubernetes pod chain of 22 rules, and
// static label pairs. Also target generation for a static job.
//
//   ./build/benchmarks/bench_relabel

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "config/load.h"
#include "model/relabel.h"
#include "scraper/discovery/targets.h"

namespace hearth {
namespace {

std::vector<RelabelConfig> Configs(const std::string& rules) {
  auto c = LoadConfigString("scrape_configs:\n- job_name: j\n  relabel_configs:\n" + rules);
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().message().c_str());
    std::abort();
  }
  return c->scrape_configs[0].relabel_configs;
}

const char* kExample = R"(
  - source_labels: [job, __meta_dns_name]
    regex: "(.*)some-[regex]"
    target_label: job
    replacement: foo-${1}
  - source_labels: [abc]
    target_label: cde
  - replacement: static
    target_label: abc
  - regex:
    replacement: static
    target_label: abc
)";

const char* kKubernetes = R"(
  - {source_labels: [__meta_kubernetes_pod_container_port_name], regex: .*-metrics, action: keep}
  - {source_labels: [__meta_kubernetes_pod_label_name], action: drop, regex: ""}
  - {source_labels: [__meta_kubernetes_pod_phase], regex: Succeeded|Failed, action: drop}
  - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], regex: "false", action: drop}
  - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scheme], target_label: __scheme__, regex: '(https?)', replacement: $1}
  - {source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], target_label: __metrics_path__, regex: '(.+)', replacement: $1}
  - {source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port], target_label: __address__, regex: '(.+?)(\:\d+)?;(\d+)', replacement: '$1:$3'}
  - {regex: __meta_kubernetes_pod_annotation_prometheus_io_param_(.+), replacement: __param_$1, action: labelmap}
  - {regex: __meta_kubernetes_pod_label_prometheus_io_label_(.+), action: labelmap}
  - {regex: __meta_kubernetes_pod_annotation_prometheus_io_label_(.+), action: labelmap}
  - {source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_pod_label_name], separator: /, target_label: job, replacement: $1}
  - {source_labels: [__meta_kubernetes_namespace], target_label: namespace}
  - {source_labels: [__meta_kubernetes_pod_name], target_label: pod}
  - {source_labels: [__meta_kubernetes_pod_container_name], target_label: container}
  - {source_labels: [__meta_kubernetes_pod_name, __meta_kubernetes_pod_container_name, __meta_kubernetes_pod_container_port_name], separator: ':', target_label: instance}
  - {target_label: cluster, replacement: dev-us-central-0}
  - {source_labels: [__meta_kubernetes_namespace], regex: hosted-grafana, action: drop}
  - {source_labels: [__address__], target_label: __tmp_hash, modulus: 3, action: hashmod}
  - {source_labels: [__tmp_hash], regex: ^0$, action: keep}
  - {regex: __tmp_hash, action: labeldrop}
)";

const char* kStatic = R"(
  - {replacement: wwwwww, target_label: wwwwww}
  - {replacement: yyyyyyyyyyyy, target_label: xxxxxxxxx}
  - {replacement: xxxxxxxxx, target_label: yyyyyyyyyyyy}
  - {source_labels: ["something"], target_label: with_source_labels, replacement: value}
  - {replacement: dropped, target_label: "${0}"}
  - {replacement: "${0}", target_label: dropped}
)";

void Run(benchmark::State& state, const char* rules, const Labels& in) {
  std::vector<RelabelConfig> cfgs = Configs(rules);
  for (auto _ : state) {
    auto out = Relabel(cfgs, in);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RelabelExample(benchmark::State& state) {
  Run(state, kExample, Labels{{"__meta_dns_name", "example-some-x.com"}, {"abc", "def"}, {"job", "foo"}});
}
BENCHMARK(BM_RelabelExample);

void BM_RelabelKubernetes(benchmark::State& state) {
  Labels in{{"__address__", "10.132.183.40:80"},
            {"__meta_kubernetes_namespace", "loki-boltdb-shipper"},
            {"__meta_kubernetes_pod_annotation_promtail_loki_boltdb_shipper_hash", "50523b9759094a144adcec2eae0aa4ad"},
            {"__meta_kubernetes_pod_annotationpresent_promtail_loki_boltdb_shipper_hash", "true"},
            {"__meta_kubernetes_pod_container_init", "false"},
            {"__meta_kubernetes_pod_container_name", "promtail"},
            {"__meta_kubernetes_pod_container_port_name", "http-metrics"},
            {"__meta_kubernetes_pod_container_port_number", "80"},
            {"__meta_kubernetes_pod_container_port_protocol", "TCP"},
            {"__meta_kubernetes_pod_controller_kind", "DaemonSet"},
            {"__meta_kubernetes_pod_controller_name", "promtail-loki-boltdb-shipper"},
            {"__meta_kubernetes_pod_host_ip", "10.128.0.178"},
            {"__meta_kubernetes_pod_ip", "10.132.183.40"},
            {"__meta_kubernetes_pod_label_controller_revision_hash", "555b77cd7d"},
            {"__meta_kubernetes_pod_label_name", "promtail-loki-boltdb-shipper"},
            {"__meta_kubernetes_pod_label_pod_template_generation", "45"},
            {"__meta_kubernetes_pod_name", "promtail-loki-boltdb-shipper-jgtr7"},
            {"__meta_kubernetes_pod_node_name", "gke-dev-us-central-0-main-n2s8-2-14d53341-9hkr"},
            {"__meta_kubernetes_pod_phase", "Running"},
            {"__meta_kubernetes_pod_ready", "true"},
            {"__meta_kubernetes_pod_uid", "4c586419-7f6c-448d-aeec-ca4fa5b05e60"},
            {"__metrics_path__", "/metrics"},
            {"__scheme__", "http"},
            {"__scrape_interval__", "15s"},
            {"__scrape_timeout__", "10s"},
            {"job", "kubernetes-pods"}};
  Run(state, kKubernetes, in);
}
BENCHMARK(BM_RelabelKubernetes);

void BM_RelabelStaticPairs(benchmark::State& state) {
  Run(state, kStatic,
      Labels{{"abcdefg01", "hijklmn1"}, {"abcdefg02", "hijklmn2"}, {"abcdefg03", "hijklmn3"},
             {"abcdefg04", "hijklmn4"}, {"abcdefg05", "hijklmn5"}, {"abcdefg06", "hijklmn6"},
             {"abcdefg07", "hijklmn7"}, {"abcdefg08", "hijklmn8"}, {"job", "foo"}});
}
BENCHMARK(BM_RelabelStaticPairs);

// A metric_relabel_configs drop rule on one scraped series (runs once per new series).
void BM_MetricRelabelDropByName(benchmark::State& state) {
  Run(state, "  - {source_labels: [__name__], regex: 'go_gc_.*|go_memstats_.*', action: drop}\n",
      Labels{{"__name__", "http_requests_total"}, {"code", "200"}, {"handler", "/api/v1/query"},
             {"instance", "localhost:9090"}, {"job", "prometheus"}, {"method", "get"}});
}
BENCHMARK(BM_MetricRelabelDropByName);

void BM_TargetsFromStaticGroup(benchmark::State& state) {
  auto c = LoadConfigString("scrape_configs:\n- job_name: j\n  static_configs:\n  - targets: [" +
                            [] {
                              std::string t;
                              for (int i = 0; i < 100; ++i) t += (i ? ", " : "") + fmt::format("'host-{}:9100'", i);
                              return t;
                            }() + "]\n");
  if (!c.ok()) std::abort();
  const ScrapeConfig& cfg = c->scrape_configs[0];
  for (auto _ : state) {
    TargetSet set = TargetsFromGroups(cfg.service_discovery.static_configs, cfg);
    benchmark::DoNotOptimize(set);
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_TargetsFromStaticGroup);

}  // namespace
}  // namespace hearth

BENCHMARK_MAIN();
