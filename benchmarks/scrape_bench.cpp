// The scrape path. Figures: samples/s of parse + cache + append + commit for one 5000-series
// scrape (in process), and CPU seconds per million samples of the whole path (HTTP, gunzip,
// parse, cache, append, commit) for 20 targets x 5000 series served by a separate process, so
// that only the scraper's (and the storage's) CPU is measured.
//
//   ./build/benchmarks/bench_scrape
//   ./build/benchmarks/bench_scrape --benchmark_filter=HTTP   # the whole path only
#include <benchmark/benchmark.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <zlib.h>

#include "scraper/manager.h"
#include "scraper/scrape_cache.h"
#include "tsdb/storage/memstore.h"
#include "web/http.h"

namespace {

using namespace hearth;

constexpr int kTargets = 20;
constexpr int kSeries = 5000;

std::string MakeBody(int series, int seed) {
  static const char* kFamilies[] = {"node_cpu_seconds_total", "node_network_receive_bytes_total",
                                    "node_filesystem_avail_bytes",
                                    "http_request_duration_seconds_bucket",
                                    "process_resident_memory_bytes", "go_gc_duration_seconds"};
  std::string out;
  int n = 0;
  for (int fam = 0; n < series; ++fam) {
    std::string name = fmt::format("{}_{}", kFamilies[fam % 6], fam / 6);
    out += fmt::format("# HELP {} Help text for family {}.\n# TYPE {} {}\n", name, fam, name,
                       fam % 3 == 0 ? "counter" : "gauge");
    for (int i = 0; i < 50 && n < series; ++i, ++n) {
      switch (i % 4) {
        case 0: out += fmt::format("{} {}\n", name, n * 1.5 + seed); break;
        case 1: out += fmt::format("{}{{cpu=\"{}\",mode=\"idle\"}} {}\n", name, i, 123456.78 + n); break;
        case 2:
          out += fmt::format("{}{{device=\"eth{}\",fstype=\"ext4\",mountpoint=\"/var/lib/{}\"}} {}\n",
                             name, i, n, 1e9 + n * 0.001);
          break;
        default:
          out += fmt::format("{}{{le=\"{}\",method=\"GET\",path=\"/api/v1/query\",code=\"200\"}} {}\n",
                             name, 0.005 * i, n + seed);
      }
    }
  }
  return out;
}

std::string Gzip(std::string_view in) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// Storage that only counts: isolates the scraper's own cost.
class CountingStorage final : public storage::Appendable {
 public:
  class App final : public storage::Appender {
   public:
    explicit App(CountingStorage* s) : s_(s) {}
    Result<storage::SeriesRef> Append(storage::SeriesRef ref, const Labels& l, int64_t, double,
                                      const storage::AppendOptions&) override {
      ++pending_;
      return ref ? ref : (l.Hash() | 1);
    }
    Status UpdateMetadata(const Labels&, const MetricMetadata&) override { return Status::Ok(); }
    Status Commit() override {
      s_->samples += pending_;
      pending_ = 0;
      return Status::Ok();
    }
    Status Rollback() override {
      pending_ = 0;
      return Status::Ok();
    }

   private:
    CountingStorage* s_;
    uint64_t pending_ = 0;
  };
  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(this); }
  std::atomic<uint64_t> samples{0};
};

