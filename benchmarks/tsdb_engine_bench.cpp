// The storage engine end to end, on the realistic data of benchmarks/tsdb_datagen.h:
//
//   BM_AppendCachedRef   appends per second by cached ref (one Commit = one scrape of all
//                        series, with the commit log written; the per-sample path)
//   BM_AppendNewSeries   appends that create their series
//   BM_SelectDecode      a select over many series and two hours of sealed data in RocksDB,
//                        iterated with NextBatch: decoded samples per second
//   BM_DiskBytesPerSample  bytes on disk per sample after sealing (partition column families,
//                        after a RocksDB flush and compaction), aligned and with ms jitter
//
//   ./build/benchmarks/bench_tsdb_engine --benchmark_min_time=0.5
//
// Runs on a temporary directory under $TMPDIR (or /tmp).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "benchmarks/tsdb_datagen.h"
#include "model/clock.h"
#include "model/metrics.h"
#include "tsdb/internal/db_impl.h"
#include "tsdb/tsdb.h"

namespace {

using namespace hearth;

class BenchDir {
 public:
  BenchDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("hearth_bench_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~BenchDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

struct Engine {
  BenchDir dir;
  ManualClock clock{1700000000000};
  metrics::Registry registry;
  std::unique_ptr<tsdb::DB> db;
  explicit Engine(int samples_per_chunk = 240) {
    tsdb::Options o(dir.path(), clock, registry);
    o.background_maintenance = false;
    o.retention_time_ms = 0;
    o.samples_per_chunk = samples_per_chunk;
    auto r = tsdb::OpenDB(o);
    if (!r.ok()) std::abort();
    db = std::move(*r);
  }
  ~Engine() { (void)db->Close(); }
};

// Appends by cached ref: each iteration is one scrape of every series, then Commit.
void BM_AppendCachedRef(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Engine e;
  bench::ScrapeGen gen(n, 7);
  std::vector<double> values;
  auto app = e.db->NewAppender();
  std::vector<storage::SeriesRef> refs(gen.size(), 0);
  int64_t t = gen.Next(&values);
  for (size_t i = 0; i < gen.size(); ++i) refs[i] = *app->Append(0, gen.series()[i].labels, t, values[i]);
  (void)app->Commit();
  // Values are drawn ahead so the generator stays out of the timing.
  std::vector<std::vector<double>> scrapes(64);
  std::vector<int64_t> times(64);
  for (size_t k = 0; k < scrapes.size(); ++k) times[k] = gen.Next(&scrapes[k]);
  int64_t shift = 0;
  size_t k = 0;
  static const Labels kNone;
  for (auto _ : state) {
    const auto& v = scrapes[k];
    const int64_t ts = times[k] + shift;
    for (size_t i = 0; i < refs.size(); ++i) (void)app->Append(refs[i], kNone, ts, v[i]);
    (void)app->Commit();
    if (++k == scrapes.size()) {
      k = 0;
      shift += times.back() - times.front() + 15000;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * refs.size()));
}
BENCHMARK(BM_AppendCachedRef)->Arg(10000)->Unit(benchmark::kMillisecond);

// Appends that create their series (labels looked up, series created, logged, indexed).
void BM_AppendNewSeries(benchmark::State& state) {
  Engine e;
  auto app = e.db->NewAppender();
  uint64_t id = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i, ++id) {
      Labels l{{"__name__", "pod_cpu_seconds_total"},
               {"namespace", "ns" + std::to_string(id % 50)},
               {"pod", "pod-" + std::to_string(id)},
               {"container", "app"}};
      (void)app->Append(0, l, 1700000000000, 1);
    }
    (void)app->Commit();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
}
BENCHMARK(BM_AppendNewSeries)->Unit(benchmark::kMillisecond);

// Fills an engine with `series` series x `scrapes` scrapes, then persists everything.
void Fill(Engine& e, size_t series, int scrapes, int jitter_ms, uint64_t* samples) {
  bench::ScrapeGen gen(series, 3, 15000, jitter_ms);
  std::vector<double> values;
  auto app = e.db->NewAppender();
  std::vector<storage::SeriesRef> refs(gen.size(), 0);
  *samples = 0;
  for (int k = 0; k < scrapes; ++k) {
    const int64_t t = gen.Next(&values);
    e.clock.Set(t);
    for (size_t i = 0; i < gen.size(); ++i) {
      refs[i] = *app->Append(refs[i], gen.series()[i].labels, t, values[i]);
    }
    (void)app->Commit();
    *samples += gen.size();
  }
  // Everything leaves the head: idle series are sealed and persisted.
  e.clock.Advance(2 * kMillisPerHour);
  (void)e.db->RunMaintenance();
}

// A select over all series and the whole range, iterating every sample with NextBatch.
void BM_SelectDecode(benchmark::State& state) {
  Engine e;
  uint64_t samples = 0;
  Fill(e, static_cast<size_t>(state.range(0)), 480, 0, &samples);  // two hours
  std::vector<Sample> buf(1024);
  uint64_t decoded = 0;
  auto job = Matcher::Make(MatchType::kEqual, "job", "api");
  std::vector<Matcher> ms{*job};
  for (auto _ : state) {
    auto q = e.db->NewQuerier(kMinTime, kMaxTime);
    auto set = (*q)->Select(false, storage::SelectHints{}, ms);
    decoded = 0;
    while (set->Next()) {
      auto it = set->At().Iterator();
      while (size_t n = it->NextBatch(buf)) decoded += n;
    }
  }
  if (decoded != samples) state.SkipWithError("select returned a different number of samples");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * decoded));
}
BENCHMARK(BM_SelectDecode)->Arg(10000)->Unit(benchmark::kMillisecond);

// Bytes on disk per sample after sealing: the partitions' SST files after a flush and full
// compaction, over the samples written. Also reports the whole data directory.
void BM_DiskBytesPerSample(benchmark::State& state) {
  uint64_t samples = 0, part_bytes = 0, dir_bytes = 0;
  for (auto _ : state) {
    Engine e;
    Fill(e, 1000, 1440, static_cast<int>(state.range(0)), &samples);  // six hours
    auto* impl = static_cast<tsdb::DBImpl*>(e.db.get());
    (void)impl->store()->Flush();
    part_bytes = 0;
    for (const auto& p : impl->store()->Partitions()) part_bytes += impl->store()->PartitionBytes(*p);
    dir_bytes = e.db->DiskBytes();
  }
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["partition_bytes_per_sample"] =
      static_cast<double>(part_bytes) / static_cast<double>(samples);
  state.counters["dir_bytes_per_sample"] =
      static_cast<double>(dir_bytes) / static_cast<double>(samples);
}
BENCHMARK(BM_DiskBytesPerSample)
    ->Arg(0)
    ->Arg(3)
    ->ArgName("jitter_ms")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
