// Scale figures that need a whole process: head memory (RSS) per active series, and start to
// ready with many active series and stored data. Not a Google Benchmark: one run, printed.
//
//   ./build/benchmarks/tsdb_scale_bench SERIES SCRAPES [HISTORY_DAYS [DIR]]
//
// 1. Opens an empty engine, appends SCRAPES scrapes (15 s apart) of SERIES series with labels
//    like a Kubernetes pod's (6 labels, about 110 bytes), and reports the RSS growth per series
//    next to the engine's own estimate (hearth_tsdb_head_memory_bytes_per_series). The series'
//    labels are generated on the fly and only refs are kept (8 bytes a series, subtracted).
// 2. Closes it (a final head checkpoint) and reopens it, timing Open until it returns: the
//    moment scrapes and queries can go on ("ready").
// 3. Closes without a checkpoint after appending a few more minutes, and times the reopen that
//    has to replay that log.
// 4. With HISTORY_DAYS, imports that many days of older data (20000 series, one sample a
//    minute: one partition per 2 h) and times the reopen again: start-up should stay flat as
//    stored data grows.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "model/clock.h"
#include "model/metrics.h"
#include "tsdb/tsdb.h"

namespace {

using namespace hearth;

Labels PodLabels(uint64_t i) {
  LabelsBuilder b;
  b.Set("__name__", i % 4 == 0 ? "container_cpu_usage_seconds_total"
                               : i % 4 == 1 ? "container_memory_working_set_bytes"
                               : i % 4 == 2 ? "container_network_receive_bytes_total"
                                            : "kube_pod_status_ready");
  b.Set("namespace", "team-" + std::to_string(i % 97));
  b.Set("pod", "api-" + std::to_string(i / 4 % 100000) + "-7d9f8b6c5d-x" + std::to_string(i % 7));
  b.Set("container", "app");
  b.Set("node", "node-" + std::to_string(i % 300));
  b.Set("job", "kubelet");
  return b.Build();
}

double Value(uint64_t i, int k) {
  switch (i % 4) {
    case 0: return static_cast<double>(k * 3 + (i % 5)) / 100;  // cpu seconds, two decimals
    case 1: return 4096.0 * static_cast<double>(20000 + (k * 7 + i) % 13);
    case 2: return static_cast<double>(k * (i % 1000));
    default: return 1;
  }
}

int64_t NowNs() { return MonotonicNowNs(); }

std::unique_ptr<tsdb::DB> Open(const std::string& dir, Clock& clock, metrics::Registry& reg,
                               bool checkpoint_on_close, double* seconds) {
  tsdb::Options o(dir, clock, reg);
  o.background_maintenance = false;
  o.retention_time_ms = 0;
  o.checkpoint_on_close = checkpoint_on_close;
  const int64_t t0 = NowNs();
  auto r = tsdb::OpenDB(o);
  *seconds = static_cast<double>(NowNs() - t0) / 1e9;
  if (!r.ok()) {
    std::fprintf(stderr, "open: %s\n", r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

void AppendScrapes(tsdb::DB& db, std::vector<storage::SeriesRef>& refs, int from, int to,
                   ManualClock& clock) {
  auto app = db.NewAppender();
  for (int k = from; k < to; ++k) {
    const int64_t t = 1700000000000 + int64_t{15000} * k;
    clock.Set(t);
    for (uint64_t i = 0; i < refs.size(); ++i) {
      auto r = app->Append(refs[i], refs[i] == 0 ? PodLabels(i) : Labels(), t, Value(i, k));
      if (!r.ok()) {
        std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
        std::exit(1);
      }
      refs[i] = *r;
      if ((i + 1) % 10000 == 0) (void)app->Commit();  // a scrape target's worth
    }
    (void)app->Commit();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tsdb_scale_bench SERIES SCRAPES [HISTORY_DAYS [DIR]]\n");
    return 2;
  }
  const uint64_t n = std::strtoull(argv[1], nullptr, 10);
  const int scrapes = std::atoi(argv[2]);
  const int history_days = argc > 3 ? std::atoi(argv[3]) : 0;
  const std::string dir =
      argc > 4 ? argv[4] : (std::filesystem::temp_directory_path() / "hearth_scale_bench").string();
  std::filesystem::remove_all(dir);
  ManualClock clock(1700000000000);

  double open_s = 0;
  {
    metrics::Registry reg;
    auto db = Open(dir, clock, reg, true, &open_s);
    std::vector<storage::SeriesRef> refs(n, 0);
    const uint64_t rss0 = metrics::ProcessResidentBytes();
    const int64_t t0 = NowNs();
    AppendScrapes(*db, refs, 0, scrapes, clock);
    const double secs = static_cast<double>(NowNs() - t0) / 1e9;
    (void)db->RunMaintenance();  // updates the memory estimate
    const uint64_t rss1 = metrics::ProcessResidentBytes();
    std::string text = reg.Render();
    auto pos = text.find("\nhearth_tsdb_head_memory_bytes_per_series ");
    const double est = pos == std::string::npos ? 0 : std::atof(text.c_str() + pos + 43);
    std::printf("series %" PRIu64 ", scrapes %d: %.1f s appending (%.2f M samples/s incl. "
                "series creation)\n",
                n, scrapes, secs, static_cast<double>(n) * scrapes / secs / 1e6);
    std::printf("RSS growth per active series: %.0f bytes (engine estimate %.0f bytes)\n",
                (static_cast<double>(rss1) - static_cast<double>(rss0)) / static_cast<double>(n) -
                    8.0,
                est);
    const int64_t c0 = NowNs();
    (void)db->Close();
    std::printf("close (final checkpoint): %.2f s\n", static_cast<double>(NowNs() - c0) / 1e9);
  }
  {
    metrics::Registry reg;
    auto db = Open(dir, clock, reg, false, &open_s);
    std::printf("start to ready after a clean shutdown: %.3f s (data dir %.1f MB)\n", open_s,
                static_cast<double>(db->DiskBytes()) / 1e6);
    // Two more minutes of scrapes, then a crash-like close (no checkpoint).
    std::vector<storage::SeriesRef> refs(n, 0);
    AppendScrapes(*db, refs, scrapes, scrapes + 8, clock);
    (void)db->Close();
  }
  {
    metrics::Registry reg;
    auto db = Open(dir, clock, reg, true, &open_s);
    std::printf("start to ready replaying 2 minutes of log: %.3f s\n", open_s);
    if (history_days > 0) {
      auto imp = db->NewImporter(20000000);
      const int64_t end = 1700000000000;
      const int64_t start = end - int64_t{history_days} * kMillisPerDay;
      uint64_t samples = 0;
      for (int s = 0; s < 20000; ++s) {
        Labels l{{"__name__", "history_metric"}, {"instance", "h" + std::to_string(s)}};
        for (int64_t t = start; t < end; t += kMillisPerMinute) {
          (void)(*imp)->Add(l, t, static_cast<double>((t / kMillisPerMinute) % 1000));
          ++samples;
        }
        if (s % 1000 == 999) (void)(*imp)->Flush();
      }
      (void)(*imp)->Flush();
      std::printf("imported %.1f M samples of history (%d days)\n",
                  static_cast<double>(samples) / 1e6, history_days);
    }
    (void)db->Close();
  }
  if (history_days > 0) {
    metrics::Registry reg;
    auto db = Open(dir, clock, reg, true, &open_s);
    std::printf("start to ready with %zu partitions (%.1f MB on disk): %.3f s\n",
                db->Partitions().size(), static_cast<double>(db->DiskBytes()) / 1e6, open_s);
    (void)db->Close();
  }
  std::filesystem::remove_all(dir);
  return 0;
}