void BM_ScrapeAppend(benchmark::State& state, bool memstore) {
  std::string body = MakeBody(kSeries, 0);
  scraper::ScrapeCache cache(Labels{{"job", "node"}, {"instance", "10.0.0.1:9100"}}, {});
  CountingStorage counting;
  storage::MemStore mem;
  storage::Appendable& st = memstore ? static_cast<storage::Appendable&>(mem) : counting;
  int64_t t = 1'700'000'000'000;
  int64_t n = 0;
  for (auto _ : state) {
    auto app = st.NewAppender();
    auto r = cache.Append(*app, body, "text/plain; version=0.0.4", t);
    cache.AppendReport(*app, t, true, 0.01, r);
    if (!app->Commit().ok() || !r.error.ok()) state.SkipWithError("append failed");
    t += 15000;
    n += static_cast<int64_t>(r.samples_scraped);
    if (memstore && state.iterations() % 50 == 0) {
      state.PauseTiming();
      mem.Clear();  // the reference model copies whole series per commit; keep them short
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(n);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK_CAPTURE(BM_ScrapeAppend, counting_storage, false);
BENCHMARK_CAPTURE(BM_ScrapeAppend, memstore, true);

int g_ports[kTargets];
pid_t g_child = 0;

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The whole path: 20 targets x 5000 series, gzip, scraped every second for 10 s.
void BM_ScrapePath_HTTP(benchmark::State& state, bool memstore) {
  for (auto _ : state) {
    CountingStorage counting;
    storage::MemStore mem;
    storage::Appendable& st = memstore ? static_cast<storage::Appendable&>(mem) : counting;
    scraper::ScrapeManagerOptions o;
    o.threads = 2;
    scraper::ScrapeManager mgr(st, o);
    Config cfg;
    ScrapeConfig job;
    job.job_name = "node";
    job.scrape_interval_ms = 1000;
    job.scrape_timeout_ms = 1000;
    TargetGroup g;
    for (int port : g_ports) {
      g.targets.push_back(Labels{{"__address__", fmt::format("127.0.0.1:{}", port)}});
    }
    job.service_discovery.static_configs.push_back(g);
    cfg.scrape_configs.push_back(job);
    // Warm up: one full round fills caches (new series are the slow path).
    if (!mgr.ApplyConfig(cfg).ok()) state.SkipWithError("config");
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
    double cpu0 = CpuSeconds();
    uint64_t samples0 = 0;
    if (!memstore) samples0 = counting.samples.load();
    std::vector<scraper::TargetState> t0 = mgr.ActiveTargets();
    auto wall0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(10));
    double cpu = CpuSeconds() - cpu0;
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    double samples = memstore ? 10.0 * kTargets * (kSeries + 5) : 
                                static_cast<double>(counting.samples.load() - samples0);
    mgr.Stop();
    int up = 0;
    for (const auto& t : mgr.ActiveTargets()) up += t.health == scraper::TargetHealth::kUp;
    (void)up;
    state.counters["samples"] = samples;
    state.counters["cpu_s"] = cpu;
    state.counters["wall_s"] = wall;
    state.counters["cpu_s_per_1M_samples"] = cpu / (samples / 1e6);
  }
}
BENCHMARK_CAPTURE(BM_ScrapePath_HTTP, counting_storage, false)->Iterations(1)->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(BM_ScrapePath_HTTP, memstore, true)->Iterations(1)->Unit(benchmark::kSecond);

// Serves the 20 targets from a child process; writes their ports to `fd`.
[[noreturn]] void ServeTargets(int fd) {
  std::vector<std::unique_ptr<web::HttpServer>> servers;
  for (int i = 0; i < kTargets; ++i) {
    auto gz = std::make_shared<std::string>(Gzip(MakeBody(kSeries, i)));
    web::HttpServerOptions o;
    o.listen_address = "127.0.0.1:0";
    o.worker_threads = 1;
    auto s = web::HttpServer::Start(
        o,
        [gz](const web::HttpRequest&, web::HttpResponse& res) {
          res.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
          res.SetHeader("Content-Encoding", "gzip");
          res.body = *gz;
        },
        Logger::Discard());
    if (!s.ok()) _exit(1);
    int port = (*s)->port();
    if (write(fd, &port, sizeof port) != sizeof port) _exit(1);
    servers.push_back(std::move(*s));
  }
  close(fd);
  while (true) pause();
}

}  // namespace

int main(int argc, char** argv) {
  int fds[2];
  if (pipe(fds) != 0) return 1;
  g_child = fork();
  if (g_child == 0) {
    close(fds[0]);
    ServeTargets(fds[1]);
  }
  close(fds[1]);
  for (int& p : g_ports) {
    if (read(fds[0], &p, sizeof p) != sizeof p) return 1;
  }
  close(fds[0]);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  kill(g_child, SIGKILL);
  waitpid(g_child, nullptr, 0);
  return 0;
}
