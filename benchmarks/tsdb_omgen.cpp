// Writes the benchmark data (benchmarks/tsdb_datagen.h) as an OpenMetrics file, the input of
// `promtool tsdb create-blocks-from openmetrics` and of Hearth's import, so that bytes per
// sample can be compared with Prometheus on identical data:
//
//   ./build/benchmarks/tsdb_omgen SERIES SCRAPES JITTER_MS > data.om
//   promtool tsdb create-blocks-from openmetrics data.om promdata
//   du -sb promdata/*/chunks   # then divide by SERIES * SCRAPES
#include <cstdio>
#include <cstdlib>
#include <string>
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "benchmarks/tsdb_datagen.h"
#include "model/format.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: tsdb_omgen SERIES SCRAPES JITTER_MS\n");
    return 2;
  }
  const size_t series = std::strtoull(argv[1], nullptr, 10);
  const int scrapes = std::atoi(argv[2]);
  hearth::bench::ScrapeGen gen(series, 1, 15000, std::atoi(argv[3]));
  std::vector<std::vector<std::pair<int64_t, double>>> data(gen.size());
  std::vector<double> values;
  for (int i = 0; i < scrapes; ++i) {
    int64_t t = gen.Next(&values);
    for (size_t s = 0; s < values.size(); ++s) data[s].push_back({t, values[s]});
  }
  // Series of one metric family must be contiguous: group by name.
  std::vector<size_t> order(gen.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return gen.series()[a].labels.MetricName() < gen.series()[b].labels.MetricName();
  });
  std::string out;
  for (size_t s : order) {
    const auto& l = gen.series()[s].labels;
    std::string name(l.MetricName()), lbl;
    for (const auto& x : l) {
      if (x.name == "__name__") continue;
      lbl += fmt::format("{}{}=\"{}\"", lbl.empty() ? "" : ",", x.name, x.value);
    }
    for (auto [t, v] : data[s]) {
      out += fmt::format("{}{{{}}} {} {}.{:03d}\n", name, lbl, hearth::FormatExpositionValue(v), t / 1000,
                         t % 1000);
      if (out.size() > (1 << 20)) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
      }
    }
  }
  out += "# EOF\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
