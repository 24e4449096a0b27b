#pragma once

// The scrape manager: one scrape pool per job of the config, one loop per target, all on a
// small Boost.Asio thread pool (thousands of targets on a few threads).
//
// Targets come from the job's static_configs and http_sd_configs (handled here) and from
// SetTargetGroups(), which main feeds with what file_sd / dns_sd discovery finds. Each loop
// scrapes at a stable offset within its interval (a hash of the target), appends the samples
// of one scrape through one storage::Appender and commits once, with one timestamp.
//
// ApplyConfig() is the reload: jobs whose config is unchanged keep their loops and caches;
// changed jobs get new loops (the scrape caches carry over when the series mapping is the
// same); targets and jobs that disappear stop, writing staleness markers.
//
// Usage (cmd/hearth/main.cpp):
//
//   scraper::ScrapeManagerOptions o;
//   o.clock = &clock; o.registry = &registry; o.logger = logger;
//   scraper::ScrapeManager scrapes(storage, o);
//   if (Status st = scrapes.ApplyConfig(*config); !st.ok()) ...   // at start and on reload
//   discovery: scrapes.SetTargetGroups(job, "file_sd/0", groups);
//   shutdown:  scrapes.Stop();   // staleness markers for every target, then joins
//
// Thread-safety: every public method may be called from any thread.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "model/clock.h"
#include "model/log.h"
#include "model/metrics.h"
#include "model/status.h"
#include "scraper/target.h"
#include "tsdb/storage/storage.h"

namespace hearth::scraper {

struct ScrapeManagerOptions {
  int threads = 2;                     // I/O threads for all loops
  const Clock* clock = nullptr;        // wall time of samples; default: a RealClock
  metrics::Registry* registry = nullptr;  // self-metrics (prometheus_target_*); optional
  Logger logger = Logger::Discard();
  std::string user_agent = "Prometheus/3.0.0";
  // Start each target's first scrape at its hash-derived offset within the interval (as
  // Prometheus). Tests turn it off to scrape at once.
  bool offset_scrapes = true;
  uint64_t offset_seed = 0;  // mixed into the offsets (Prometheus: hostname + external labels)
};

class ScrapeManager {
 public:
  ScrapeManager(storage::Appendable& storage, ScrapeManagerOptions options);
  ~ScrapeManager();  // Stop()
  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // Makes `config`'s scrape_configs the running set. A job whose HTTP client settings cannot
  // be loaded (a missing CA file, ...) is skipped and named in the returned error; every other
  // job is applied.
  Status ApplyConfig(const Config& config);

  // Replaces the target groups that `provider` (e.g. "file_sd/0") found for `job`. Groups for
  // a job that is not configured are kept until it is.
  void SetTargetGroups(const std::string& job, const std::string& provider,
                       std::vector<TargetGroup> groups);

  // Stops every loop (staleness markers for all series, commit), http_sd, and the threads.
  // Idempotent; the manager accepts nothing afterwards.
  void Stop();

  // --- Read API for web/ (/api/v1/targets, /api/v1/targets/metadata, /api/v1/metadata) ---
  // Active targets sorted by job then scrape URL.
  std::vector<TargetState> ActiveTargets() const;
  std::vector<DroppedTarget> DroppedTargets() const;
  // Metadata of every active target.
  std::vector<TargetMetadata> TargetsMetadata() const;
  // Job names of the current config, sorted.
  std::vector<std::string> ScrapePools() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::scraper
