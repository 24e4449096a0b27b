// Exposition parser throughput on a realistic 10k-series body (node-exporter-like names, 1-4
// labels, HELP/TYPE per family, float values). Figures: bytes/s (MB/s) and items/s (samples/s).
//   ./build/benchmarks/bench_textparse
#include <benchmark/benchmark.h>

#include <string>

#include <fmt/format.h>

#include "scraper/textparse/parser.h"

namespace {

using namespace hearth::textparse;

std::string MakeBody(int series, bool openmetrics) {
  static const char* kFamilies[] = {"node_cpu_seconds_total", "node_network_receive_bytes_total",
                                    "node_filesystem_avail_bytes", "http_request_duration_seconds_bucket",
                                    "process_resident_memory_bytes", "go_gc_duration_seconds"};
  std::string out;
  int n = 0;
  for (int fam = 0; n < series; ++fam) {
    std::string name = fmt::format("{}_{}", kFamilies[fam % 6], fam / 6);
    out += fmt::format("# HELP {} Help text for family {} with some words in it.\n", name, fam);
    out += fmt::format("# TYPE {} {}\n", name, fam % 3 == 0 ? "counter" : "gauge");
    for (int i = 0; i < 50 && n < series; ++i, ++n) {
      switch (i % 4) {
        case 0: out += fmt::format("{} {}\n", name, n * 1.5); break;
        case 1:
          out += fmt::format("{}{{cpu=\"{}\",mode=\"idle\"}} {}\n", name, i, 123456.78 + n);
          break;
        case 2:
          out += fmt::format("{}{{device=\"eth{}\",instance=\"10.0.0.{}:9100\",job=\"node\"}} {}\n",
                             name, i, n % 255, 1e9 + n * 0.001);
          break;
        default:
          out += fmt::format("{}{{le=\"{}\",method=\"GET\",path=\"/api/v1/query\",code=\"200\"}} {}\n",
                             name, 0.005 * i, n);
      }
    }
  }
  if (openmetrics) out += "# EOF\n";
  return out;
}

void Run(benchmark::State& state, Format format, bool labels) {
  std::string body = MakeBody(10000, format == Format::kOpenMetrics);
  int64_t samples = 0;
  for (auto _ : state) {
    Parser p(body, format);
    for (Entry e; (e = p.Next()) != Entry::kEOF;) {
      if (e == Entry::kInvalid) {
        state.SkipWithError(p.status().message().c_str());
        return;
      }
      if (e == Entry::kSeries) {
        benchmark::DoNotOptimize(p.Series());
        benchmark::DoNotOptimize(p.Value());
        if (labels) benchmark::DoNotOptimize(p.BuildLabels());
        ++samples;
      }
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
  state.SetItemsProcessed(samples);
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

// The scrape path for known series: Next + Series + Value (no label decoding).
void BM_TextParse_Series(benchmark::State& s) { Run(s, Format::kText, false); }
void BM_OpenMetricsParse_Series(benchmark::State& s) { Run(s, Format::kOpenMetrics, false); }
// New series: labels decoded as well.
void BM_TextParse_Labels(benchmark::State& s) { Run(s, Format::kText, true); }
BENCHMARK(BM_TextParse_Series);
BENCHMARK(BM_OpenMetricsParse_Series);
BENCHMARK(BM_TextParse_Labels);

}  // namespace

BENCHMARK_MAIN();
